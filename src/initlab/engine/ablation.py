"""The layer-swap ablation: which layer carries the gap between two inits A and B in one cell?

For one training cell and seed, the study's seeding rule draws two full MoonMLPs, one with
init A and one with init B (``initlab.engine.train.build_initialized``: the same draws a plain
training run makes). Each variant is then a splice:

- ``all_a``: the A model itself; ``all_b``: the B model itself. They are the very models the
  plain ``train`` rule trains, so they reproduce training.csv's rows of A and B to the bit.
- ``swap`` at layer L (1 = first hidden Linear, depth + 1 = the output Linear): the A model with
  layer L's weight *and* bias replaced by the B model's layer L. Every other parameter is A's,
  so the variant differs from ``all_a`` in that one layer and nothing else.

All variants of a cell (every seed, every layer) train as stacks of the stacked trainer
(``train_models``), so an ablation costs what training that many models costs. Each row also
records what the swapped layer *is*: its fan-in and fan-out and the std of the weights each
scheme drew there (measured on the drawn tensors, so it holds for data-dependent schemes too).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from initlab.engine.ablation_plan import ALL_A, ALL_B, SWAP, Variant, variants  # noqa: F401 (re-exported)
from initlab.engine.cells import AblationCell
from initlab.engine.data import Split
from initlab.engine.inits import get_init, linear_layers
from initlab.engine.train import TrainResult, TrainSpec, build_initialized, stack_size, train_models


def splice(model_a: nn.Sequential, model_b: nn.Sequential, layer: int) -> nn.Sequential:
    """``model_a`` with Linear ``layer`` (1-based) taken from ``model_b`` (weight and bias), in place."""
    a_layers, b_layers = linear_layers(model_a), linear_layers(model_b)
    if not 1 <= layer <= len(a_layers):
        raise ValueError(f"layer must be 1..{len(a_layers)}, got {layer!r}")
    with torch.no_grad():
        a_layers[layer - 1].weight.copy_(b_layers[layer - 1].weight)
        a_layers[layer - 1].bias.copy_(b_layers[layer - 1].bias)
    return model_a


def variant_model(
    spec: TrainSpec, init_a: str, init_b: str, seed: int, variant: Variant, x_train: torch.Tensor
) -> nn.Sequential:
    """The model of one variant, drawn by the seeding rule (both full models drawn, then spliced)."""
    if variant.name == ALL_A:
        return build_initialized(spec, init_a, seed, x_train)
    if variant.name == ALL_B:
        return build_initialized(spec, init_b, seed, x_train)
    model_a = build_initialized(spec, init_a, seed, x_train)
    return splice(model_a, build_initialized(spec, init_b, seed, x_train), variant.layer)


def _layer_facts(spec: TrainSpec, init_a: str, init_b: str, seed: int, x_train: torch.Tensor) -> list[dict]:
    """Per Linear (1-based list index + 1): fan-in, fan-out, and the std of A's and B's drawn weights."""
    a_layers = linear_layers(build_initialized(spec, init_a, seed, x_train))
    b_layers = linear_layers(build_initialized(spec, init_b, seed, x_train))
    return [
        {
            "fan_in": a.weight.shape[1],
            "fan_out": a.weight.shape[0],
            "weight_std_a": a.weight.std().item(),
            "weight_std_b": b.weight.std().item(),
        }
        for a, b in zip(a_layers, b_layers, strict=True)
    ]


def ablate_cell(split: Split, ablation: AblationCell, seeds: Sequence[int]) -> list[dict[str, object]]:
    """Train every variant x seed of one cell (stacks of ``stacking.stack_size``); tidy rows of the
    ``ablation`` table (``initlab.study.tables``)."""
    spec, init_a, init_b = ablation.spec, ablation.init_a, ablation.init_b
    get_init(init_a), get_init(init_b)  # unknown names fail before any training
    if init_a == init_b:
        raise ValueError(f"init_a and init_b must differ, got {init_a!r} twice")
    x_train = torch.from_numpy(split.x_train)
    runs = [(variant, seed) for seed in seeds for variant in variants(spec.depth)]
    results: list[TrainResult] = []
    k = stack_size(spec.depth, spec.width, len(split.x_train))
    for i in range(0, len(runs), k):
        chunk = runs[i : i + k]
        models = [variant_model(spec, init_a, init_b, seed, v, x_train) for v, seed in chunk]
        results += train_models(split, spec, models, [(f"{v.name}{v.layer}", seed) for v, seed in chunk])
    facts = {seed: _layer_facts(spec, init_a, init_b, seed, x_train) for seed in seeds}
    cell = ablation.columns()
    rows = []
    for (variant, seed), r in zip(runs, results, strict=True):
        layer = facts[seed][variant.layer - 1] if variant.name == SWAP else dict.fromkeys(facts[seed][0])
        rows.append(
            {"seed": seed, **cell, "variant": variant.name, "layer": variant.layer}
            | layer
            | {
                "start_loss": r.start_loss,
                "end_loss": r.end_loss,
                "val_acc": r.val_acc,
                "diverged": r.diverged,
                "diverged_step": r.diverged_step,
            }
        )
    return rows
