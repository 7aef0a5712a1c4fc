"""Lesson reproduction: both labs' printed values against the lesson's, every mismatch sized."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from initlab.report.answers.text import display, names

#: Lab 2 validates on 25 % of make_moons(n_samples=600): 150 examples, so
#: accuracy moves in steps of 1/150, not of its last printed digit.
LAB2_VAL_EXAMPLES = 150

#: Resolution of a printed metric: (unit name, step given the printed lesson value).
RESOLUTIONS: dict[str, tuple[str, Callable[[str], float]]] = {
    "val_acc": ("validation example", lambda printed: 1 / LAB2_VAL_EXAMPLES),
}
DEFAULT_RESOLUTION: tuple[str, Callable[[str], float]] = (
    "unit of the last printed digit",
    lambda printed: float(Decimal(1).scaleb(Decimal(printed.strip()).as_tuple().exponent)),
)

#: Size classes of a lesson-vs-measured difference, in resolution steps.
#: One step is what a floating-point reordering (another BLAS/library build)
#: produces on a value printed to a few digits; a few steps is drift of the
#: same behaviour; beyond that the behaviour itself differs.
MISMATCH_CLASSES: tuple[tuple[float, str, str], ...] = (
    (0, "identical as printed", "the printed values agree"),
    (1, "one resolution step", "the size of a floating-point rounding difference, e.g. a different library build"),
    (5, "a few steps", "numeric drift of the same behaviour"),
    (math.inf, "a real difference", "the behaviour differs from the lesson"),
)


@dataclass(frozen=True)
class LabReproduction:
    """Lesson vs measured values with every mismatch sized and explained."""

    table: pd.DataFrame
    sentence: str
    matched: int
    total: int


def classify_lab_rows(lab: pd.DataFrame) -> pd.DataFrame:
    """Add the resolution step, the difference in steps and its class to every row."""
    out = lab.copy()
    units, resolutions, steps, classes = [], [], [], []
    for row in out.itertuples():
        unit, step_of = RESOLUTIONS.get(row.metric, DEFAULT_RESOLUTION)
        step = step_of(row.lesson_value)
        diff = abs(float(row.measured_value) - float(row.lesson_value))
        n_steps = int(round(diff / step)) if math.isfinite(diff) else math.inf
        units.append(unit)
        resolutions.append(step)
        steps.append(n_steps)
        classes.append(next(label for limit, label, _ in MISMATCH_CLASSES if n_steps <= limit))
    out["resolution"] = resolutions
    out["unit"] = units
    out["steps_off"] = steps
    out["difference"] = classes
    return out


#: The labs' printed metrics in words (the table keeps its column keys).
METRIC_WORDS: dict[str, str] = {
    "first_std": "first-layer std",
    "last_std": "last-layer std",
    "last_zero": "last-layer share at 0",
    "last_saturated": "last-layer share saturated",
    "start_loss": "start loss",
    "end_loss": "end loss",
    "val_acc": "validation accuracy",
}


def lab_title(lab: str) -> str:
    """A lab's key as the lesson names it: 'lab2' -> 'Lab 2'."""
    return lab[:1].upper() + lab[1:3] + " " + lab[3:] if lab[:3] == "lab" and lab[3:].isdigit() else lab


def _steps(n_steps: float, unit: str) -> str:
    """'one validation example', '3 units of the last printed digit'."""
    if not math.isfinite(n_steps):
        return "a non-finite difference"
    if n_steps == 1:
        return f"one {unit}"
    head, of, rest = unit.partition(" of ")  # the noun before "of" takes the plural
    return f"{n_steps:g} {head}s{of}{rest}"


def lab_reproduction(lab: pd.DataFrame) -> LabReproduction:
    """Both labs against the lesson, with a computed explanation of each mismatch."""
    table = classify_lab_rows(lab)
    mismatches = table[~table["matches"]]
    matched, total = int(table["matches"].sum()), int(len(table))
    per_lab = "; ".join(
        f"{lab_title(name)}: {int(group['matches'].sum())} of {len(group)}"
        for name, group in table.groupby("lab", sort=True)
    )
    if mismatches.empty:
        return LabReproduction(table, f"Every value matches the lesson ({per_lab}).", matched, total)
    listed = names(
        [
            f"{lab_title(r.lab)}'s {display(r.row)} {METRIC_WORDS.get(r.metric, r.metric)} "
            f"({r.lesson_value} printed, {r.measured_value} measured: {_steps(r.steps_off, r.unit)})"
            for r in mismatches.itertuples()
        ]
    )
    present = set(mismatches["difference"])
    _, worst, meaning = [c for c in MISMATCH_CLASSES if c[1] in present][-1]
    if len(mismatches) == 1:
        judged = "It is"
    elif len(present) == 1:
        judged = "Each is"
    else:
        judged = "The largest is"
    count = "The value that differs is" if len(mismatches) == 1 else f"The {len(mismatches)} that differ are"
    sentence = f"{per_lab}. {count} {listed}. {judged} {worst}: {meaning}."
    return LabReproduction(table, sentence, matched, total)
