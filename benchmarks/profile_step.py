"""Where a stacked training step's time goes: torch.profiler's self time, grouped by kind.

    python benchmarks/profile_step.py [--depth 16] [--activation relu] [--models 8] [--steps 40]

Trains ``--models`` He-initialized MoonMLPs as one stack (one thread, glibc told to keep freed
memory, as a study job does) under the profiler and prints each kind's share of the operators'
self time: matrix products, activation forward and backward, ``baddbmm``'s bias copy, the bias
gradient's sum, Adam, and the rest (loss head, Python-side dispatch). Issue 16's closing note
and README's Performance section quote it.

Last line: products=<share> activation_forward=<share> activation_backward=<share> bias_copy=<share>
bias_grad_sum=<share> adam=<share> rest=<share>
"""

from __future__ import annotations

import argparse

import torch
from torch.profiler import ProfilerActivity, profile

from initlab.engine.allocator import keep_freed_memory
from initlab.engine.data import make_moons_split
from initlab.engine.train import TrainSpec, train_stacked

KINDS: dict[str, tuple[str, ...]] = {
    "products": ("aten::bmm", "aten::baddbmm", "aten::mm", "aten::addmm"),
    "activation_forward": ("aten::tanh_", "aten::relu_", "aten::clamp_min_", "aten::sigmoid_"),
    "activation_backward": ("aten::threshold_backward", "aten::tanh_backward", "aten::sigmoid_backward"),
    "bias_copy": ("aten::copy_",),
    "bias_grad_sum": ("aten::sum",),
    "adam": (
        "aten::_foreach_lerp_",
        "aten::_foreach_mul_",
        "aten::_foreach_addcmul_",
        "aten::_foreach_sqrt",
        "aten::_foreach_div_",
        "aten::_foreach_add_",
        "aten::_foreach_addcdiv_",
        "aten::lerp_",
        "aten::mul_",
        "aten::addcmul_",
        "aten::sqrt",
        "aten::div_",
        "aten::add_",
        "aten::addcdiv_",
    ),
}


def shares(depth: int, activation: str, models: int, steps: int) -> dict[str, float]:
    """Each kind's share of the profiled operators' self CPU time for one stacked run."""
    torch.set_num_threads(1)
    keep_freed_memory()
    split = make_moons_split()
    spec = TrainSpec(depth=depth, width=64, activation=activation, optimizer="adam", lr=0.01, steps=steps)
    runs = [("he", seed) for seed in range(models)]
    train_stacked(split, spec, runs)  # warm-up: buffers, kernels, allocator
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train_stacked(split, spec, runs)
    kind_of = {op: kind for kind, ops in KINDS.items() for op in ops}
    totals = dict.fromkeys([*KINDS, "rest"], 0.0)
    for event in prof.key_averages():
        totals[kind_of.get(event.key, "rest")] += event.self_cpu_time_total
    whole = sum(totals.values())
    return {kind: t / whole for kind, t in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=16)
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    result = shares(args.depth, args.activation, args.models, args.steps)
    print(
        f"depth {args.depth}, {args.activation}, {args.models} models, {args.steps} Adam steps: "
        + "; ".join(f"{kind} {share:.0%}" for kind, share in result.items())
    )
    print(" ".join(f"{kind}={share:.2f}" for kind, share in result.items()))


if __name__ == "__main__":
    main()
