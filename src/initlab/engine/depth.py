"""How deep a stack can go before the study's failure criteria trip, at a measured rate.

The criteria themselves live in ``initlab.engine.health`` (FAILURE_RULES); this module only asks
them, at the std a stack would reach block after block, so no threshold is written twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from initlab.engine import health
from initlab.engine.health import EXPLODED_STD

#: The study's deepest probe network (config ``probe.depths`` ends at 50): the depth the
#: verdicts project to.
DEEPEST_PROBE = 50
#: Per-layer gain beyond which an init check says "shrinks"/"grows": the gain at which a stack
#: as deep as the study's deepest probe crosses EXPLODED_STD (or, inverted, VANISHED_STD) from
#: unit scale: 1000 ** (1/50) = 1.148. Closer to 1 than this, depth alone cannot break the
#: signal within the study's range.
GAIN_TOLERANCE = EXPLODED_STD ** (1 / DEEPEST_PROBE)
#: Deepest stack a projection looks at: a million blocks is "never" for any model built today.
MAX_DEPTH = 10**6


def failure_at(std: float) -> str:
    """The first failure rule a signal of this std trips ("" where none does)."""
    return health.first_failure(std=std)


def trip_depth(std_at: Callable[[int], float]) -> tuple[int, str]:
    """(d, failure): the first depth d >= 1 at which ``std_at(d)`` trips a failure rule, with that
    rule's name; (0, "") when none trips within MAX_DEPTH. ``std_at`` must be monotone in d
    (a constant rate, growing or shrinking), so a doubling search and a bisection find d."""
    if failure_at(std_at(MAX_DEPTH)) == "":
        return 0, ""
    lo, hi = 0, 1
    while not failure_at(std_at(hi)):
        lo, hi = hi, min(2 * hi, MAX_DEPTH)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if failure_at(std_at(mid)) else (mid, hi)
    return hi, failure_at(std_at(hi))


def geometric(start: float, rate: float) -> Callable[[int], float]:
    """std after d blocks that each multiply it by ``rate`` (overflow counts as inf)."""

    def std_at(d: int) -> float:
        try:
            return start * rate**d
        except OverflowError:
            return math.inf

    return std_at


def additive(start: float, variance_per_block: float) -> Callable[[int], float]:
    """std after d blocks that each add ``variance_per_block`` to the variance (normalized branches)."""
    return lambda d: math.sqrt(max(start**2 + d * variance_per_block, 0.0))
