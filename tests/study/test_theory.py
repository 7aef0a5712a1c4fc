"""The theory table (initlab.study.theory) against a small real probe run, and its CLI."""

from __future__ import annotations

import csv
import math
import subprocess
import sys

import pandas as pd
import pytest

from initlab.engine.probe import probe_grid
from initlab.study.tables import TABLE
from initlab.study.theory import probe_theory, theory_grid

#: Inits whose variance the registry states (not data-dependent) and that keep a signal alive.
DETERMINISTIC = ["default", "xavier", "he", "xavier_uniform", "lecun", "orthogonal"]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_prediction_within_ten_percent_of_a_small_probe_run(activation: str) -> None:
    depths, width = [2, 4], 128
    measured = pd.DataFrame(probe_grid([0, 1, 2], activation, DETERMINISTIC, depths, width))
    predicted = pd.DataFrame(theory_grid([activation], DETERMINISTIC, depths, width))
    keys = ["activation", "init", "depth", "layer"]
    both = measured.merge(predicted, on=keys, suffixes=("", "_theory"))
    both["rel"] = (both["std_theory"] - both["std"]).abs() / both["std"]
    per_init = both.groupby("init")["rel"].median()
    assert (per_init < 0.10).all(), per_init
    # Backward: the first layer's ||dL/dh|| too (the gradient-vanished criterion's numerator).
    grads = (both["act_grad_norm_theory"] - both["act_grad_norm"]).abs() / both["act_grad_norm"]
    assert grads.median() < 0.10


def test_lsuv_is_unit_variance_by_construction() -> None:
    rows = probe_theory("tanh", "lsuv", 3, 64)
    assert all(r["data_dependent"] and r["q"] == 1.0 for r in rows)


def test_default_init_has_biases() -> None:
    # PyTorch's default draws biases U(+-1/sqrt(fan_in)): the first layer's q is 1/3 + 1/(3*32).
    first = probe_theory("relu", "default", 2, 128)[0]
    assert first["q"] == pytest.approx(1 / 3 + 1 / 96)


def _grid(activations, inits, depths, width, custom=None) -> str:
    """The ``--grid`` a theory rule passes, from a config's probe section."""
    import json

    from initlab.study.axes import theory_grid

    config = {
        "inits": inits,
        "custom_inits": custom or {},
        "probe": {"activations": activations, "depths": depths, "width": width},
    }
    return json.dumps(theory_grid(config, "probe"))


def test_cli_writes_the_table(tmp_path) -> None:
    out = tmp_path / "theory.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "initlab",
            "theory",
            "--grid",
            _grid(["relu", "tanh"], ["he", "tiny"], [2, 4], 16),
            "--out",
            str(out),
        ],
        check=True,
    )
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == TABLE["theory"].columns
    assert len(rows) == 2 * 2 * (2 + 4)
    assert {r["failure"] for r in rows if r["init"] == "tiny" and r["depth"] == "4"} == {"vanished"}
    assert {r["failure"] for r in rows if r["init"] == "he"} == {""}


def test_cli_names_an_unknown_activation(tmp_path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "initlab",
            "theory",
            "--grid",
            _grid(["swish"], ["he"], [2], 16),
            "--out",
            str(tmp_path / "t.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("initlab theory: error:") and "swish" in done.stderr
    assert "Traceback" not in done.stderr


def test_moon_start_loss() -> None:
    from initlab.study.theory import moon_start

    zeros = moon_start("relu", "zeros", 2, 64, input_second_moment=0.6)
    assert zeros["logit_std"] == 0.0 and zeros["start_loss"] == pytest.approx(math.log(2))
    assert moon_start("tanh", "lsuv", 4, 64, 0.6)["logit_std"] == 1.0
    # He + ReLU: q1 = fan_in * (2 / fan_in) * m0 = 2 * 0.5 = 1, kept by every ReLU layer (sigma_w2 = 2);
    # the logits get 64 * (2 / 64) * E[h^2] = 2 * q / 2 = 1.
    he = moon_start("relu", "he", 2, 64, input_second_moment=0.5)
    assert he["logit_std"] == pytest.approx(1.0)
    large = moon_start("relu", "large", 2, 64, input_second_moment=0.5)
    assert large["start_loss"] > 10 * he["start_loss"]


def test_cli_covers_every_width_and_custom_inits(tmp_path):
    """A width sweep gets theory for each width; a custom init is predicted from its definition."""
    import csv

    from initlab.cli import main

    out = tmp_path / "theory.csv"
    custom = {"mine": {"kind": "normal", "std": 0.05}}
    assert main(["theory", "--grid", _grid(["relu"], ["he", "mine"], [2], [16, 64], custom), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert {(r["init"], r["width"]) for r in rows} == {("he", "16"), ("he", "64"), ("mine", "16"), ("mine", "64")}
