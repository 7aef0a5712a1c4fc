"""Configured models: one at a time (``initlab.engine.modeltrain``) against K copies trained together
with ``torch.func.stack_module_state`` + ``vmap``, on one thread, on the digits CNN.

For one seed's K inits of ``examples/digits_cnn.py:build`` on ``digits`` (the settings of
``config/digits.yaml``: Adam lr 0.01, its steps and batch size), both paths start from the same
weights and see the same batches; it times each (CPU seconds per trained model, best of
``--repeats``), prints the speed-up of vmap over one at a time, and how far the two paths' end
losses are apart (vmap's batched convolution rounds differently from the lone one, and Adam
amplifies last-bit differences over the steps).

    python benchmarks/bench_models.py [--inits N] [--repeats R] [--steps S] [--batch-size B]

Last line: one_at_a_time_s=<s per model> vmap_s=<s per model> speedup=<x> max_end_loss_diff=<d>
(the training loops alone; the line before it gives a model job's whole work per model).
"""

from __future__ import annotations

import argparse
import copy
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml

from initlab.engine import optim
from initlab.engine.cells import ModelCell
from initlab.engine.datasets import make
from initlab.engine.inits import INITS as BUILTIN_INITS
from initlab.engine.modeltrain import _batches, build_model, initialize, train_model
from initlab.study.axes import model_cells

REPO = Path(__file__).resolve().parents[1]
#: Every built-in init, the lesson's bad starts last (so that ``--inits K`` trains good ones first).
BAD_STARTS = ("tiny", "large", "zeros")
INITS = [*(name for name in BUILTIN_INITS if name not in BAD_STARTS), *BAD_STARTS]


def digits_cell(steps: int | None, batch_size: int | None) -> ModelCell:
    """config/digits.yaml's Adam cell (its factory read from the repository)."""
    config = yaml.safe_load((REPO / "config/digits.yaml").read_text())
    config.setdefault("training", {}).setdefault("steps", 120)
    config["training"].setdefault("curve_stride", 5)
    config["training"].setdefault("optimizers", {"adam": 0.01, "sgd": 0.1})
    cell = next(c for _, c in model_cells(config) if c.optimizer == "adam")
    factory = f"{REPO / cell.factory.rpartition(':')[0]}:{cell.factory.rpartition(':')[2]}"
    return ModelCell(
        cell.model,
        factory,
        cell.dataset,
        "adam",
        cell.lr,
        kwargs=cell.kwargs,
        activation=cell.activation,
        steps=steps or cell.steps,
        batch_size=batch_size or cell.batch_size,
        curve_stride=cell.curve_stride,
    )


def one_at_a_time(split, cell: ModelCell, models: list[torch.nn.Module]) -> list[float]:
    """The training loop of ``modeltrain.train_model`` alone (no probe, no inspect), model by model."""
    x, y = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    ends = []
    for m in models:
        model = copy.deepcopy(m)
        opt = optim.Adam(model.parameters(), cell.lr)
        batches = _batches(len(x), cell.batch_size, 0)
        for _ in range(cell.steps):
            idx = next(batches)
            xb, yb = (x, y) if idx is None else (x[idx], y[idx])
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            ends.append(F.cross_entropy(model(x), y).item())
    return ends


def whole_job(split, cell: ModelCell, models: list[torch.nn.Module], inits: list[str]) -> None:
    """What a model job does per model: inspect's verdict, the probe, training, the evaluations."""
    for m, init in zip(models, inits, strict=True):
        train_model(split, cell, copy.deepcopy(m), init, 0)


def together(split, cell: ModelCell, models: list[torch.nn.Module]) -> list[float]:
    """The same training (same batches, Adam's arithmetic) for K models as one vmapped function."""
    from torch.func import functional_call, stack_module_state, vmap

    x, y = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    params, buffers = stack_module_state([copy.deepcopy(m) for m in models])
    base = copy.deepcopy(models[0]).to("meta")

    def logits(p, b, xb):
        return functional_call(base, (p, b), (xb,))

    batched = vmap(logits, in_dims=(0, 0, None))
    tensors = list(params.values())
    opt = optim.Adam(tensors, cell.lr)
    batches = _batches(len(x), cell.batch_size, 0)
    for _ in range(cell.steps):
        idx = next(batches)
        xb, yb = (x, y) if idx is None else (x[idx], y[idx])
        out = batched(params, buffers, xb)  # (K, B, classes)
        k, n, c = out.shape
        loss = F.cross_entropy(out.reshape(k * n, c), yb.repeat(k), reduction="none").view(k, n).mean(1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        out = batched(params, buffers, x)
        return [F.cross_entropy(o, y).item() for o in out]


def best_cpu(fn, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.process_time()
        result = fn()
        best = min(best, time.process_time() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inits", type=int, default=len(INITS), help="models trained together (K)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None, help="default: config/digits.yaml's")
    parser.add_argument("--batch-size", type=int, default=None, help="default: config/digits.yaml's")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cell = digits_cell(args.steps, args.batch_size)
    split = make("digits", {"builtin": "digits"})
    inits = INITS[: args.inits]
    x_train = torch.from_numpy(split.x_train)
    built = build_model(cell, 0)
    models = [initialize(copy.deepcopy(built), cell, init, 0, x_train) for init in inits]
    lone_s, lone = best_cpu(lambda: one_at_a_time(split, cell, models), args.repeats)
    vmap_s, stacked = best_cpu(lambda: together(split, cell, models), args.repeats)
    job_s, _ = best_cpu(lambda: whole_job(split, cell, models, inits), 1)
    k = len(inits)
    diffs = [abs(a - b) for a, b in zip(lone, stacked, strict=True) if math.isfinite(a) and math.isfinite(b)]
    print(f"digits CNN, {k} models, {cell.steps} Adam steps, batch {cell.batch_size}, one thread")
    for init, a, b in zip(inits, lone, stacked, strict=True):
        print(f"  {init:15s} end loss one-at-a-time {a:.9g}  vmap {b:.9g}")
    print(f"a model job's work per model (inspect, probe, training, evaluation): {job_s / k:.3f} s")
    print(
        f"one_at_a_time_s={lone_s / k:.3f} vmap_s={vmap_s / k:.3f} speedup={lone_s / vmap_s:.2f} "
        f"max_end_loss_diff={max(diffs):.3g}"
    )


if __name__ == "__main__":
    main()
