"""Impossible configs, refused before any job runs: non-finite numbers, and jobs too big for their rule.

The schema checks each value on its own; these checks need the numbers together. A ``.nan`` or
``.inf`` learning rate passes ``exclusiveMinimum: 0`` (every comparison with NaN is false) and
would only fail inside a job; ``probe.width: 1000000`` is a valid integer whose jobs would need
terabytes. Each refusal is one line naming the key, the value and the bound, like the schema's
messages, and a size refusal states the estimate and the declared limit it exceeds.

The estimates are deliberately simple upper-side models (float32 tensors counted by shape, a
fixed matmul rate), calibrated so that the default study passes with room to spare and a job
that could not run is refused; they are not predictions of the real peak. Pure Python, no torch:
the workflow calls this while building the DAG.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from initlab.engine.cells import ProbeCell, TrainSpec
from initlab.engine.stacking import stack_size
from initlab.study import axes

#: Bytes of one float32 value: every tensor of the probe and the trainer.
FLOAT_BYTES = 4
#: Memory of a job before its tensors: Python, ``import torch`` and the data. ``import torch`` peaks
#: at 218 MB RSS on the project machine (``resource.getrusage`` after the import); the default
#: study's biggest train job peaks at 0.36 GB in all (docs/performance.md). 300 MB leaves headroom.
BASE_MB = 300
#: Matmul rate the time estimate assumes: the stacked trainer reached 43 GFLOP/s single-threaded in
#: the default study and the lone loop 22 GFLOP/s (docs/performance.md); 10 GFLOP/s is a slow
#: machine's, so an estimate above the limit means the job really cannot finish in time.
FLOPS_PER_SECOND = 10e9
#: Seconds of start-up every job pays (``import torch``, 1.2 s CPU measured) with headroom.
STARTUP_SECONDS = 5.0
#: The probe's batch and input size (``initlab.engine.probe.BATCH_SIZE`` / ``IN_FEATURES``, which
#: import torch; tests/study/test_configlimits.py holds the two equal).
PROBE_BATCH = 512
PROBE_IN_FEATURES = 32
#: Hidden-layer tensors the stacked trainer keeps per layer and sample: pre-activation, activation
#: and the gradient of each.
TRAIN_TENSORS_PER_LAYER = 4
#: Values kept per parameter while training: the weight, its gradient and Adam's two moments.
TRAIN_VALUES_PER_PARAMETER = 4
#: Multiply-adds of one forward and backward pass per weight and sample (2 forward, 4 backward).
FLOPS_PER_WEIGHT_AND_SAMPLE = 6


@dataclass(frozen=True)
class Estimate:
    """The biggest job of one rule, as the config makes it: its memory (MB) and time (minutes)."""

    rule: str
    keys: str  # the config keys that set the job's size, as the message names them
    mem_mb: float
    minutes: float
    basis: str


def nonfinite_values(config: Any, where: str = "") -> list[tuple[str, float]]:
    """Every NaN or infinite number in ``config``, with its key path (``training.optimizers.adam``)."""
    if isinstance(config, Mapping):
        return [hit for k, v in config.items() for hit in nonfinite_values(v, f"{where}.{k}" if where else str(k))]
    if isinstance(config, (list, tuple)):
        return [hit for i, v in enumerate(config) for hit in nonfinite_values(v, f"{where}[{i}]")]
    if isinstance(config, float) and not math.isfinite(config):
        return [(where or "(top level)", config)]
    return []


def check_finite(config: Mapping[str, Any]) -> None:
    """Refuse a NaN or infinity anywhere in ``config`` (``ValueError``, one line)."""
    bad = nonfinite_values(config)
    if bad:
        key, value = bad[0]
        raise ValueError(f"invalid config: {key} = {value!r} is not allowed; expected a finite number")


def _mb(values: float) -> float:
    return values * FLOAT_BYTES / 2**20


def _biggest_per_width(jobs: list[axes.Job], size: Callable[[axes.Job], tuple]) -> list[axes.Job]:
    """Per width (in config order), the job that is biggest by ``size``: the deepest cell with the
    largest seed block, which needs the most memory and the most time of its width."""
    biggest: dict[int, axes.Job] = {}
    for job in jobs:
        width = job.cell.width
        if width not in biggest or size(job) > size(biggest[width]):
            biggest[width] = job
    return list(biggest.values())


def probe_estimates(config: Mapping[str, Any]) -> list[Estimate]:
    """The biggest probe job per width: its deepest network in memory, all its networks in time."""
    out = []
    for job in _biggest_per_width(axes.jobs(config, "probe"), lambda j: (len(j.seeds),)):
        cell: ProbeCell = job.cell
        width, depths = cell.width, cell.depths
        deepest = max(depths)
        networks = len(job.seeds) * len(job.inits)
        weights = PROBE_IN_FEATURES * width + (deepest - 1) * width * width
        # weights and gradients, one extra W x W for an orthogonal init's QR, and the activations
        # (pre, post and their gradients) of the batch at every layer
        values = 2 * weights + width * width + 4 * PROBE_BATCH * width * deepest
        flops = networks * sum(
            FLOPS_PER_WEIGHT_AND_SAMPLE * PROBE_BATCH * width * width * d + 2 * width**3 * d for d in depths
        )
        out.append(
            Estimate(
                "probe",
                f"probe.width = {width} with probe.depths up to {deepest}",
                BASE_MB + _mb(values),
                (STARTUP_SECONDS + flops / FLOPS_PER_SECOND) / 60,
                f"width, depth, the {PROBE_BATCH}-input batch and {networks} networks per job",
            )
        )
    return out


def train_split_size(config: Mapping[str, Any]) -> int:
    """Training points of the config's data set: sklearn's ``train_test_split`` puts
    ceil(test_size x n_samples) in the test part."""
    data = config.get("dataset", {})
    samples = data.get("n_samples", 600)
    return samples - math.ceil(data.get("test_size", 0.25) * samples)


def train_estimates(config: Mapping[str, Any]) -> list[Estimate]:
    """The biggest train job per width: its deepest cell's stack in memory, all its models in time."""
    samples = config.get("dataset", {}).get("n_samples", 600)  # all of them: an upper bound on the train split
    train_samples = train_split_size(config)  # as the trainer's stacks see it
    out = []
    for job in _biggest_per_width(axes.jobs(config, "train"), lambda j: (j.cell.depth, len(j.seeds))):
        spec: TrainSpec = job.cell
        width, deepest, steps = spec.width, spec.depth, spec.steps
        models = len(job.seeds) * len(job.inits)
        stack = min(stack_size(deepest, width, train_samples), models)
        params = 2 * width + width + (deepest - 1) * (width * width + width) + 2 * width + 2
        per_model = TRAIN_VALUES_PER_PARAMETER * params + TRAIN_TENSORS_PER_LAYER * samples * width * deepest
        flops = FLOPS_PER_WEIGHT_AND_SAMPLE * samples * params * models * (steps + 1)
        out.append(
            Estimate(
                "train",
                f"training.width = {width} with training.depths up to {deepest} and training.steps = {steps}",
                BASE_MB + _mb(stack * per_model),
                (STARTUP_SECONDS + flops / FLOPS_PER_SECOND) / 60,
                f"width, depth, {samples} samples, {steps} steps, {stack} models per stack and {models} per job",
            )
        )
    return out


#: Rule -> its biggest jobs' estimates; a new compute rule adds its estimator here.
ESTIMATORS = {"probe": probe_estimates, "train": train_estimates}


def check_sizes(config: Mapping[str, Any], resources: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse a config whose biggest job would exceed its rule's declared ``mem_mb`` or ``runtime`` (minutes).

    ``resources`` maps a rule name to its declared resources; a limit that is not a plain number
    (a callable scaled by attempt) is not checked.
    """
    for rule, estimate_jobs in ESTIMATORS.items():
        limits = resources.get(rule, {})
        for e in estimate_jobs(config):
            where = f"invalid config: {e.keys} is too large: a {rule} job"
            mem, runtime = limits.get("mem_mb"), limits.get("runtime")
            if isinstance(mem, (int, float)) and e.mem_mb > mem:
                raise ValueError(
                    f"{where} would need about {e.mem_mb:,.0f} MB of memory (estimated from {e.basis}), "
                    f"over the {mem:,} MB its rule declares (resources.mem_mb); expected a smaller width or depth"
                )
            if isinstance(runtime, (int, float)) and e.minutes > runtime:
                raise ValueError(
                    f"{where} would take about {e.minutes:,.0f} min (estimated at {FLOPS_PER_SECOND / 1e9:g} GFLOP/s "
                    f"from {e.basis}), over the {runtime:,} min its rule declares (resources.runtime); "
                    "expected a smaller width, depth, step count or seed_block_size"
                )


def check_config(config: Mapping[str, Any], resources: Mapping[str, Mapping[str, Any]]) -> None:
    """Both checks, finite numbers first."""
    check_finite(config)
    check_sizes(config, resources)
