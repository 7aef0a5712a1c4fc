"""Per-seed numbers laid out for a reader at any seed count.

A table with a column per seed grows off the page at 100 seeds, and pushes the numbers a reader
came for (mean and CI) out of sight. So per-seed values are shown twice, neither time across:

* :func:`seed_summary`: one row per contender, leading with what a reader compares (mean, its
  bootstrap CI, median, range, in how many seeds it was the best);
* :func:`seed_detail`: every value, seeds *down* the rows and contenders across (a bounded
  number of columns), for a collapsed ``<details>`` table; complete, so nothing is lost.
"""

from __future__ import annotations

import pandas as pd

from initlab.report import stats
from initlab.report.answers import init_order


def seed_summary(
    runs: pd.DataFrame, value_col: str, contender_col: str = "init", seed_col: str = "seed"
) -> pd.DataFrame:
    """Per contender: mean and 95 % bootstrap CI, median, min, max, seeds best (ties shared) and seeds.

    ``seeds_best`` counts the seeds in which the contender has the lowest value (a non-finite value
    counts as the worst, as in :func:`stats.per_seed_winners`); a tie credits every tied contender.
    """
    columns = [contender_col, "mean", "ci_low", "ci_high", "median", "min", "max", "seeds_best", "seeds", "ci_note"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    ci = stats.bootstrap_by_cell(runs, [contender_col], value_col).set_index(contender_col)
    spread = runs.groupby(contender_col)[value_col].agg(["median", "min", "max"])
    winners = stats.per_seed_winners(runs, [], value_col, contender_col, seed_col)["winner"]
    best = winners.str.split("+").explode().value_counts()
    summary = ci[["mean", "ci_low", "ci_high", "ci_note"]].join(spread)
    summary["seeds_best"] = best.reindex(summary.index).fillna(0).astype(int)
    summary["seeds"] = runs.groupby(contender_col)[seed_col].nunique()
    summary = summary.reindex(init_order(summary.index)).rename_axis(contender_col).reset_index()
    return summary[columns]


def seed_detail(
    runs: pd.DataFrame, value_col: str, contender_col: str = "init", seed_col: str = "seed"
) -> pd.DataFrame:
    """Every value: one row per seed, one column per contender (display order), seed first."""
    if runs.empty:
        return pd.DataFrame(columns=[seed_col])
    wide = runs.pivot_table(index=seed_col, columns=contender_col, values=value_col, aggfunc="first", dropna=False)
    wide = wide.reindex(columns=init_order(wide.columns))
    wide.columns.name = None
    return wide.reset_index()
