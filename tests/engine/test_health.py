"""The signal-failure registry: one set of rules for the report, the theory and inspect.

Checked on what each caller hands it: one layer's floats (inspect, theory), numpy arrays, and a
pandas table's columns (the report), with the priority order, NaN handling and each threshold's
exact edge.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from initlab.engine import health
from initlab.engine.health import (
    EXPLODED_STD,
    FAILURE_RULES,
    SATURATED_FRACTION,
    VANISHED_GRADIENT_RATIO,
    VANISHED_STD,
    failures,
    first_failure,
    judged,
)

#: A signal that passes every rule: unit std, nothing non-finite or saturated, full gradient.
HEALTHY = {"std": 1.0, "nonfinite_ratio": 0.0, "saturated_ratio": 0.0, "activation": "tanh", "grad_ratio": 1.0}
#: A signal that trips every rule at once (inf std is non-finite *and* exploded; "vanished"
#: needs a small std, so that one is tripped on its own below).
EVERYTHING = {"std": math.inf, "nonfinite_ratio": 0.5, "saturated_ratio": 0.9, "activation": "tanh", "grad_ratio": 1e-9}


def test_registry_order_is_the_priority_order():
    assert list(FAILURE_RULES) == ["non-finite", "exploded", "vanished", "saturated", "gradient vanished"]
    assert health.SIGNALS == {"std", "nonfinite_ratio", "saturated_ratio", "activation", "grad_ratio"}
    assert FAILURE_RULES["saturated"].signals == ("activation", "saturated_ratio")


def test_descriptions_quote_the_thresholds():
    text = {name: rule.description for name, rule in FAILURE_RULES.items()}
    assert text["exploded"] == f"last-layer std > {EXPLODED_STD:g}"
    assert text["vanished"] == f"last-layer std < {VANISHED_STD:g}"
    assert f"{SATURATED_FRACTION:.0%}" in text["saturated"] and "sigmoid, tanh" in text["saturated"]
    assert f"{VANISHED_GRADIENT_RATIO:g}" in text["gradient vanished"]


def test_a_healthy_signal_fails_nothing():
    assert failures(**HEALTHY) == ()
    assert first_failure(**HEALTHY) == ""


def test_priority_first_failure_is_the_first_rule_that_trips():
    assert failures(**EVERYTHING) == ("non-finite", "exploded", "saturated", "gradient vanished")
    assert first_failure(**EVERYTHING) == "non-finite"
    finite = {**EVERYTHING, "nonfinite_ratio": 0.0, "std": 2 * EXPLODED_STD}
    assert first_failure(**finite) == "exploded"
    assert first_failure(**{**finite, "std": VANISHED_STD / 2}) == "vanished"
    assert failures(**{**finite, "std": VANISHED_STD / 2}) == ("vanished", "saturated", "gradient vanished")
    assert first_failure(**{**finite, "std": 1.0}) == "saturated"
    assert first_failure(**{**finite, "std": 1.0, "saturated_ratio": 0.0}) == "gradient vanished"


# Each rule as (signal it reads, value at its threshold: still healthy, the next float past it).
EDGES = {
    "exploded": ("std", EXPLODED_STD, np.nextafter(EXPLODED_STD, math.inf)),
    "vanished": ("std", VANISHED_STD, np.nextafter(VANISHED_STD, 0.0)),
    "saturated": ("saturated_ratio", SATURATED_FRACTION, np.nextafter(SATURATED_FRACTION, 1.0)),
    "gradient vanished": ("grad_ratio", VANISHED_GRADIENT_RATIO, np.nextafter(VANISHED_GRADIENT_RATIO, 0.0)),
    "non-finite": ("nonfinite_ratio", 0.0, np.nextafter(0.0, 1.0)),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_each_rule_flips_exactly_at_its_threshold(name):
    signal, at, past = EDGES[name]
    assert failures(**{**HEALTHY, signal: at}) == ()
    assert failures(**{**HEALTHY, signal: past}) == (name,)
    # The same edge, vectorised: one array holding both sides.
    assert first_failure(**{**HEALTHY, signal: np.array([at, past])}).tolist() == ["", name]


def test_saturation_counts_only_for_bounded_activations():
    for activation in ("tanh", "sigmoid"):
        assert failures(**{**HEALTHY, "activation": activation, "saturated_ratio": 0.9}) == ("saturated",)
    for activation in ("relu", "gelu", None, ""):  # None: a model output, no activation
        assert failures(**{**HEALTHY, "activation": activation, "saturated_ratio": 0.9}) == ()


def test_nan_evidence_trips_only_non_finite():
    # The values could not be counted: missing evidence is not health.
    assert failures(**{**HEALTHY, "std": math.nan}) == ("non-finite",)
    assert failures(**{**HEALTHY, "nonfinite_ratio": math.nan}) == ("non-finite",)
    assert failures(**{**HEALTHY, "std": -math.inf}) == ("non-finite", "vanished")
    # A NaN ratio compares False: no saturation or gradient loss is claimed from it.
    assert failures(**{**HEALTHY, "saturated_ratio": math.nan}) == ()
    assert failures(**{**HEALTHY, "grad_ratio": math.nan}) == ()


def test_an_unevaluable_test_counts_as_tripped():
    column = pd.Series([1e-9, None, 1.0], dtype="Float64")  # <NA>: the comparison has no truth value
    assert first_failure(grad_ratio=column).tolist() == ["gradient vanished", "gradient vanished", ""]
    # ...but a rule decided without the missing number is decided: ReLU is never saturated, whatever
    # its (missing) saturation count, and with a count of 0 no non-finite value is in doubt.
    relu = {"activation": pd.Series(["relu", "tanh"]), "saturated_ratio": pd.Series([None, None], dtype="Float64")}
    assert first_failure(**relu).tolist() == ["", "saturated"]
    finite = {
        "std": pd.Series([None, 1.0], dtype="Float64"),
        "nonfinite_ratio": pd.Series([0.0, None], dtype="Float64"),
    }
    assert first_failure(**finite).tolist() == ["non-finite", "non-finite"]


def test_signals_left_out_leave_their_rules_out():
    forward = {k: v for k, v in EVERYTHING.items() if k != "grad_ratio"}
    assert list(judged(**forward)) == ["non-finite", "exploded", "vanished", "saturated"]
    assert failures(grad_ratio=1e-9) == ("gradient vanished",)
    assert first_failure() == ""


def test_a_misspelt_signal_is_an_error():
    with pytest.raises(TypeError, match="grad_ratios"):
        failures(**HEALTHY, grad_ratios=1.0)


def _cases() -> dict[str, list]:
    """Edge values of every signal, crossed: NaN, inf, both sides of each threshold."""
    rng = np.random.default_rng(0)
    n = 500
    return {
        "std": rng.choice([math.nan, math.inf, 0.0, VANISHED_STD, 1e-4, 1.0, EXPLODED_STD, 1e4], n).tolist(),
        "nonfinite_ratio": rng.choice([0.0, 0.0, 0.0, 0.01, math.nan], n).tolist(),
        "saturated_ratio": rng.choice([0.0, SATURATED_FRACTION, 0.5, math.nan], n).tolist(),
        "activation": rng.choice(["relu", "tanh", "sigmoid"], n).tolist(),
        "grad_ratio": rng.choice([1.0, VANISHED_GRADIENT_RATIO, 1e-6, math.nan, math.inf], n).tolist(),
    }


def test_arrays_and_table_columns_give_the_scalar_verdicts():
    cases = _cases()
    one_by_one = [first_failure(**dict(zip(cases, row, strict=True))) for row in zip(*cases.values(), strict=True)]
    assert set(one_by_one) == set(FAILURE_RULES) | {""}  # every outcome occurs
    arrays = first_failure(**{k: np.array(v) for k, v in cases.items()})
    assert arrays.tolist() == one_by_one
    table = pd.DataFrame(cases, index=np.arange(len(one_by_one)) * 3)  # an index that is not positional
    assert first_failure(**{k: table[k] for k in health.SIGNALS}).tolist() == one_by_one


def test_a_rule_judges_a_table_and_keeps_its_index():
    table = pd.DataFrame(_cases(), index=np.arange(500) + 1000)
    for rule in FAILURE_RULES.values():
        result = rule.judge(table)
        assert isinstance(result, pd.Series) and result.index.equals(table.index)
        expected = [bool(rule.judge(dict(row))) for _, row in table.iterrows()]
        assert result.tolist() == expected
