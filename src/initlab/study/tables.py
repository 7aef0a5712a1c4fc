"""The tidy tables' columns, and the plain CSV writer the compute jobs use.

Each table's columns are listed once, here; the jobs write them, the aggregation reads and
sorts by their key columns, the README documents them. The writer uses the ``csv`` module,
not pandas, so a training job's start-up stays at ``import torch``. Floats are written with
9 significant digits, which round-trips every float32 exactly and keeps two runs of the same
configuration byte-identical.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Mapping

PROBE_KEYS = ["seed", "activation", "init", "depth", "width", "layer"]
PROBE_COLUMNS = PROBE_KEYS + [
    "mean", "std", "zero_ratio", "saturated_ratio", "nonfinite_ratio", "grad_norm", "act_grad_norm",
]

TRAINING_KEYS = ["seed", "depth", "width", "activation", "optimizer", "lr", "steps", "init"]
TRAINING_COLUMNS = TRAINING_KEYS + [
    "start_loss", "end_loss", "val_acc", "diverged", "diverged_step",
    "probe_out_mean", "probe_out_std", "probe_all_finite",
]

CURVE_KEYS = ["seed", "depth", "width", "activation", "optimizer", "lr", "init", "step"]
CURVE_COLUMNS = CURVE_KEYS + ["loss"]

# The layer-swap ablation (initlab.engine.ablation): variant all_a / swap / all_b; layer is the
# swapped Linear (1-based, 0 for all_a and all_b), fan_in .. weight_std_b describe that layer.
ABLATION_KEYS = [
    "seed", "depth", "width", "activation", "optimizer", "lr", "steps", "init_a", "init_b", "variant", "layer",
]
ABLATION_COLUMNS = ABLATION_KEYS + [
    "fan_in", "fan_out", "weight_std_a", "weight_std_b", "start_loss", "end_loss", "val_acc", "diverged",
    "diverged_step",
]

LAB_KEYS = ["lab", "row", "metric"]
LAB_COLUMNS = LAB_KEYS + ["lesson_value", "measured_value", "matches"]

# Theory's prediction per probe layer (initlab.study.theory): signal_probe's columns less the
# seed, plus the pre-activation variance q, the backward factor chi, whether the init is
# data-dependent (LSUV: predicted as unit pre-activation variance by construction), whether the
# signal left float32's range, and the failure theory predicts for the whole network.
THEORY_KEYS = ["activation", "init", "depth", "width", "layer"]
THEORY_COLUMNS = THEORY_KEYS + [
    "data_dependent", "q", "mean", "std", "zero_ratio", "saturated_ratio", "grad_norm", "act_grad_norm",
    "chi", "out_of_range", "failure",
]

# Theory's MoonMLP at initialisation (initlab.study.theory.moon_start_grid): the logits' std and
# the expected cross-entropy, to hold against training.csv's start_loss.
THEORY_START_KEYS = ["activation", "init", "depth", "width"]
THEORY_START_COLUMNS = THEORY_START_KEYS + ["data_dependent", "logit_std", "start_loss"]

# import_seconds, work_seconds: CPU seconds (start-up incl. imports; real work); see initlab.cli.
TIMING_COLUMNS = ["job", "import_seconds", "work_seconds", "work_wall_seconds", "started_at", "finished_at"]

# name -> (columns, sort keys): what the aggregation concatenates and how it orders rows.
TABLES: dict[str, tuple[list[str], list[str]]] = {
    "signal_probe": (PROBE_COLUMNS, PROBE_KEYS),
    "training": (TRAINING_COLUMNS, TRAINING_KEYS),
    "curves": (CURVE_COLUMNS, CURVE_KEYS),
    "ablation": (ABLATION_COLUMNS, ABLATION_KEYS),
}


def format_value(value: object) -> str:
    """One CSV field: floats to 9 significant digits, None to empty, the rest as ``str``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, ".9g")
    return str(value)


def write_csv(path: str | Path, columns: list[str], rows: Iterable[Mapping[str, object]]) -> None:
    """Write ``rows`` (mappings with at least ``columns``) to ``path`` with a header line."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([format_value(row[c]) for c in columns])
