"""The signal probe (Lab 1, extended with the backward pass).

Forward: after every activation, the lesson's statistics (mean, std, zero ratio, saturated
ratio |x| > 0.98) plus the fraction of non-finite values.

Backward: the lesson's map says "backward gradients should still have a path" but never
measures it. The probe does, with the fixed scalar loss

    L = mean over the batch of <output, r>,   r ~ N(0, 1) fixed per configuration,

which sends a unit-scale gradient into the last layer whatever the output's own scale, so the
per-layer gradient norms show how the backward signal grows or fades with depth, separately
from the forward signal. ``grad_norm`` is ||dL/dW|| (Frobenius) of each layer's Linear weight;
``act_grad_norm`` is ||dL/dh|| of each layer's post-activation output h.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from initlab.engine.activations import get_activation
from initlab.engine.health import SATURATION_THRESHOLD
from initlab.engine.inits import get_init
from initlab.engine.models import build_probe_net, check_positive_int
from initlab.engine.seeding import derive_seed, generator

# The lesson's probe batch: 512 random inputs of 32 features.
BATCH_SIZE = 512
IN_FEATURES = 32


@dataclass(frozen=True)
class LayerStats:
    """Statistics of one layer's post-activation output and of its gradients."""

    layer: int
    mean: float
    std: float
    zero_ratio: float
    saturated_ratio: float
    nonfinite_ratio: float
    grad_norm: float
    act_grad_norm: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def probe_network(model: nn.Sequential, x: torch.Tensor, direction: torch.Tensor | None) -> list[LayerStats]:
    """Run ``x`` through ``model``; return one ``LayerStats`` per activation module, in order.

    ``direction`` is r in the backward loss (module docstring); ``None`` skips the backward pass
    (gradient columns are then NaN).
    """
    outputs: list[torch.Tensor] = []
    for module in model:
        x = module(x)
        if not isinstance(module, nn.Linear):
            if direction is not None:
                x.retain_grad()
            outputs.append(x)
    if direction is not None:
        loss = (x * direction).sum() / x.shape[0]
        loss.backward()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    nan = float("nan")
    stats = []
    with torch.no_grad():
        for i, (h, lin) in enumerate(zip(outputs, linears), start=1):
            stats.append(
                LayerStats(
                    layer=i,
                    mean=h.mean().item(),
                    std=h.std().item(),
                    zero_ratio=(h == 0).float().mean().item(),
                    saturated_ratio=(h.abs() > SATURATION_THRESHOLD).float().mean().item(),
                    nonfinite_ratio=(~torch.isfinite(h)).float().mean().item(),
                    grad_norm=lin.weight.grad.norm().item() if direction is not None else nan,
                    act_grad_norm=h.grad.norm().item() if direction is not None else nan,
                )
            )
    return stats


def probe_config(seed: int, activation: str, init: str, depth: int, width: int) -> list[LayerStats]:
    """Probe one study configuration, seeded by the rule in ``initlab.engine.seeding``."""
    check_positive_int(depth, "depth")
    check_positive_int(width, "width")
    scheme = get_init(init)
    act = get_activation(activation)
    data_gen = generator(derive_seed(seed, "probe-input"))
    x = torch.randn(BATCH_SIZE, IN_FEATURES, generator=data_gen)
    direction = torch.randn(BATCH_SIZE, width, generator=data_gen)
    weight_gen = generator(seed)
    model = build_probe_net(depth, width, activation, weight_gen, IN_FEATURES)
    scheme.apply(model, act, weight_gen, batch=x)
    return probe_network(model, x, direction)


def probe_grid(
    seeds: list[int], activation: str, inits: list[str], depths: list[int], width: int
) -> list[dict[str, object]]:
    """Tidy rows (``initlab.study.tables.PROBE_COLUMNS``) for every seed x init x depth of one activation."""
    rows = []
    for seed in seeds:
        for init in inits:
            for depth in depths:
                key = {"seed": seed, "activation": activation, "init": init, "depth": depth, "width": width}
                rows.extend(key | stats.as_dict() for stats in probe_config(seed, activation, init, depth, width))
    return rows
