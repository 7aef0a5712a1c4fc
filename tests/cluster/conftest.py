"""Fixtures for the tests that run real SLURM jobs on a local single-node cluster.

Tests marked ``cluster`` (and ``slow``) skip when SLURM/munge are not installed (or we are not
root) -- unless ``INITLAB_REQUIRE_SLURM=1`` is set (CI sets it), in which case they fail, so a
broken install cannot hide behind a skip. The markers are registered in pyproject.toml.
"""

from __future__ import annotations

import os

import pytest

from .slurm import local_slurm, slurm_unavailable_reason


def slurm_required() -> bool:
    return os.environ.get("INITLAB_REQUIRE_SLURM", "") not in ("", "0", "false", "no")


@pytest.fixture
def require_slurm() -> None:
    """Skip (or, with INITLAB_REQUIRE_SLURM=1, fail) when SLURM cannot run here."""
    reason = slurm_unavailable_reason()
    if reason is None:
        return
    if slurm_required():
        pytest.fail(f"INITLAB_REQUIRE_SLURM=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def slurm_cluster(require_slurm, tmp_path):
    """A running local SLURM cluster (LocalSlurm), stopped after the test."""
    with local_slurm(tmp_path / "slurm") as cluster:
        yield cluster
