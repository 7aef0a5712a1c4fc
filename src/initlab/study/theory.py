"""The theory table: what mean-field theory predicts for every probed (activation, init, depth, layer).

One row per layer of every probe network the study measures, with the same forward and gradient
columns as ``signal_probe.csv`` (no seed: theory has no randomness), so the report can hold the
two side by side. Computed in one small job (milliseconds per network), never one job per cell.

The probe's input fan-in and batch size come from the probe's own definition
(:data:`initlab.engine.probe.IN_FEATURES`, :data:`~initlab.engine.probe.BATCH_SIZE`), and each
init's variances from its registry entry (:meth:`initlab.engine.inits.InitScheme.weight_variance`),
so theory and measurement cannot drift apart.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from initlab.engine import theory
from initlab.engine.activations import get_activation
from initlab.engine.inits import get_init
from initlab.engine.models import MOON_CLASSES, MOON_IN_FEATURES
from initlab.engine.probe import BATCH_SIZE, IN_FEATURES

#: Second moment E[x_i^2] of the probe's inputs: ``torch.randn``, so 1.
PROBE_INPUT_SECOND_MOMENT = 1.0


def layer_variances(init: str, activation: str, fan_ins: list[int], width: int) -> list[theory.LayerVariances]:
    """(sigma_w2, sigma_b2) per layer from the init registry; None per layer for a data-dependent init
    (LSUV: unit pre-activation variance by construction)."""
    scheme, act = get_init(init), get_activation(activation)
    out: list[theory.LayerVariances] = []
    for fan_in in fan_ins:
        var = scheme.weight_variance(fan_in, width, act)
        out.append(None if var is None else (fan_in * var, scheme.bias_variance(fan_in, width)))
    return out


def probe_theory(activation: str, init: str, depth: int, width: int) -> list[dict[str, object]]:
    """Theory rows (``THEORY_COLUMNS``) for every layer of one probe network."""
    fan_ins = [IN_FEATURES] + [width] * (depth - 1)
    stack = theory.predict_stack(
        activation, layer_variances(init, activation, fan_ins, width), fan_ins, PROBE_INPUT_SECOND_MOMENT
    )
    failure = theory.predicted_failure(activation, stack[-1], stack[0])
    # The probe's loss mean_b <h_b, r_b> with r ~ N(0, 1): ||dL/dh_last|| = sqrt(B * width) / B.
    top = math.sqrt(width / BATCH_SIZE)
    data_dependent = get_init(init).data_dependent
    return [
        {
            "activation": activation,
            "init": init,
            "depth": depth,
            "width": width,
            "layer": p.layer,
            "data_dependent": data_dependent,
            "q": p.q,
            "mean": p.mean,
            "std": p.std,
            "zero_ratio": p.zero_ratio,
            "saturated_ratio": p.saturated_ratio,
            "grad_norm": top * p.grad_ratio,
            "act_grad_norm": top * p.act_grad_ratio,
            "chi": p.chi,
            "out_of_range": p.out_of_range,
            "failure": failure,
        }
        for p in stack
    ]


def theory_grid(activations: list[str], inits: list[str], depths: list[int], width: int) -> list[dict[str, object]]:
    """Theory rows for the whole probe grid, sorted like ``signal_probe.csv`` (less the seed)."""
    return [
        row
        for activation in sorted(activations)
        for init in sorted(inits)
        for depth in sorted(depths)
        for row in probe_theory(activation, init, depth, width)
    ]


def moon_start(activation: str, init: str, depth: int, width: int, input_second_moment: float) -> dict[str, object]:
    """Theory's MoonMLP at initialisation: logit std and expected start loss (``THEORY_START_COLUMNS``).

    The hidden stack as for the probe, then the output Linear (width -> classes), which the init
    scheme draws too; LSUV rescales it to unit variance like every other layer.
    """
    fan_ins = [MOON_IN_FEATURES] + [width] * (depth - 1)
    stack = theory.predict_stack(
        activation, layer_variances(init, activation, fan_ins, width), fan_ins, input_second_moment
    )
    scheme, act = get_init(init), get_activation(activation)
    out_var = scheme.weight_variance(width, MOON_CLASSES, act)
    if out_var is None:
        logit_q = 1.0
    else:
        logit_q = width * out_var * stack[-1].second_moment + scheme.bias_variance(width, MOON_CLASSES)
    return {
        "activation": activation,
        "init": init,
        "depth": depth,
        "width": width,
        "data_dependent": scheme.data_dependent,
        "logit_std": math.sqrt(logit_q) if math.isfinite(logit_q) else math.inf,
        "start_loss": theory.softmax_cross_entropy_start(logit_q, MOON_CLASSES) if math.isfinite(logit_q) else math.inf,
    }


def moon_start_grid(
    x_train: np.ndarray, activations: list[str], inits: list[str], depths: list[int], width: int
) -> list[dict[str, object]]:
    """:func:`moon_start` for the training grid; the inputs' second moment is read from the training data."""
    second_moment = float((x_train.astype(float) ** 2).mean())
    return [
        moon_start(activation, init, depth, width, second_moment)
        for activation in sorted(activations)
        for init in sorted(inits)
        for depth in sorted(depths)
    ]
