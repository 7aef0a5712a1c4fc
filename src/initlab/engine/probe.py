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

import numpy as np
import torch
from torch import nn

from initlab.engine.activations import get_activation
from initlab.engine.cells import check_positive_int
from initlab.engine.health import SATURATION_THRESHOLD
from initlab.engine.inits import get_init
from initlab.engine.models import build_probe_net
from initlab.engine.seeding import derive_seed, generator

# The lesson's probe batch: 512 random inputs of 32 features.
BATCH_SIZE = 512
IN_FEATURES = 32


# Below this many elements a float32 sum of 0/1 values is exact, so "mask.float().mean()" is the
# count divided by the element count in float32, and a count taken by numpy gives the same value.
_EXACT_COUNT = 2**24
_SATURATION_F32 = np.float32(SATURATION_THRESHOLD)  # torch compares a float32 tensor in float32 too


def _ratio(count: int, n: int) -> float:
    """``count / n`` exactly as ``mask.float().mean().item()`` computes it: float32 sum / n in float32."""
    return float(np.float32(count) / np.float32(n))


def tensor_stats(h: torch.Tensor) -> dict[str, float]:
    """The lesson's statistics of one output: mean, std, and the ratios of zeros, of saturated
    values (|x| > ``SATURATION_THRESHOLD``) and of non-finite values.

    The ratios are what ``(mask).float().mean().item()`` gives; for a float32 CPU tensor they are
    counted by numpy on the tensor's own memory instead: torch's comparisons into a bool tensor
    and the float copies took about 60 % of a probe layer's statistics time (100 us per
    comparison on 64 Ki elements), numpy's count takes a tenth of that, and the count over the
    float32 element count is the same number (``_EXACT_COUNT``; ``tests/engine/test_probe.py``).
    """
    with torch.no_grad():
        n = h.numel()
        stats = {"mean": h.mean().item(), "std": h.std().item()}
        if h.dtype == torch.float32 and h.device.type == "cpu" and 0 < n < _EXACT_COUNT:
            a = h.detach().numpy()
            stats["zero_ratio"] = _ratio(n - np.count_nonzero(a), n)  # NaN counts as non-zero, -0.0 as zero
            stats["saturated_ratio"] = _ratio(np.count_nonzero(np.abs(a) > _SATURATION_F32), n)
            stats["nonfinite_ratio"] = _ratio(n - np.count_nonzero(np.isfinite(a)), n)
        else:
            stats["zero_ratio"] = (h == 0).float().mean().item()
            stats["saturated_ratio"] = (h.abs() > SATURATION_THRESHOLD).float().mean().item()
            stats["nonfinite_ratio"] = (~torch.isfinite(h)).float().mean().item()
        return stats


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
    forward_stats: list[dict[str, float]] = []
    for module in model:
        x = module(x)
        if not isinstance(module, nn.Linear):
            if direction is not None:
                x.retain_grad()
            outputs.append(x)
            # Now, while the output is still in cache (256 KiB at the study's batch and width):
            # the statistics read it seven times, and after the whole forward and backward pass
            # it would come back from memory for each read. Nothing changes it in between.
            forward_stats.append(tensor_stats(x))
    if direction is not None:
        loss = (x * direction).sum() / x.shape[0]
        loss.backward()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    nan = float("nan")
    stats = []
    with torch.no_grad():
        for i, (h, lin, forward) in enumerate(zip(outputs, linears, forward_stats, strict=True), start=1):
            stats.append(
                LayerStats(
                    layer=i,
                    **forward,
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
    """Tidy rows of the ``signal_probe`` table (``initlab.study.tables``) for every seed x init x depth
    of one activation."""
    rows = []
    for seed in seeds:
        for init in inits:
            for depth in depths:
                key = {"seed": seed, "activation": activation, "init": init, "depth": depth, "width": width}
                rows.extend(key | stats.as_dict() for stats in probe_config(seed, activation, init, depth, width))
    return rows
