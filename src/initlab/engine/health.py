"""Signal-health thresholds: when a layer's signal counts as vanished, exploded, saturated or
cut off from the gradient.

They live in the engine because three stages judge signals by them: the report's Exercise 1
criteria (``initlab.report.answers.probe``), the theory's predicted failure depths, and the
inspection of a user's own model. One definition, imported everywhere, never copied.
"""

from __future__ import annotations

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
