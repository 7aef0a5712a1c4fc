"""Where the seeds differ: per cell, the difference of means with its permutation test and
interval, and whether A's and B's seeds look like draws from one distribution.

A cell is a table row without its seed (a training cell and init, a probe network).
With the same seeds on both sides the difference is paired by seed (the sign-flip
permutation test of the per-seed differences); otherwise seeds are relabelled between
A and B (:func:`stats.shift_tests`). Consistency of the spreads is a two-sample
Kolmogorov-Smirnov test: it compares the whole distribution over seeds without
assuming normality (losses are skewed). Over hundreds of cells about 5 % fail any 5 %
test by chance, so the summary says how many were expected, and a cell is called
different only after the false discovery rate is controlled across the metric's cells
(:func:`stats.called_different`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from initlab.report import stats
from initlab.report.answers.runs import TRAINING_CELL
from initlab.report.answers.tables import Tables

#: A cell's spreads are inconsistent when the KS test rejects one distribution at this
#: level (the report's 95 % confidence, as a test).
KS_ALPHA = 1 - stats.CONFIDENCE
#: A cell's mean is called different when its Benjamini-Hochberg adjusted p-value is below
#: this: at most 5 % of the cells called different are expected to be false alarms.
FDR_ALPHA = 1 - stats.CONFIDENCE


def _last_layer(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["layer"] == df["depth"]]


@dataclass(frozen=True)
class Metric:
    """A number compared over seeds: its table, the rows used, the cell columns, the value column."""

    table: str
    column: str
    cell: tuple[str, ...]
    select: Callable[[pd.DataFrame], pd.DataFrame] = lambda df: df
    description: str = ""


#: The headline numbers behind the answers: training outcome per cell and init, and the
#: probe's last-layer std (what Exercise 1's failure criteria read).
METRICS: dict[str, Metric] = {
    m.table + "." + m.column + ("@last layer" if m.table == "signal_probe" else ""): m
    for m in (
        Metric("training", "end_loss", (*TRAINING_CELL, "init"), description="final training loss"),
        Metric("training", "val_acc", (*TRAINING_CELL, "init"), description="validation accuracy"),
        Metric(
            "signal_probe",
            "std",
            ("activation", "init", "depth", "width"),
            _last_layer,
            "std of the last layer's output",
        ),
    )
}


@dataclass(frozen=True)
class DiffCI:
    """B's mean minus A's, its 95 % interval, its permutation p-value and how it was formed."""

    diff: float
    low: float
    high: float
    note: str
    p: float = math.nan


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _as_diff(test: stats.ShiftTest, paired: bool) -> DiffCI:
    note = f"paired: {test.note}" if paired and test.note else test.note
    return DiffCI(test.diff, test.low, test.high, note, test.p)


def diff_of_means(a: Sequence[float], b: Sequence[float], paired: bool) -> DiffCI:
    """mean(B) − mean(A) with its permutation test and the 95 % interval that inverts it (finite values)."""
    return _as_diff(stats.shift_test(a, b, paired), paired)


def spreads_consistent(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sample KS p-value of A's and B's finite values (NaN with fewer than two on a side)."""
    fa, fb = _finite(np.asarray(a, dtype=float)), _finite(np.asarray(b, dtype=float))
    if len(fa) < 2 or len(fb) < 2:
        return math.nan
    if np.array_equal(np.sort(fa), np.sort(fb)):
        return 1.0
    return float(scipy_stats.ks_2samp(fa, fb).pvalue)


def compare_metric(name: str, metric: Metric, tables_a: Tables, tables_b: Tables) -> pd.DataFrame:
    """One row per cell present on both sides: seeds, means, sds, the difference with its CI, KS p."""
    cell = list(metric.cell)
    a = metric.select(getattr(tables_a, metric.table))
    b = metric.select(getattr(tables_b, metric.table))
    seeds_a, values_a = a["seed"].to_numpy(), a[metric.column].to_numpy(dtype=float)
    seeds_b, values_b = b["seed"].to_numpy(), b[metric.column].to_numpy(dtype=float)
    groups_b = b.groupby(cell, sort=True).indices
    keys, sides = [], []
    for key, rows_a in a.groupby(cell, sort=True).indices.items():
        rows_b = groups_b.get(key)
        if rows_b is None:
            continue
        va = pd.Series(values_a[rows_a], index=seeds_a[rows_a])
        vb = pd.Series(values_b[rows_b], index=seeds_b[rows_b])
        paired = set(va.index) == set(vb.index)
        if paired:
            vb = vb.reindex(va.index)
        keys.append(_tuple(key))
        sides.append((va.to_numpy(), vb.to_numpy(), paired))
    tests: dict[int, DiffCI] = {}
    for paired in (True, False):
        which = [i for i, side in enumerate(sides) if side[2] == paired]
        for i, test in zip(which, stats.shift_tests([sides[i][:2] for i in which], paired), strict=True):
            tests[i] = _as_diff(test, paired)
    rows = []
    for i, (key, (va, vb, paired)) in enumerate(zip(keys, sides, strict=True)):
        ci = tests[i]
        fa, fb = _finite(va), _finite(vb)
        rows.append(
            {
                "metric": name,
                **dict(zip(cell, key, strict=True)),
                "seeds_a": len(va),
                "seeds_b": len(vb),
                "nonfinite_a": int(len(va) - len(fa)),
                "nonfinite_b": int(len(vb) - len(fb)),
                "mean_a": fa.mean() if len(fa) else math.nan,
                "mean_b": fb.mean() if len(fb) else math.nan,
                "sd_a": fa.std(ddof=1) if len(fa) > 1 else math.nan,
                "sd_b": fb.std(ddof=1) if len(fb) > 1 else math.nan,
                "diff": ci.diff,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "p": ci.p,
                "ks_p": spreads_consistent(va, vb),
                "paired": paired,
                "note": ci.note,
            }
        )
    out = pd.DataFrame(rows)
    if len(out):
        out["ci_excludes_0"] = (out["ci_low"] > 0) | (out["ci_high"] < 0)
        out["q"] = stats.fdr_adjusted(out["p"].to_numpy())
        out["differs"] = out["q"] < FDR_ALPHA
        out["consistent"] = ~(out["ks_p"] < KS_ALPHA)
    return out


def _tuple(key: object) -> tuple:
    return key if isinstance(key, tuple) else (key,)


@dataclass(frozen=True)
class SeedStats:
    """Per-metric cell comparisons and their counts."""

    cells: dict[str, pd.DataFrame]

    def counts(self, name: str) -> dict[str, int | float]:
        df = self.cells[name]
        n = len(df)
        return {
            "cells": n,
            "differs": int(df["differs"].sum()) if n else 0,
            "p_below_alpha": int((df["p"] <= FDR_ALPHA).sum()) if n else 0,
            "inconsistent": int((~df["consistent"]).sum()) if n else 0,
            "expected_by_chance": round(n * KS_ALPHA, 1),
        }


def compare_seeds(tables_a: Tables, tables_b: Tables) -> SeedStats:
    """Every metric of :data:`METRICS`, cell by cell."""
    return SeedStats({name: compare_metric(name, m, tables_a, tables_b) for name, m in METRICS.items()})
