"""The Lab 2 data set: make_moons with a stratified train/validation split.

Made once (scikit-learn is imported only here, inside ``make_moons_split``) and saved to an
``.npz`` file, so training jobs load four arrays with numpy instead of paying for sklearn's import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class MoonsSpec:
    """Parameters of the data set; the defaults are the lesson's."""

    n_samples: int = 600
    noise: float = 0.22
    random_state: int = 9
    test_size: float = 0.25


@dataclass(frozen=True)
class Split:
    """Train and validation arrays: float32 features, int64 labels (what CrossEntropyLoss needs)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def make_moons_split(spec: MoonsSpec = MoonsSpec()) -> Split:
    """The lesson's data: make_moons, then a stratified split with the same random_state."""
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split

    if spec.n_samples < 4:
        raise ValueError(f"n_samples must be >= 4, got {spec.n_samples!r}")
    if not 0.0 < spec.test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {spec.test_size!r}")
    x, y = make_moons(n_samples=spec.n_samples, noise=spec.noise, random_state=spec.random_state)
    x = x.astype(np.float32)
    train_idx, val_idx = train_test_split(
        np.arange(len(x)), test_size=spec.test_size, random_state=spec.random_state, stratify=y
    )
    return Split(x[train_idx], y[train_idx].astype(np.int64), x[val_idx], y[val_idx].astype(np.int64))


def save_split(split: Split, path: str | Path) -> None:
    """Write the split to ``path`` (.npz, uncompressed: byte-identical for identical arrays)."""
    np.savez(path, x_train=split.x_train, y_train=split.y_train, x_val=split.x_val, y_val=split.y_val)


def load_split(path: str | Path) -> Split:
    """Read a split written by ``save_split``."""
    with np.load(path) as f:
        return Split(f["x_train"], f["y_train"], f["x_val"], f["y_val"])
