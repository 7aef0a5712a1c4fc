"""MoonMLP's start loss: theory's expected cross-entropy at initialisation (``theory_start.csv``)
against the measured ``start_loss`` of ``training.csv``.

The lesson says "large starts with a huge loss"; theory predicts how huge: the logits' std
follows from the init's variances through the hidden stack, and the expected two-class
cross-entropy from that std. Judged per (activation, init, depth) at the training width, over
every seed and optimizer (the start loss does not depend on the optimizer).
"""

from __future__ import annotations

import pandas as pd

from initlab.report.answers.runs import LESSON_ACTIVATION, LESSON_DEPTH
from initlab.report.answers.tables import closest
from initlab.report.answers.text import display, sig
from initlab.report.answers.theory import AGREEMENT_TOLERANCE

KEYS = ["activation", "init", "depth", "width"]
#: Relative slack of "inside the seeds' range": the measured loss is float32 (about 7 digits), so
#: zeros' log 2 prints 0.6931473 in every seed while theory's float64 says 0.6931472.
FLOAT32_RESOLUTION = 1e-6


def start_loss_comparison(training: pd.DataFrame, theory_start: pd.DataFrame | None) -> pd.DataFrame:
    """Per (activation, init, depth, width): measured median and min-max start loss over seeds, the
    prediction, its relative error to the median, and whether it lies inside the seeds' range."""
    columns = KEYS + ["measured_median", "seed_min", "seed_max", "predicted", "logit_std", "rel_error", "within_seeds"]
    if theory_start is None or theory_start.empty or training.empty:
        return pd.DataFrame(columns=columns)
    measured = training.groupby(KEYS)["start_loss"].agg(measured_median="median", seed_min="min", seed_max="max")
    predicted = theory_start.set_index(KEYS)[["start_loss", "logit_std"]].rename(columns={"start_loss": "predicted"})
    both = measured.join(predicted, how="inner").reset_index()
    both["rel_error"] = (both["predicted"] - both["measured_median"]).abs() / both["measured_median"]
    slack = 1.0 + FLOAT32_RESOLUTION
    both["within_seeds"] = (both["seed_min"] / slack <= both["predicted"]) & (
        both["predicted"] <= both["seed_max"] * slack
    )
    return both[columns]


def start_loss_sentence(comparison: pd.DataFrame) -> str:
    """How often theory's start loss is right, and the worst start in the lesson's cell as a prediction."""
    if comparison.empty:
        return "No start-loss theory (theory_start.csv): run the workflow's `theory_start` rule."
    total = len(comparison)
    close = int((comparison["rel_error"] <= AGREEMENT_TOLERANCE).sum())
    inside = int(comparison["within_seeds"].sum())
    sentence = (
        f"Theory's expected start loss (the cross-entropy at initialisation) is within {AGREEMENT_TOLERANCE:.0%} of "
        f"the measured median for {close} of {total} (activation, init, depth) cells, and inside the seeds' "
        f"min–max range for {inside}."
    )
    cell = comparison[comparison["activation"] == LESSON_ACTIVATION]
    if cell.empty:
        return sentence
    cell = cell[cell["depth"] == closest(cell["depth"].unique(), LESSON_DEPTH)]
    worst = cell.loc[cell["predicted"].idxmax()]
    return sentence + (
        f" In the lesson's cell ({display(worst['activation'])}, depth {worst['depth']}, width {worst['width']}) "
        f"theory predicts the worst start for {display(worst['init'])}: logit std {sig(worst['logit_std'])}, so an "
        f"expected start loss of {sig(worst['predicted'])}, against a measured median of "
        f"{sig(worst['measured_median'])} (seeds {sig(worst['seed_min'])}–{sig(worst['seed_max'])})."
    )
