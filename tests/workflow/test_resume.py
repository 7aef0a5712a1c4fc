"""A local run killed with SIGKILL mid-way resumes with `--unlock` and the same command, to the byte."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from initlab.cli import main
from tests.workflow.helpers import quick_config, snakemake, snakemake_command, write_config

#: The reproducible outputs compared with an uninterrupted run (MANIFEST.json: their row counts and hashes).
COMPARED = ["signal_probe.csv", "training.csv", "curves.csv", "lab_reproduction.csv", "MANIFEST.json"]
#: Longest wait for the killed run to get mid-way (one training job done) on a busy 2-core machine.
MIDWAY_TIMEOUT_S = 600


def _kill_midway(folder, config) -> None:
    """Start the study; once a training job has written its table, SIGKILL snakemake and its jobs."""
    cmd = snakemake_command(folder, config, "--cores", "2")
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + MIDWAY_TIMEOUT_S
    try:
        while not list((folder / "results/train").rglob("training_seeds_*.csv")):
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no training job finished in time"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and every job it started: nothing writes after this
        proc.wait()


def test_kill_9_then_unlock_then_same_command(study, tmp_path):
    reference, _, _ = study  # the same config, run without interruption
    config = write_config(tmp_path, quick_config())
    _kill_midway(tmp_path, config)
    assert not (tmp_path / "results/tables/MANIFEST.json").exists(), "killed too late: nothing left to resume"

    locked = snakemake(tmp_path, config, "--cores", "2")
    assert locked.returncode != 0 and "--unlock" in locked.stderr  # what snakemake tells the user to do

    unlock = snakemake(tmp_path, config, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    again = snakemake(tmp_path, config, "--cores", "2")
    assert again.returncode == 0, again.stderr[-3000:]

    for name in COMPARED:
        ours = (tmp_path / "results/tables" / name).read_bytes()
        assert ours == (reference / "results/tables" / name).read_bytes(), name
    assert main(["verify", str(tmp_path / "results")]) == 0
