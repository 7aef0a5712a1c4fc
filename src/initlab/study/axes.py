"""The study's job axes from the config: which probe and training jobs exist, and their paths.

Learning rates (per optimizer) and widths (probe and training) take one value or a list. A list
makes the value a job axis, named in the job's path (``/lr0.001``, ``/width16``); one value
keeps the path it has always had (no segment), so a study without lists keeps its files, and
its tables stay byte-identical. Pure Python: the workflow calls it while building the DAG.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def as_list(value: Any) -> list[Any]:
    """A config value that may be one item or a list, as a list."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def lr_label(lr: float) -> str:
    """A learning rate as a path names it: Python's shortest round-trip form (0.001, 1e-05, 1.0)."""
    return str(float(lr))


def lr_dir(lrs: list[float], lr: float) -> str:
    """The path segment of one learning rate: empty when the optimizer has only one."""
    return "" if len(lrs) == 1 else f"/lr{lr_label(lr)}"


def width_dir(widths: list[int], width: int) -> str:
    """The path segment of one width: empty when the section has only one."""
    return "" if len(widths) == 1 else f"/width{width}"


def learning_rates(training: Mapping[str, Any]) -> dict[str, list[float]]:
    """Optimizer -> its learning rates (``training.optimizers``: a number or a list per optimizer)."""
    return {opt: as_list(lr) for opt, lr in training["optimizers"].items()}


def probe_cells(probe: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One dict per probe job but the seed block: activation, width and its path segment."""
    widths = as_list(probe["width"])
    return [
        {"activation": act, "width": w, "widthdir": width_dir(widths, w)}
        for act in probe["activations"]
        for w in widths
    ]


def train_cells(training: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One dict per training job but the seed block: every axis's value and the lr/width segments."""
    widths = as_list(training["width"])
    return [
        {
            "activation": act,
            "optimizer": opt,
            "lr": lr,
            "lrdir": lr_dir(lrs, lr),
            "width": w,
            "widthdir": width_dir(widths, w),
            "depth": depth,
        }
        for act in training["activations"]
        for opt, lrs in learning_rates(training).items()
        for lr in lrs
        for w in widths
        for depth in training["depths"]
    ]


def lookup_lr(training: Mapping[str, Any], optimizer: str, lrdir: str) -> float:
    """The configured learning rate a job's ``{optimizer}{lrdir}`` path names."""
    lrs = learning_rates(training)[optimizer]
    return next(lr for lr in lrs if lr_dir(lrs, lr) == lrdir)


def lookup_width(section: Mapping[str, Any], widthdir: str) -> int:
    """The configured width a job's ``{widthdir}`` path segment names."""
    widths = as_list(section["width"])
    return next(w for w in widths if width_dir(widths, w) == widthdir)
