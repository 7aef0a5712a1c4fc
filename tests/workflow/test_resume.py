"""A local run killed with SIGKILL mid-way resumes with `--unlock` and the same command, to the byte."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from initlab.cli import main
from tests.harness import require_slow, run_snakemake, snakemake_command, write_config

#: The reproducible outputs compared with an uninterrupted run (MANIFEST.json: their row counts and hashes).
COMPARED = ["signal_probe.csv", "training.csv", "curves.csv", "lab_reproduction.csv", "MANIFEST.json"]
#: Longest wait for the killed run to get mid-way (one training job done): a hang guard, generous
#: for a busy 2-core machine.
MIDWAY_TIMEOUT_S = 1800


def _kill_midway(folder, config) -> None:
    """Start the study; once snakemake reports a train job finished, SIGKILL snakemake and its jobs.

    Killed then, the other running job is (almost surely) computing, not writing: a job writes
    its CSVs only at its end. (A job killed while writing leaves files that the next run calls
    incomplete; README, "After a failure, locally", says what to do then.)
    """
    require_slow("starts Snakemake")
    cmd = snakemake_command(folder, config, "--cores", "2")
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + MIDWAY_TIMEOUT_S
    try:
        for line in proc.stderr:
            if "(Rule: train)" in line and line.startswith("Finished"):
                break
            assert time.monotonic() < deadline, "no training job finished in time"
        else:
            raise AssertionError("the run ended before a training job finished")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and every job it started: nothing writes after this
        proc.wait()
        proc.stderr.close()


@pytest.mark.slow
def test_kill_9_then_unlock_then_same_command(quick_study, quick_config, tmp_path):
    reference = quick_study.folder  # the same config, run without interruption
    config = write_config(tmp_path, quick_config)
    _kill_midway(tmp_path, config)
    assert not (tmp_path / "results/tables/MANIFEST.json").exists(), "killed too late: nothing left to resume"

    locked = run_snakemake(tmp_path, config, "--cores", "2")
    # What snakemake tells the user to do: unlock (the usual case) or, when the kill caught a job
    # between writing its files and being marked done, rerun those incomplete files.
    assert locked.returncode != 0
    assert "--unlock" in locked.stderr or "--rerun-incomplete" in locked.stderr, locked.stderr[-2000:]
    told = ["--rerun-incomplete"] if "--rerun-incomplete" in locked.stderr else []

    unlock = run_snakemake(tmp_path, config, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    again = run_snakemake(tmp_path, config, "--cores", "2", *told)
    assert again.returncode == 0, again.stderr[-3000:]

    for name in COMPARED:
        ours = (tmp_path / "results/tables" / name).read_bytes()
        assert ours == (reference / "results/tables" / name).read_bytes(), name
    assert main(["verify", str(tmp_path / "results")]) == 0
