"""Exercise 1's failure criteria are the engine's signal-failure rules, read the same way."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import synthetic as syn

from initlab.engine import health
from initlab.report.answers.criteria import first_match
from initlab.report.answers.probe import PROBE_FAILURES, probe_last_layers


def _edge_table(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Last-layer rows crossing every signal's edge values: NaN, inf, both sides of each threshold."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "std": rng.choice([math.nan, math.inf, 0.0, health.VANISHED_STD, 1e-4, 1.0, health.EXPLODED_STD, 1e4], n),
            "nonfinite_ratio": rng.choice([0.0, 0.0, 0.0, 0.01, math.nan], n),
            "saturated_ratio": rng.choice([0.0, health.SATURATED_FRACTION, 0.5, math.nan], n),
            "activation": rng.choice(["relu", "tanh", "sigmoid"], n),
            "grad_ratio": rng.choice([1.0, health.VANISHED_GRADIENT_RATIO, 1e-6, math.nan, math.inf], n),
            "seed": rng.integers(0, 10, n),  # a column no rule reads
        },
        index=np.arange(n) * 2 + 7,
    )


def _engine_modes(table: pd.DataFrame) -> list[str]:
    return health.first_failure(**{name: table[name] for name in health.SIGNALS}).tolist()


def test_probe_failures_are_the_registry():
    assert list(PROBE_FAILURES) == list(health.FAILURE_RULES)
    assert [c.description for c in PROBE_FAILURES.values()] == [r.description for r in health.FAILURE_RULES.values()]


def test_first_match_and_the_engine_agree_on_float_columns():
    table = _edge_table()
    modes = first_match(table, PROBE_FAILURES)
    assert modes.index.equals(table.index)
    assert modes.tolist() == _engine_modes(table)
    assert set(modes) == set(health.FAILURE_RULES) | {""}


def test_first_match_and_the_engine_agree_on_nullable_columns():
    # <NA> instead of NaN: the comparisons give <NA>, which both count as a failure.
    table = _edge_table(seed=1)
    nullable = table.astype({c: "Float64" for c in ("std", "nonfinite_ratio", "saturated_ratio", "grad_ratio")})
    nullable = nullable.astype({"activation": "string"})
    for col in ("std", "nonfinite_ratio", "saturated_ratio", "grad_ratio"):
        nullable.loc[nullable[col].isna(), col] = pd.NA
    assert first_match(nullable, PROBE_FAILURES).tolist() == _engine_modes(nullable)


def test_probe_last_layers_name_the_engine_failure():
    last = probe_last_layers(syn.signal_probe_table())
    assert last["failure"].tolist() == _engine_modes(last)
    assert {"", "vanished", "saturated", "exploded"} <= set(last["failure"])
