"""Smoke test of the local single-node SLURM harness (tests/cluster/slurm.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .slurm import SLURM_CONF, local_slurm

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def test_sbatch_runs_one_job_and_daemons_stop(require_slurm, tmp_path: Path) -> None:
    conf_before = SLURM_CONF.read_bytes() if SLURM_CONF.exists() else None
    out = tmp_path / "hi.txt"

    with local_slurm(tmp_path / "slurm", start_timeout=30) as cluster:
        pids = dict(cluster.pids)
        assert set(pids) == {"munged", "slurmctld", "slurmd"}
        assert cluster.alive_pids() == pids
        assert cluster.slurmctld_log.exists()
        assert cluster.job_count() == 0

        job_id = cluster.sbatch_wrap(f"echo hi > {out}", "--job-name", "smoke")
        states = cluster.wait_for_jobs([job_id], timeout=60)
        assert states == {job_id: "COMPLETED"}, cluster.diagnostics()

        # the file may appear a moment after slurmctld reports completion
        deadline = time.monotonic() + 10
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert out.read_text() == "hi\n"

        jobs = cluster.submitted_jobs()
        assert [j.job_id for j in jobs] == [job_id]
        assert jobs[0].name == "smoke"
        assert jobs[0].state == "COMPLETED"
        assert cluster.job_count() == 1
        assert cluster.submitted_job_ids() == [job_id]

    assert cluster.alive_pids() == {}, f"daemons still alive: {cluster.alive_pids()}"
    assert cluster._leftover_pids() == []
    conf_after = SLURM_CONF.read_bytes() if SLURM_CONF.exists() else None
    assert conf_after == conf_before


def test_stops_daemons_when_body_raises(require_slurm, tmp_path: Path) -> None:
    class Boom(Exception):
        pass

    cluster = None
    with pytest.raises(Boom):
        with local_slurm(tmp_path / "slurm") as cluster:
            assert cluster.alive_pids()
            cluster.sbatch_wrap("sleep 300")
            raise Boom
    assert cluster is not None
    assert cluster.alive_pids() == {}
    assert cluster._leftover_pids() == []
