"""Data sets for configured models: the built-ins, .npz files, and one-line errors for bad ones."""

import numpy as np
import pytest

from initlab.engine import datasets
from initlab.engine.data import make_moons_split, save_split
from initlab.engine.datasets import (
    SPLIT_KEYS,
    DatasetError,
    check_split,
    describe,
    load_file,
    make,
)


def test_moons_is_the_lessons_split_exactly():
    a, b = make_moons_split(), make("m", {"builtin": "moons"})
    assert all(np.array_equal(getattr(a, k), getattr(b, k)) for k in SPLIT_KEYS)


@pytest.mark.parametrize(
    "definition, shape, classes",
    [
        ({"builtin": "circles"}, (2,), 2),
        ({"builtin": "digits"}, (1, 8, 8), 10),
        ({"builtin": "digits", "flatten": True}, (64,), 10),
    ],
)
def test_builtins_have_their_shape_classes_and_a_stratified_split(definition, shape, classes):
    split = make("d", definition)
    assert split.x_train.shape[1:] == shape == describe("d", definition).sample_shape
    assert check_split("d", split) == classes == describe("d", definition).classes
    assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int64
    # stratified: each class's share of train and validation within one sample of each other
    train = np.bincount(split.y_train) / len(split.y_train)
    val = np.bincount(split.y_val) / len(split.y_val)
    assert np.abs(train - val).max() < 2 / len(split.y_val)


def test_digits_pixels_are_scaled_to_the_unit_interval():
    split = make("d", {"builtin": "digits"})
    assert split.x_train.min() == 0.0 and split.x_train.max() == 1.0
    assert len(split.x_train) + len(split.x_val) == 1797


def _arrays(**changes):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.normal(size=(20, 3)).astype(np.float32),
        "y_train": np.arange(20) % 3,
        "x_val": rng.normal(size=(6, 3)).astype(np.float32),
        "y_val": np.arange(6) % 3,
    }
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"y_val": None}, "dataset 'mine': missing key(s) y_val; expected arrays x_train, y_train, x_val, y_val"),
        (
            {"y_train": (np.arange(20) % 3).astype(float)},
            "dataset 'mine': y_train has dtype float64 and shape (20,); "
            "expected a 1-D array of integer class labels 0..C-1",
        ),
        (
            {"y_val": np.array([0, 1, 2, 3, 1, 0])},
            "dataset 'mine': the training labels hold classes [0, 1, 2]; "
            "expected every class 0..C-1 (C >= 2), missing [3]",
        ),
        (
            {"y_val": np.array([0, 1, -1, 2, 1, 0])},
            "dataset 'mine': label -1 is not allowed; expected integer classes 0..2",
        ),
        ({"x_val": np.zeros((5, 3), np.float32)}, "dataset 'mine': x_val has shape (5, 3) for 6 labels"),
        (
            {"x_val": np.zeros((6, 4), np.float32)},
            "dataset 'mine': x_train samples have shape (3,), x_val samples (4,)",
        ),
    ],
)
def test_bad_splits_get_one_line_naming_the_data_set(changes, message):
    with pytest.raises(DatasetError) as err:
        check_split("mine", _arrays(**changes))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_file_is_read_checked_and_described(tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(path, **_arrays())
    info = describe("mine", {"file": str(path)})
    assert info.sample_shape == (3,) and info.classes == 3 and info.sample.shape == (datasets.CHECK_SAMPLES, 3)
    assert load_file("mine", path).x_train.dtype == np.float32
    np.savez(path, **_arrays(y_train=None))
    with pytest.raises(DatasetError, match=r"^dataset 'mine': missing key\(s\) y_train; expected arrays"):
        describe("mine", {"file": str(path)})
    with pytest.raises(DatasetError, match=r"^dataset 'mine': file '.*nope.npz' does not exist; expected an .npz"):
        describe("mine", {"file": str(tmp_path / "nope.npz")})
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(DatasetError, match=r"could not be read by numpy.load"):
        load_file("mine", tmp_path / "junk.npz")


def test_a_written_split_reads_back_identical(tmp_path):
    split = make("c", {"builtin": "circles", "n_samples": 100})
    save_split(split, tmp_path / "c.npz")
    again = load_file("c", tmp_path / "c.npz")
    assert all(np.array_equal(getattr(split, k), getattr(again, k)) for k in SPLIT_KEYS)


def test_unknown_builtin_or_option_is_named():
    with pytest.raises(
        ValueError, match="unknown built-in data set 'mnist'; valid built-in data sets: circles, digits, moons"
    ):
        make("d", {"builtin": "mnist"})
    with pytest.raises(DatasetError, match=r"^dataset 'd': unknown option\(s\) 'noise' for builtin digits; allowed:"):
        describe("d", {"builtin": "digits", "noise": 0.1})
