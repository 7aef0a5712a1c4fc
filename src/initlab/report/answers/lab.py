"""Lesson reproduction: both labs' printed values against the lesson's, every mismatch sized."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

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
    (math.inf, "real difference", "the behaviour differs from the lesson"),
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


def lab_reproduction(lab: pd.DataFrame) -> LabReproduction:
    """Both labs against the lesson, with a computed explanation of each mismatch."""
    table = classify_lab_rows(lab)
    mismatches = table[~table["matches"]]
    matched, total = int(table["matches"].sum()), int(len(table))
    per_lab = "; ".join(
        f"{name}: {int(group['matches'].sum())}/{len(group)} values as printed in the lesson"
        for name, group in table.groupby("lab", sort=True)
    )
    if mismatches.empty:
        return LabReproduction(table, f"Every value matches the lesson ({per_lab}).", matched, total)
    listed = "; ".join(
        f"{r.lab} {r.row} {r.metric} {r.lesson_value} → {r.measured_value} "
        f"({r.steps_off} step{'s' if r.steps_off != 1 else ''} of {r.resolution:.3g}, one {r.unit})"
        for r in mismatches.itertuples()
    )
    present = set(mismatches["difference"])
    _, worst, meaning = [c for c in MISMATCH_CLASSES if c[1] in present][-1]
    sentence = (
        f"{per_lab}. The {len(mismatches)} mismatch{'es' if len(mismatches) > 1 else ''}: {listed}. "
        f"The largest is '{worst}': {meaning}."
    )
    return LabReproduction(table, sentence, matched, total)
