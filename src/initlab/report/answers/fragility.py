"""The fragility map: init x learning rate -> failure rate over seeds, per activation and optimizer.

The lesson's debugging checklist asks "is the learning rate too high?", and Exercise 3 is one
point of that curve (SGD at lr 0.1). When the study sweeps learning rates (``training.optimizers``
with a list), this module reads the whole curve from the training table: for each init, the
largest learning rate at which it still trains in every seed, and the first learning rate above
that at which it fails, with the failure mode (``runs.RUN_FAILURES``: diverged / no clear
improvement / near chance). The other axes sit at the lesson's point (the closest depth, width
and steps, as every training answer picks them), and the sentences name that point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from initlab.report.answers.criteria import criteria_text
from initlab.report.answers.runs import (
    LESSON_DEPTH,
    LESSON_LR,
    LESSON_STEPS,
    LESSON_WIDTH,
    RUN_FAILURES,
    with_run_failure,
)
from initlab.report.answers.tables import closest, init_order
from initlab.report.answers.text import capitalised, display

#: An init "trains" at a learning rate only when it fails in none of the seeds: a single seed
#: that diverges is exactly the fragility the map is for (Exercise 3 counts seeds the same way).
TRAINS_MAX_FAILURE_RATE = 0.0
#: A map needs at least this many learning rates in a cell; with one there is no curve to read.
MIN_LEARNING_RATES = 2
#: Columns of :func:`fragility_table`.
FRAGILITY_COLUMNS = [
    "activation",
    "optimizer",
    "depth",
    "width",
    "steps",
    "init",
    "lr",
    "lesson_lr",
    "failing",
    "seeds",
    "failure_rate",
    "median_end_loss",
    "mode",
]


#: The map's criterion, as the report prints it.
FRAGILITY_CRITERION = (
    "an init trains at a learning rate when none of its seeds fails; a run fails when "
    f"{criteria_text(RUN_FAILURES)}; the other axes sit at the lesson's point (closest depth, width, steps)"
)


@dataclass(frozen=True)
class FragilityCell:
    """One activation x optimizer: its point on the other axes and a sentence per init."""

    activation: str
    optimizer: str
    point: str  # "depth 2, width 64, 120 steps; the lesson's lr 0.01"
    sentences: dict[str, str]
    first_failure: dict[str, float]  # init -> first failing lr above its last training one (NaN: none)


def _at_lesson_point(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows at the depth, width and steps closest to the lesson's (every learning rate kept)."""
    for col, target in (("depth", LESSON_DEPTH), ("width", LESSON_WIDTH), ("steps", LESSON_STEPS)):
        if len(rows):
            rows = rows[rows[col] == closest(rows[col].unique(), target)]
    return rows


def _mode(failures: pd.Series) -> str:
    """The most common failure mode among failing seeds (ties: the registry's order), or ''."""
    failing = failures[failures != ""]
    if failing.empty:
        return ""
    counts = failing.value_counts()
    order = list(RUN_FAILURES)
    return min(counts.index, key=lambda name: (-counts[name], order.index(name)))


def swept_cells(training: pd.DataFrame) -> list[tuple[str, str]]:
    """(activation, optimizer) pairs with at least :data:`MIN_LEARNING_RATES` learning rates."""
    counts = training.groupby(["activation", "optimizer"])["lr"].nunique()
    return [key for key, n in counts.items() if n >= MIN_LEARNING_RATES]


def fragility_table(training: pd.DataFrame) -> pd.DataFrame:
    """Failure rate over seeds (and median end loss, failure mode) per init and learning rate,
    for every swept activation x optimizer at the lesson's depth, width and steps."""
    parts = []
    for activation, optimizer in swept_cells(training):
        rows = training[(training["activation"] == activation) & (training["optimizer"] == optimizer)]
        rows = with_run_failure(_at_lesson_point(rows))
        grouped = rows.groupby(["init", "lr"], sort=True)
        table = grouped.agg(
            failing=("failed", "sum"),
            seeds=("seed", "nunique"),
            median_end_loss=("end_loss", "median"),
            mode=("failure", _mode),
        ).reset_index()
        first = rows.iloc[0]
        lesson_lr = LESSON_LR.get(optimizer, math.nan)
        table = table.assign(
            activation=activation,
            optimizer=optimizer,
            depth=first["depth"],
            width=first["width"],
            steps=first["steps"],
            failing=table["failing"].astype(int),
            failure_rate=table["failing"] / table["seeds"],
            lesson_lr=closest(rows["lr"].unique(), lesson_lr) if not math.isnan(lesson_lr) else math.nan,
        )
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=FRAGILITY_COLUMNS)
    out = pd.concat(parts, ignore_index=True)[FRAGILITY_COLUMNS]
    order = {name: i for i, name in enumerate(init_order(out["init"]))}
    return out.sort_values(
        ["activation", "optimizer", "init", "lr"], key=lambda s: s.map(order) if s.name == "init" else s
    ).reset_index(drop=True)


def init_sentence(init: str, curve: pd.DataFrame) -> tuple[str, float]:
    """One init's sentence from its rows of :func:`fragility_table` (one per lr), and its first
    failing learning rate (NaN: none).

    Read upwards, as the checklist's "is the learning rate too high?" asks: from the smallest
    learning rate at which the init trains in every seed, the largest one it keeps training at
    without a gap, and the next one up, where it fails. Failures below that range (too slow to
    train in ``steps``) and learning rates above the first failure where it trains again are
    named too, so no row of the map is hidden by the summary.
    """
    curve = curve.sort_values("lr").reset_index(drop=True)
    name = capitalised(display(init))
    ok = curve["failure_rate"] <= TRAINS_MAX_FAILURE_RATE

    def failing_text(row: pd.Series) -> str:
        return f"lr {row['lr']:g} ({row['mode']} in {row['failing']}/{row['seeds']} seeds)"

    if not ok.any():
        low = curve.iloc[0]
        return f"{name} fails at every learning rate tried, already at {failing_text(low)}.", float(low["lr"])
    lo = int(ok.idxmax())  # first training row
    hi = lo
    while hi + 1 < len(curve) and ok[hi + 1]:
        hi += 1
    top = curve.loc[hi, "lr"]
    # "up to" when the range starts at the smallest lr; "from" or "only at" when it starts higher.
    span = "up to" if lo == 0 else (f"from lr {curve.loc[lo, 'lr']:g} up to" if lo < hi else "only at")
    if hi + 1 == len(curve):
        largest = "the largest learning rate tried, " if span != "only at" else ""
        text = f"{name} trains in every seed {span} {largest}lr {top:g}"
        first = math.nan
    else:
        row = curve.loc[hi + 1]
        text = f"{name} trains in every seed {span} lr {top:g} and first fails at {failing_text(row)}"
        first = float(row["lr"])
        again = curve.loc[hi + 2 :][ok.loc[hi + 2 :]]
        if not again.empty:
            text += "; it trains in every seed again at " + ", ".join(f"lr {v:g}" for v in again["lr"])
    below = curve.loc[: lo - 1]
    if not below.empty:
        text += "; below that it fails at " + ", ".join(failing_text(r) for _, r in below.iterrows())
    return text + ".", first


def fragility_cells(training: pd.DataFrame) -> list[FragilityCell]:
    """A :class:`FragilityCell` per swept activation x optimizer (empty when nothing is swept)."""
    table = fragility_table(training)
    cells = []
    for (activation, optimizer), rows in table.groupby(["activation", "optimizer"], sort=True):
        first = rows.iloc[0]
        lesson = f"the lesson's lr {LESSON_LR[optimizer]:g}" if optimizer in LESSON_LR else "no lesson lr"
        point = f"depth {first['depth']}, width {first['width']}, {first['steps']} steps; {lesson}"
        if not math.isnan(first["lesson_lr"]) and first["lesson_lr"] != LESSON_LR.get(optimizer):
            point += f" (closest swept: {first['lesson_lr']:g})"
        sentences, first_failure = {}, {}
        for init in init_order(rows["init"]):
            sentences[init], first_failure[init] = init_sentence(init, rows[rows["init"] == init])
        cells.append(FragilityCell(activation, optimizer, point, sentences, first_failure))
    return cells


def first_failure_table(cells: list[FragilityCell]) -> pd.DataFrame:
    """Init x (activation, optimizer) -> the first learning rate at which it fails (NaN: never)."""
    data = {f"{c.activation} {c.optimizer}": pd.Series(c.first_failure) for c in cells}
    if not data:
        return pd.DataFrame()
    table = pd.DataFrame(data)
    return table.reindex(init_order(table.index)).rename_axis("init").reset_index()
