"""Where the seeds differ: per cell, the difference of means with a bootstrap CI, and whether
A's and B's seeds look like draws from one distribution.

A cell is a table row without its seed (a training cell and init, a probe network).
With the same seeds on both sides the difference is paired by seed (the bootstrap of
the per-seed differences); otherwise the two seed sets are resampled independently.
Consistency of the spreads is a two-sample Kolmogorov-Smirnov test: it compares the
whole distribution over seeds without assuming normality (losses are skewed). Over
hundreds of cells about 5 % fail any 5 % test by chance, so the summary says how
many were expected.
"""

from __future__ import annotations

import math
import warnings
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
        Metric("signal_probe", "std", ("activation", "init", "depth", "width"), _last_layer,
               "std of the last layer's output"),
    )
}


@dataclass(frozen=True)
class DiffCI:
    """B's mean minus A's, its bootstrap interval, and how it was formed."""

    diff: float
    low: float
    high: float
    note: str


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def diff_of_means(a: Sequence[float], b: Sequence[float], paired: bool) -> DiffCI:
    """mean(B) − mean(A) with a 95 % BCa bootstrap interval (finite values; the report's resamples and seed)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired:
        keep = np.isfinite(a) & np.isfinite(b)
        ci = stats.bootstrap_mean_ci(b[keep] - a[keep])
        return DiffCI(ci.mean, ci.low, ci.high, ci.note and f"paired: {ci.note}")
    fa, fb = _finite(a), _finite(b)
    if len(fa) == 0 or len(fb) == 0:
        return DiffCI(math.nan, math.nan, math.nan, "no finite value on one side")
    diff = float(fb.mean() - fa.mean())
    if len(fa) < 2 or len(fb) < 2:
        return DiffCI(diff, math.nan, math.nan, "one seed on a side: no interval")
    if np.all(fa == fa[0]) and np.all(fb == fb[0]):
        return DiffCI(diff, diff, diff, "every seed identical on both sides")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BCa warns on tiny or degenerate samples; the n is shown
        result = scipy_stats.bootstrap(
            (fa, fb), lambda x, y, axis: np.mean(y, axis=axis) - np.mean(x, axis=axis),
            n_resamples=stats.BOOTSTRAP_RESAMPLES, confidence_level=stats.CONFIDENCE, method="BCa",
            rng=np.random.default_rng(stats.BOOTSTRAP_SEED),
        )
    low, high = result.confidence_interval
    if not (np.isfinite(low) and np.isfinite(high)):  # BCa degenerates when one side is constant
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = scipy_stats.bootstrap(
                (fa, fb), lambda x, y, axis: np.mean(y, axis=axis) - np.mean(x, axis=axis),
                n_resamples=stats.BOOTSTRAP_RESAMPLES, confidence_level=stats.CONFIDENCE,
                method="percentile", rng=np.random.default_rng(stats.BOOTSTRAP_SEED),
            )
        low, high = result.confidence_interval
    return DiffCI(diff, float(low), float(high), "")


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
    rows = []
    for key, rows_a in a.groupby(cell, sort=True).indices.items():
        rows_b = groups_b.get(key)
        if rows_b is None:
            continue
        va = pd.Series(values_a[rows_a], index=seeds_a[rows_a])
        vb = pd.Series(values_b[rows_b], index=seeds_b[rows_b])
        paired = set(va.index) == set(vb.index)
        if paired:
            vb = vb.reindex(va.index)
        ci = diff_of_means(va.to_numpy(), vb.to_numpy(), paired)
        fa, fb = _finite(va.to_numpy()), _finite(vb.to_numpy())
        rows.append({
            "metric": name,
            **dict(zip(cell, key, strict=True)),
            "seeds_a": len(va), "seeds_b": len(vb),
            "nonfinite_a": int(len(va) - len(fa)), "nonfinite_b": int(len(vb) - len(fb)),
            "mean_a": fa.mean() if len(fa) else math.nan, "mean_b": fb.mean() if len(fb) else math.nan,
            "sd_a": fa.std(ddof=1) if len(fa) > 1 else math.nan, "sd_b": fb.std(ddof=1) if len(fb) > 1 else math.nan,
            "diff": ci.diff, "ci_low": ci.low, "ci_high": ci.high,
            "differs": bool(ci.low > 0 or ci.high < 0),
            "ks_p": spreads_consistent(va.to_numpy(), vb.to_numpy()),
            "paired": paired,
            "note": ci.note,
        })
    out = pd.DataFrame(rows)
    if len(out):
        out["consistent"] = ~(out["ks_p"] < KS_ALPHA)
    return out


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
            "inconsistent": int((~df["consistent"]).sum()) if n else 0,
            "expected_by_chance": round(n * KS_ALPHA, 1),
        }


def compare_seeds(tables_a: Tables, tables_b: Tables) -> SeedStats:
    """Every metric of :data:`METRICS`, cell by cell."""
    return SeedStats({name: compare_metric(name, m, tables_a, tables_b) for name, m in METRICS.items()})
