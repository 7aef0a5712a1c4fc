"""Training runs: cells and the run-failure criterion, shared by the training answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from initlab.engine.cells import TrainSpec
from initlab.report.answers.criteria import Criterion, first_match
from initlab.report.answers.tables import closest
from initlab.report.answers.text import display

#: The lesson's MoonMLP cell: 2 hidden layers of 64, ReLU, 120 steps.
LESSON_DEPTH = 2
LESSON_WIDTH = 64
LESSON_STEPS = 120
LESSON_ACTIVATION = "relu"
LESSON_OPTIMIZER = "adam"
#: Learning rate of each optimizer in the lesson and its exercise 3.
LESSON_LR = {"adam": 0.01, "sgd": 0.1}
#: Columns that identify a training cell (the cell's own fields); seeds vary inside a cell.
TRAINING_CELL = TrainSpec.ROW_FIELDS

#: A run shows no clear improvement when its loss did not at least halve:
#: every working init in the lesson ends below a tenth of its start loss,
#: zeros stays at exactly its start (0.693 -> 0.693).
NO_IMPROVEMENT_RATIO = 0.5
#: The lesson's task has two balanced classes (make_moons): a coin gets 0.5.
LESSON_CLASSES = 2
CHANCE_ACCURACY = 1 / LESSON_CLASSES
#: val_acc below chance plus this fraction of the way from chance to 1 is "near chance". With the
#: lesson's two classes that is 0.6: on its 150 validation points a coin's accuracy has sd 0.04,
#: so 0.6 is 2.5 sd above chance, while even a linear boundary scores ~0.85 on make_moons. With C
#: classes chance is 1/C (0.28 is the line for 10 classes).
NEAR_CHANCE_MARGIN = 0.2


def near_chance_accuracy(classes: int | float) -> float:
    """The "near chance" line for ``classes`` balanced classes (0.6 for the lesson's two)."""
    chance = 1 / classes
    return chance + NEAR_CHANCE_MARGIN * (1 - chance)


NEAR_CHANCE_ACCURACY = near_chance_accuracy(LESSON_CLASSES)


def classes_of(rows: pd.DataFrame) -> pd.Series | int:
    """Each row's class count: a configured model's rows record theirs (``classes``); the lesson's are 2."""
    return rows["classes"] if "classes" in rows.columns else LESSON_CLASSES


#: The run failure the claims also test on their own (zeros does not learn), so named here once.
NO_CLEAR_IMPROVEMENT = Criterion(
    "no clear improvement",
    f"end_loss >= {NO_IMPROVEMENT_RATIO:g} x start_loss",
    lambda d: ~(d["end_loss"] < NO_IMPROVEMENT_RATIO * d["start_loss"]),
)

RUN_FAILURES: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion(
            "diverged",
            "the loss became non-finite",
            lambda d: d["diverged"] | ~np.isfinite(d["end_loss"].astype(float)),
        ),
        NO_CLEAR_IMPROVEMENT,
        Criterion(
            "near chance",
            f"val_acc < 1/C + {NEAR_CHANCE_MARGIN:g} (1 − 1/C) for C classes ({NEAR_CHANCE_ACCURACY:g} for the "
            f"lesson's two, chance = {CHANCE_ACCURACY:g})",
            lambda d: ~(d["val_acc"] >= near_chance_accuracy(classes_of(d))),
        ),
    )
}


#: The run-failure criterion in words, defined once (the report's criteria list; the answers link to it).
RUN_FAILURE_CRITERION = (
    "A training run fails when "
    + "; or ".join(f"{c.description} ({c.name})" for c in RUN_FAILURES.values())
    + "; the first that applies names the failure."
)


def with_run_failure(training: pd.DataFrame) -> pd.DataFrame:
    """Training rows plus ``failure`` (first failed criterion or '') and ``failed``."""
    out = training.copy()
    out["failure"] = first_match(out, RUN_FAILURES)
    out["failed"] = out["failure"] != ""
    return out


def select_runs(training: pd.DataFrame, activation: str, optimizer: str, all_depths: bool = False) -> pd.DataFrame:
    """Rows of one activation/optimizer at the cell closest to the lesson's net.

    Depth (unless ``all_depths``), width, learning rate and steps are each set
    to the available value nearest to the lesson's, so the answers still use
    the lesson's net when the grid holds more cells, and the closest one when
    a study was configured without it (the sentence names the cell used).
    """
    rows = training[(training["activation"] == activation) & (training["optimizer"] == optimizer)]
    targets = {"width": LESSON_WIDTH, "lr": LESSON_LR.get(optimizer, math.nan), "steps": LESSON_STEPS}
    if not all_depths:
        targets = {"depth": LESSON_DEPTH, **targets}
    for col, target in targets.items():
        if len(rows) and not math.isnan(target):
            rows = rows[rows[col] == closest(rows[col].unique(), target)]
    return rows


def cell_text(rows: pd.DataFrame) -> str:
    """Human description of the training cell of ``rows`` (its first row), quoted in sentences."""
    first = rows.iloc[0]
    return (
        f"depth {first['depth']}, width {first['width']}, {display(first['activation'])}, "
        f"{display(first['optimizer'])} lr {first['lr']:g}, {first['steps']} steps"
    )


def seed_counts(notes: pd.Series) -> str:
    """'diverged in 3/10 seeds, stuck in 1/10 seeds': each non-empty note with its count out of the
    seeds (one row per seed), so a reader never has to guess what a bare count counts."""
    counts = notes[notes != ""].value_counts()
    return ", ".join(f"{name} in {n}/{len(notes)} seeds" for name, n in counts.items())


def failure_counts(failures: pd.Series) -> str:
    return seed_counts(failures) or "—"
