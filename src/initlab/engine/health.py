"""Signal health: when a layer's signal counts as non-finite, exploded, vanished, saturated or
cut off from the gradient, as named thresholds and as one ordered registry of rules.

They live in the engine because three stages judge signals by them: the report's Exercise 1
criteria (``initlab.report.answers.probe``), the theory's predicted failure depths
(``initlab.engine.theory``), and the inspection of a user's own model (``initlab.engine.inspect``).
One definition, called everywhere, never copied: :data:`FAILURE_RULES`, each rule a numpy test
that works alike on one float, a numpy array and a pandas column, with :func:`failures` (every
rule that trips) and :func:`first_failure` (the first, by priority) on top.

Pure numpy: the report's pandas columns go through numpy's ufuncs, so no pandas import here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from inspect import signature
from typing import Any

import numpy as np

#: Last-layer std below this = vanished signal. Three orders of magnitude
#: below the unit scale of the input: the lesson's tiny+ReLU prints 0.0000
#: at depth 8 while the healthy Xavier+Tanh prints 0.23.
VANISHED_STD = 1e-3
#: Last-layer std above this = exploded signal: symmetric to VANISHED_STD in
#: log scale (three orders above unit scale).
EXPLODED_STD = 1e3
#: Fraction of units with |x| > 0.98 above which a *bounded* activation is
#: saturated. The lesson's large+Tanh prints 0.84, Xavier+Tanh 0.00. It is a
#: quarter, not a half, because for sigmoid the |x| > 0.98 test only sees the
#: upper rail (outputs near 0 are pinned too but not counted).
SATURATED_FRACTION = 0.25
#: First-layer ||dL/dh|| over last-layer ||dL/dh|| below this = vanished backward signal
#: ("backward gradients should still have a path", the lesson's map). The probe's loss feeds
#: the same unit-scale gradient into the top of every network, so the ratio is how much of it
#: reaches the first layer; the same three orders of magnitude as VANISHED_STD. Catches what
#: the forward statistics miss, e.g. a sigmoid stack whose forward std looks healthy while its
#: first layer receives ~1e-18 of the gradient.
VANISHED_GRADIENT_RATIO = 1e-3
#: Activations with rails, where |x| > 0.98 means a vanishing derivative. For
#: ReLU-like activations a large |x| is just a large value (He+ReLU prints
#: 0.19 "saturated" while healthy), so saturation is not a failure there.
BOUNDED_ACTIVATIONS = frozenset({"tanh", "sigmoid"})
#: The lesson's threshold for "saturated": |x| > 0.98 (Tanh's output is within 2% of its bound).
SATURATION_THRESHOLD = 0.98


# --------------------------------------------------------------------------------------------
# The failure rules
# --------------------------------------------------------------------------------------------

#: What a rule's test takes and gives back: a float (or activation name), a numpy array, or a
#: pandas column. The tests are numpy ufuncs, which keep a pandas column a pandas column (same
#: index, and a nullable column's <NA> stays <NA>), so the report's ``first_match`` sees exactly
#: what its own operators used to give it. "And"/"or" are the operators ``&``/``|``, not
#: ``np.logical_and``/``np.logical_or``: on a nullable column pandas runs the operators with
#: three-valued logic (False & <NA> is False), the ufuncs without (<NA>). Every comparison gives
#: numpy bools, never Python bools, so ``np.logical_not`` is the only "not" needed.
Signal = Any


def _floats(values: Signal) -> np.ndarray:
    """``values`` as float64: a missing entry of any dtype (None, <NA>) becomes NaN, as
    ``Series.astype(float)`` makes it; ``np.isfinite`` has no loop for object columns."""
    return np.asarray(values, dtype=float)


#: Membership in BOUNDED_ACTIVATIONS element by element: None (a model output, no activation),
#: NaN and <NA> are not bounded. Written with ``np.vectorize`` rather than ``np.isin`` because
#: ``np.isin`` compares with ``==``, and ``<NA> == "tanh"`` has no truth value.
_IS_BOUNDED = np.vectorize(lambda name: name in BOUNDED_ACTIVATIONS, otypes=[bool])


def is_bounded(activation: Signal) -> Signal:
    """True where ``activation`` names an activation with rails (:data:`BOUNDED_ACTIVATIONS`)."""
    return _IS_BOUNDED(np.asarray(activation, dtype=object))


def _non_finite(std: Signal, nonfinite_ratio: Signal) -> Signal:
    # Written as "not <= 0" and "not finite" so that NaN evidence trips it: a NaN ratio or std
    # means the values could not be counted, and missing evidence is not health.
    return np.logical_not(np.less_equal(nonfinite_ratio, 0)) | np.logical_not(np.isfinite(_floats(std)))


def _exploded(std: Signal) -> Signal:
    return np.greater(std, EXPLODED_STD)


def _vanished(std: Signal) -> Signal:
    return np.less(std, VANISHED_STD)


def _saturated(activation: Signal, saturated_ratio: Signal) -> Signal:
    return is_bounded(activation) & np.greater(saturated_ratio, SATURATED_FRACTION)


def _gradient_vanished(grad_ratio: Signal) -> Signal:
    return np.less(grad_ratio, VANISHED_GRADIENT_RATIO)


@dataclass(frozen=True)
class FailureRule:
    """One way a signal fails: a name, a one-line description, and a test that is True where it fails.

    ``test`` takes the signals it judges as keyword arguments; their names (:attr:`signals`)
    are the study's column names, so a rule can judge a table's rows (:meth:`judge`) as well
    as one layer's numbers.
    """

    name: str
    description: str
    test: Callable[..., Signal]

    @cached_property
    def signals(self) -> tuple[str, ...]:
        """The signals ``test`` reads: its parameter names (read once, not typed a second time)."""
        return tuple(signature(self.test).parameters)

    def judge(self, signals: Mapping[str, Signal]) -> Signal:
        """``test`` on the signals it reads from ``signals`` (a dict, or a DataFrame's columns)."""
        return self.test(**{name: signals[name] for name in self.signals})


#: The signal-failure rules in priority order: where several trip, the first names the failure.
#: A NaN network is non-finite rather than exploded (an inf std trips both); the forward rules
#: come before the gradient rule, which is there for what the forward statistics miss.
#: Descriptions speak of the last layer, where the study judges a network;
#: ``initlab.engine.inspect`` applies the same tests to every layer of a user's model.
FAILURE_RULES: dict[str, FailureRule] = {
    rule.name: rule
    for rule in (
        FailureRule("non-finite", "some last-layer value is NaN or inf", _non_finite),
        FailureRule("exploded", f"last-layer std > {EXPLODED_STD:g}", _exploded),
        FailureRule("vanished", f"last-layer std < {VANISHED_STD:g}", _vanished),
        FailureRule(
            "saturated",
            f"bounded activation ({', '.join(sorted(BOUNDED_ACTIVATIONS))}) with more than "
            f"{SATURATED_FRACTION:.0%} of last-layer units at |x| > {SATURATION_THRESHOLD:g}",
            _saturated,
        ),
        FailureRule(
            "gradient vanished",
            f"first-layer gradient norm below {VANISHED_GRADIENT_RATIO:g} of the last layer's",
            _gradient_vanished,
        ),
    )
}
#: Every signal some rule reads (``std``, ``nonfinite_ratio``, ``activation``, ...).
SIGNALS: frozenset[str] = frozenset(name for rule in FAILURE_RULES.values() for name in rule.signals)


def judged(**signals: Signal) -> dict[str, Signal]:
    """Each rule's test result (True: it fails), in priority order, for the rules whose signals
    are all given; a rule missing one of its signals is left out, not passed.

    Leaving a signal out is how a caller asks only part of the registry: inspect judges a
    model's outputs without a gradient ratio, and the model's gradient ratio without outputs.
    A NaN signal is different: it is judged, and trips only "non-finite" (NaN compares False).
    A name no rule reads raises TypeError, so a misspelt signal cannot silently skip a rule.
    """
    unknown = set(signals) - SIGNALS
    if unknown:
        raise TypeError(f"no failure rule reads {', '.join(sorted(unknown))}; signals: {', '.join(sorted(SIGNALS))}")
    return {
        name: rule.judge(signals) for name, rule in FAILURE_RULES.items() if all(s in signals for s in rule.signals)
    }


def _tripped(result: object) -> bool:
    """One test result as a bool, an un-evaluable one (a nullable column's <NA>, which has no
    truth value; a NaN) counted as tripped: missing evidence is not health, as in the report's
    ``first_match``. Float signals never give one: their comparisons are plain numpy bools."""
    try:
        return bool(result)
    except TypeError:
        return True


_TRIPPED = np.vectorize(_tripped, otypes=[bool])


def failures(**signals: Signal) -> tuple[str, ...]:
    """Every rule that trips for one signal (scalars), in priority order: inspect's verdict of a layer.

    An inf std is both "non-finite" and "exploded"; a NaN std only "non-finite".
    """
    return tuple(name for name, result in judged(**signals).items() if _tripped(result))


def first_failure(**signals: Signal) -> Signal:
    """The first rule, in priority order, that trips ("" where none does): the study's failure mode.

    Scalars give a str; arrays and pandas columns an object array of names, element by element
    (positional, no index). The same reading as the report's ``first_match`` over these rules
    (``initlab.report.answers.probe.PROBE_FAILURES``), un-evaluable tests included;
    ``tests/report/test_probe_failures.py`` checks that the two agree.
    """
    results = judged(**signals)
    if not results:
        return ""
    hits = np.broadcast_arrays(*(_TRIPPED(np.asarray(r, dtype=object)) for r in results.values()))
    mode = np.full(hits[0].shape, "", dtype=object)
    for name, hit in zip(reversed(list(results)), reversed(hits), strict=True):
        mode = np.where(hit, name, mode)
    return mode.item() if mode.ndim == 0 else mode
