"""The data sets a configured model trains on: built-ins (moons, circles, digits) and ``.npz`` files.

A config's ``datasets:`` entry is ``{builtin: NAME, ...options}`` or ``{file: PATH.npz}``. Each is
made once, by the workflow's ``model_dataset`` rule, into an ``.npz`` with the four arrays of
:class:`~initlab.engine.data.Split`, so training jobs load numpy arrays and never import
scikit-learn. Every split is checked by :func:`check_split` before it is written, and a file's by
:func:`check_file` while the workflow builds its DAG: keys present, labels integer classes
``0..C-1``, features and labels of matching lengths; a mistake is one line naming the data set.

Built-ins:

- ``moons``: the lesson's make_moons split, made by ``initlab.engine.data.make_moons_split``
  itself, so it is the same arrays as ``results/data/moons.npz`` for the same options.
- ``circles``: scikit-learn's make_circles (two classes, an inner and an outer ring), split
  stratified like moons.
- ``digits``: scikit-learn's ``load_digits`` (1797 8x8 grey images of 10 digits, shipped with
  scikit-learn, so offline), split stratified. Pixels are divided by 16, their known maximum, to
  [0, 1]. Not standardised: the border pixels are 0 in almost every image, so a per-pixel std is
  0 or tiny and dividing by it blows noise up to unit scale; and a fixed divisor needs no
  statistics of the split, so train and validation are scaled alike by construction. Images
  have shape (N, 1, 8, 8) (one channel, for ``nn.Conv2d``), or (N, 64) with ``flatten: true``.

Pure numpy at import; scikit-learn is imported inside the builders only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from initlab.engine.data import MoonsSpec, Split, make_moons_split
from initlab.engine.registry import lookup

#: The arrays a data set file holds (``initlab.engine.data.save_split`` writes them).
SPLIT_KEYS = ("x_train", "y_train", "x_val", "y_val")
#: load_digits' pixels are integers 0..16: dividing by this puts them in [0, 1].
DIGITS_MAX_PIXEL = 16.0
#: Samples of a file data set a model check runs through a model (``initlab.study.models``).
CHECK_SAMPLES = 4


class DatasetError(ValueError):
    """A data set that cannot be used as configured: one line naming it and what was expected."""


@dataclass(frozen=True)
class Builtin:
    """One built-in data set: its options with defaults, its sample shape and classes, its maker."""

    name: str
    #: Option -> default (the config may override each; unknown options are refused).
    defaults: Mapping[str, Any]
    #: Shape of one sample (without the batch axis), given the resolved options.
    sample_shape: Callable[[Mapping[str, Any]], tuple[int, ...]]
    classes: int
    make: Callable[[Mapping[str, Any]], Split]


def _stratified(x: np.ndarray, y: np.ndarray, test_size: float, random_state: int) -> Split:
    """The moons split's recipe: indices split stratified by label with ``random_state``."""
    from sklearn.model_selection import train_test_split

    x = x.astype(np.float32)
    train_idx, val_idx = train_test_split(np.arange(len(x)), test_size=test_size, random_state=random_state, stratify=y)
    return Split(x[train_idx], y[train_idx].astype(np.int64), x[val_idx], y[val_idx].astype(np.int64))


def _moons(o: Mapping[str, Any]) -> Split:
    return make_moons_split(MoonsSpec(**o))


def _circles(o: Mapping[str, Any]) -> Split:
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=o["n_samples"], noise=o["noise"], factor=o["factor"], random_state=o["random_state"])
    return _stratified(x, y, o["test_size"], o["random_state"])


def _digits(o: Mapping[str, Any]) -> Split:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.data / DIGITS_MAX_PIXEL
    x = x if o["flatten"] else x.reshape(-1, 1, 8, 8)
    return _stratified(x, bunch.target, o["test_size"], o["random_state"])


_MOONS_DEFAULTS = {"n_samples": 600, "noise": 0.22, "random_state": 9, "test_size": 0.25}

BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin("moons", _MOONS_DEFAULTS, lambda o: (2,), 2, _moons),
        Builtin("circles", _MOONS_DEFAULTS | {"noise": 0.1, "factor": 0.5}, lambda o: (2,), 2, _circles),
        Builtin(
            "digits",
            {"test_size": 0.25, "random_state": 9, "flatten": False},
            lambda o: (64,) if o["flatten"] else (1, 8, 8),
            10,
            _digits,
        ),
    )
}


def builtin_options(name: str, definition: Mapping[str, Any]) -> tuple[Builtin, dict[str, Any]]:
    """The built-in a ``datasets`` entry names and its options (defaults filled in)."""
    builtin = lookup(BUILTINS, definition["builtin"], "built-in data set")
    options = {k: v for k, v in definition.items() if k != "builtin"}
    unknown = sorted(set(options) - set(builtin.defaults))
    if unknown:
        raise DatasetError(
            f"dataset {name!r}: unknown option(s) {', '.join(map(repr, unknown))} for builtin "
            f"{builtin.name}; allowed: {', '.join(builtin.defaults)}"
        )
    return builtin, dict(builtin.defaults) | options


def check_split(name: str, split: Split | Mapping[str, np.ndarray]) -> int:
    """Check a split's arrays; return its number of classes C (labels are 0..C-1).

    Keys present; labels 1-D integer arrays with values in 0..C-1, where C = the largest label + 1
    and every class occurs in the training labels (a class only the validation set has can never
    be learnt); features with one row per label and the same sample shape in train and validation.
    """
    arrays = split if isinstance(split, Mapping) else {k: getattr(split, k) for k in SPLIT_KEYS}
    missing = [k for k in SPLIT_KEYS if k not in arrays]
    if missing:
        raise DatasetError(
            f"dataset {name!r}: missing key(s) {', '.join(missing)}; expected arrays {', '.join(SPLIT_KEYS)}"
        )
    for part in ("train", "val"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise DatasetError(
                f"dataset {name!r}: y_{part} has dtype {y.dtype} and shape {y.shape}; "
                f"expected a 1-D array of integer class labels 0..C-1"
            )
        if len(y) == 0 or x.ndim < 2 or len(x) != len(y):
            raise DatasetError(
                f"dataset {name!r}: x_{part} has shape {x.shape} for {len(y)} labels; "
                f"expected (N, features...) with N = len(y_{part}) >= 1"
            )
        if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
            raise DatasetError(
                f"dataset {name!r}: x_{part} has dtype {x.dtype} or non-finite values; "
                f"expected finite floating-point features"
            )
    if arrays["x_train"].shape[1:] != arrays["x_val"].shape[1:]:
        raise DatasetError(
            f"dataset {name!r}: x_train samples have shape {arrays['x_train'].shape[1:]}, "
            f"x_val samples {arrays['x_val'].shape[1:]}; expected the same"
        )
    labels = np.concatenate([arrays["y_train"], arrays["y_val"]])
    classes = int(labels.max()) + 1
    if labels.min() < 0:
        raise DatasetError(
            f"dataset {name!r}: label {int(labels.min())} is not allowed; expected integer classes 0..{classes - 1}"
        )
    absent = sorted(set(range(classes)) - set(np.unique(arrays["y_train"]).tolist()))
    if classes < 2 or absent:
        raise DatasetError(
            f"dataset {name!r}: the training labels hold classes "
            f"{sorted(set(np.unique(arrays['y_train']).tolist()))}; expected every class 0..C-1 "
            f"(C >= 2){f', missing {absent}' if absent else ''}"
        )
    return classes


def load_file(name: str, path: str | Path) -> Split:
    """A data set ``.npz`` file, checked (:func:`check_split`), as float32 features and int64 labels."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(
            f"dataset {name!r}: file {str(path)!r} does not exist; expected an .npz with {', '.join(SPLIT_KEYS)}"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as err:  # not a zip, a pickled object array, ...
        raise DatasetError(
            f"dataset {name!r}: {str(path)!r} could not be read by numpy.load "
            f"({type(err).__name__}); expected an .npz with {', '.join(SPLIT_KEYS)}"
        ) from None
    check_split(name, arrays)
    return Split(
        arrays["x_train"].astype(np.float32),
        arrays["y_train"].astype(np.int64),
        arrays["x_val"].astype(np.float32),
        arrays["y_val"].astype(np.int64),
    )


@dataclass(frozen=True)
class DatasetInfo:
    """What a model check needs to know of a data set without making it: sample shape, classes."""

    sample_shape: tuple[int, ...]
    classes: int
    #: A few real training samples when the data set is a file, else None (the check uses zeros).
    sample: np.ndarray | None = None


def describe(name: str, definition: Mapping[str, Any]) -> DatasetInfo:
    """A ``datasets`` entry's sample shape and classes: read off a file (checked), known for a built-in."""
    if "file" in definition:
        split = load_file(name, definition["file"])
        return DatasetInfo(split.x_train.shape[1:], check_split(name, split), split.x_train[:CHECK_SAMPLES])
    builtin, options = builtin_options(name, definition)
    return DatasetInfo(builtin.sample_shape(options), builtin.classes)


def make(name: str, definition: Mapping[str, Any]) -> Split:
    """The split of one ``datasets`` entry, checked."""
    if "file" in definition:
        return load_file(name, definition["file"])
    builtin, options = builtin_options(name, definition)
    split = builtin.make(options)
    check_split(name, split)
    return split
