"""Shared fixtures: torch pinned to one thread (the lab timings and the byte-exact replays
assume it), the lesson's data split, and the repository root."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def moons():
    from initlab.engine.data import make_moons_split

    return make_moons_split()


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
