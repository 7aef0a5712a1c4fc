"""Lesson-style loop (one model at a time) against the stacked trainer, on one thread.

For the lesson's Lab 2 cell (6 init schemes, depth 2, width 64, 120 Adam steps) and the same
models at depth 8 and 16, times both paths in this one process, checks they give the same
numbers, and prints per-model milliseconds, the speed-up, and the stacked trainer's achieved
GFLOP/s next to this machine's single-thread float32 matmul peak measured in the same run.

    python benchmarks/bench_train.py [--seeds N] [--repeats R]

Last line: speedup_lab2=<x> speedup_depth8=<x> speedup_depth16=<x> peak_fraction=<x> gemm_ceiling=<x>
(peak_fraction: the depth-16 stacked trainer's GFLOP/s over the matmul peak; gemm_ceiling: one
hidden layer's batched products alone, operands in cache, over the same peak: what the trainer
could reach if everything but its matrix products cost nothing).
"""

from __future__ import annotations

import argparse
import time

import torch

from initlab.engine.data import make_moons_split
from initlab.engine.lesson import LAB2_INITS, LAB2_SPEC
from initlab.engine.train import TrainSpec, train_one, train_stacked


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best single-thread float32 GEMM rate of ``repeats`` n x n products."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = min(_seconds(lambda: torch.mm(a, b)) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def layer_gemm_gflops(k: int, n: int, width: int, repeats: int = 20) -> float:
    """The stacked trainer's ceiling: GFLOP/s of one hidden layer's three batched products
    (forward ``baddbmm``, the weights' and the inputs' gradients, as ``StackedPass`` calls them)
    over a stack of ``k`` models, run back to back on operands already in cache. The trainer
    cannot beat it without other kernels, and other kernels would round differently."""
    h, g = torch.randn(k, n, width), torch.randn(k, n, width)
    w, b = torch.randn(k, width, width), torch.randn(k, 1, width)
    out, grad_w = torch.empty(k, n, width), torch.empty(k, width, width)

    def products() -> None:
        torch.baddbmm(b, h, w.transpose(1, 2), out=out)
        torch.bmm(g.transpose(1, 2), h, out=grad_w)
        torch.bmm(g, w, out=out)

    products()
    best = min(_seconds(products) for _ in range(repeats))
    return 3 * 2 * k * n * width * width / best / 1e9


def training_flops(spec: TrainSpec, n_train: int) -> float:
    """Multiply-add FLOPs of one model's training run: per step a forward (2*N*in*out per layer)
    and a backward twice that (grad of weights and of inputs), plus the final forward."""
    sizes = [2] + [spec.width] * spec.depth + [2]
    forward = sum(2 * n_train * i * o for i, o in zip(sizes, sizes[1:], strict=False))
    return spec.steps * 3 * forward + forward


def bench_cell(split, spec: TrainSpec, runs, repeats: int) -> dict[str, float]:
    lone_s = min(_seconds(lambda: [train_one(split, spec, *r) for r in runs]) for _ in range(repeats))
    stacked_s = min(_seconds(lambda: train_stacked(split, spec, runs)) for _ in range(repeats))
    lone = [train_one(split, spec, *r) for r in runs]
    stacked = train_stacked(split, spec, runs)
    same = all(a.curve == b.curve or a.diverged for a, b in zip(lone, stacked, strict=True))
    flops = training_flops(spec, len(split.x_train)) * len(runs)
    return {
        "lone_ms_per_model": 1e3 * lone_s / len(runs),
        "stacked_ms_per_model": 1e3 * stacked_s / len(runs),
        "speedup": lone_s / stacked_s,
        "gflops": flops / stacked_s / 1e9,
        "same_numbers": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1, help="seeds per init (models = 6 x seeds)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many timings")
    args = parser.parse_args()
    torch.set_num_threads(1)
    split = make_moons_split()
    runs = [(init, seed) for seed in range(9, 9 + args.seeds) for init in LAB2_INITS]
    peak = matmul_peak_gflops()
    print(f"matmul peak (1 thread, float32 2048^3): {peak:.1f} GFLOP/s")
    figures = {}
    for label, depth in (("lab2", 2), ("depth8", 8), ("depth16", 16)):
        spec = TrainSpec(depth=depth, width=LAB2_SPEC.width, activation="relu", optimizer="adam", lr=0.01, steps=120)
        r = bench_cell(split, spec, runs, args.repeats)
        figures[label] = r
        print(
            f"{label:8s} models={len(runs):3d} lone={r['lone_ms_per_model']:8.1f} ms/model "
            f"stacked={r['stacked_ms_per_model']:8.1f} ms/model speedup={r['speedup']:5.2f}x "
            f"stacked={r['gflops']:5.1f} GFLOP/s ({r['gflops'] / peak:.0%} of peak) same_numbers={r['same_numbers']}"
        )
    from initlab.engine.stacking import stack_size

    k = stack_size(16, LAB2_SPEC.width, len(split.x_train))
    ceiling = layer_gemm_gflops(k, len(split.x_train), LAB2_SPEC.width)
    print(
        f"one hidden layer's three batched products alone ({k} models, operands in cache): "
        f"{ceiling:.1f} GFLOP/s ({ceiling / peak:.0%} of peak): the stacked trainer's ceiling"
    )
    print(
        f"speedup_lab2={figures['lab2']['speedup']:.2f} speedup_depth8={figures['depth8']['speedup']:.2f} "
        f"speedup_depth16={figures['depth16']['speedup']:.2f} peak_fraction={figures['depth16']['gflops'] / peak:.2f} "
        f"gemm_ceiling={ceiling / peak:.2f}"
    )


if __name__ == "__main__":
    main()
