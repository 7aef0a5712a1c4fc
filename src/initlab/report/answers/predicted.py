"""Theory's predicted failure depth per (activation, init), read from ``theory.csv``.

Kept apart from :mod:`initlab.report.answers.theory` so that Exercise 1
(:mod:`initlab.report.answers.probe`) can cite the prediction without an import cycle.
"""

from __future__ import annotations

import math

import pandas as pd


def predicted_failure_depths(theory: pd.DataFrame | None) -> pd.DataFrame:
    """Per (activation, init): the smallest probed depth whose network theory predicts to fail, and how.

    Same reading as the measured failure depth (``probe_failure_depths``): each depth is its own
    network, judged by its last layer (and its gradient ratio). inf: healthy at every probed depth.
    Empty when there is no theory table.
    """
    columns = ["activation", "init", "predicted_depth", "predicted_failure", "data_dependent"]
    if theory is None or theory.empty:
        return pd.DataFrame(columns=columns)
    nets = theory[theory["layer"] == theory["depth"]].copy()
    nets["failure"] = nets["failure"].fillna("").astype(str)
    rows = []
    for (activation, init), group in nets.groupby(["activation", "init"], sort=True):
        failing = group[group["failure"] != ""].sort_values("depth")
        rows.append(
            {
                "activation": activation,
                "init": init,
                "predicted_depth": float(failing["depth"].iloc[0]) if len(failing) else math.inf,
                "predicted_failure": failing["failure"].iloc[0] if len(failing) else "",
                "data_dependent": bool(group["data_dependent"].any()),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def theory_citation(predicted: pd.DataFrame, activation: str, init: str) -> str:
    """'theory: fails at depth 4 (vanished)' / 'theory: healthy to depth 50' / '' (no prediction)."""
    row = predicted[(predicted["activation"] == activation) & (predicted["init"] == init)]
    if row.empty:
        return ""
    depth, mode = row["predicted_depth"].iloc[0], row["predicted_failure"].iloc[0]
    if math.isinf(depth):
        return "theory: healthy at every probed depth"
    return f"theory: fails at depth {depth:g} ({mode})"
