"""MoonMLP's start loss, theory against measurement: the sentence follows the data."""

from __future__ import annotations

import pandas as pd

import tests.synthetic as syn
from initlab.report.answers.theory_start import start_loss_comparison, start_loss_sentence
from initlab.study.tables import TABLE


def theory_start_of(training: pd.DataFrame, scale: dict[str, float] | None = None) -> pd.DataFrame:
    """Predictions equal to the measured median start loss, times ``scale[init]``."""
    keys = ["activation", "init", "depth", "width"]
    table = training.groupby(keys)["start_loss"].median().reset_index()
    table["start_loss"] *= table["init"].map(scale or {}).fillna(1.0)
    table["data_dependent"] = False
    table["logit_std"] = table["start_loss"]
    return table[TABLE["theory_start"].columns]


def test_start_loss_agreement_flips():
    training = syn.training_table()
    comparison = start_loss_comparison(training, theory_start_of(training))
    total = len(comparison)
    sentence = start_loss_sentence(comparison)
    assert (
        f"for {total} of {total} (activation, init, depth) cells, and inside the seeds' min–max range for {total}."
        in sentence
    )
    assert "theory predicts the worst start for large:" in sentence  # the synthetic lesson cell's huge start
    assert "In the lesson's cell (ReLU, depth 2, width 64)" in sentence
    off = start_loss_comparison(training, theory_start_of(training, {"he": 3.0}))
    he_cells = int((off["init"] == "he").sum())
    assert f"for {total - he_cells} of {total}" in start_loss_sentence(off)
    assert "worst start for He:" in start_loss_sentence(
        start_loss_comparison(training, theory_start_of(training, {"he": 100.0}))
    )


def test_no_start_theory():
    assert "No start-loss theory" in start_loss_sentence(start_loss_comparison(syn.training_table(), None))
