"""The rows a study promises: from the validated config, the exact key set of every table and job.

One place says which observations a configuration makes; the compute jobs check their own
output against it before they exit, the aggregation checks each table against it, and
``initlab verify`` re-checks a results folder with it. A key is the tuple of a row's key
columns (``initlab.study.tables``) *as the CSV spells them* (``format_value``), so a check
compares text with text and never needs pandas: compute jobs import this module too.

Every job axis is read through one small function below (``init_names``, ``probe_widths``,
``training_widths``, ``optimizer_lrs``, ...), each accepting a scalar or a list, so a new axis
(a list of widths, several learning rates per optimizer, custom inits) is one edit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from initlab.engine.ablation_plan import variants
from initlab.study.blocks import parse_seeds, seed_blocks
from initlab.study.tables import ABLATION_KEYS, CURVE_KEYS, PROBE_KEYS, TRAINING_KEYS, format_value

Key = tuple[str, ...]
Config = Mapping[str, Any]

#: The rule to force after deleting a bad file of each table, so that Snakemake redoes exactly that
#: file: forcing the aggregation makes it rebuild its missing inputs (only the deleted job's). A plain
#: rerun would not: the report downstream is still newer than everything that exists. Tried on
#: config/quick.yaml (a probe job's file deleted: `--forcerun aggregate` plans that 1 probe job,
#: the 3 aggregations and what follows; without it, "Nothing to be done").
REDO_RULE: dict[str, str] = {
    "signal_probe": "aggregate",
    "training": "aggregate",
    "curves": "aggregate",
    "lab_reproduction": "lab_replay",
    "ablation": "aggregate",
}

#: Columns that must never be empty: the keys, and the flags every row sets. Statistics such as
#: ``val_acc``, ``loss`` or ``std`` are legitimately empty (NaN) when a model diverged.
REQUIRED_COLUMNS: dict[str, list[str]] = {
    "signal_probe": PROBE_KEYS,
    "training": TRAINING_KEYS + ["diverged", "probe_all_finite"],
    "curves": CURVE_KEYS,
    "lab_reproduction": ["lab", "row", "metric", "lesson_value", "measured_value", "matches"],
    "ablation": ABLATION_KEYS + ["diverged"],  # fan_in etc. are empty on all_a/all_b rows
}

#: The key columns (besides the seed's block) that identify the job a row comes from.
JOB_COLUMNS: dict[str, list[str]] = {
    "signal_probe": ["activation", "width"],
    "training": ["activation", "optimizer", "lr", "depth", "width"],
    "curves": ["activation", "optimizer", "lr", "depth", "width"],
    "ablation": ["activation", "optimizer", "lr", "depth", "width", "steps", "init_a", "init_b"],
}


# --------------------------------------------------------------------------
# The job axes, one function each (scalar or list)
# --------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """A config value that may be one item or a list of items, as a list."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def seeds(config: Config) -> list[int]:
    return sorted(set(config["seeds"]))


def init_names(config: Config) -> list[str]:
    """``inits``: every init a job runs, built-in or custom (a ``custom_inits`` name runs only when
    ``inits`` lists it, as the workflow's jobs are told; ``check_study`` refuses unknown names)."""
    return list(config["inits"])


def probe_widths(config: Config) -> list[int]:
    return as_list(config["probe"]["width"])


def training_widths(config: Config) -> list[int]:
    return as_list(config["training"]["width"])


def optimizer_lrs(config: Config) -> list[tuple[str, float]]:
    """(optimizer, learning rate) pairs: ``{adam: 0.01}`` or ``{adam: [0.001, 0.01]}``."""
    return [(opt, float(lr)) for opt, lrs in config["training"]["optimizers"].items() for lr in as_list(lrs)]


def curve_steps(steps: int, stride: int) -> list[int]:
    """Steps whose loss the curves table keeps: 0, stride, 2*stride, ... and always the last.

    The same rule as ``initlab.engine.train.TrainSpec.curve_steps`` (a test holds the two
    equal); repeated here because that module imports torch.
    """
    return list(range(0, steps, stride)) + [steps]


# --------------------------------------------------------------------------
# Keys of one job's output
# --------------------------------------------------------------------------


def _key(*values: object) -> Key:
    return tuple(format_value(v) for v in values)


def probe_job_keys(seeds: Sequence[int], activation: str, inits: Sequence[str], depths: Sequence[int], width: int) -> list[Key]:
    """One key per layer of each probe network: ``PROBE_KEYS`` order."""
    return [
        _key(s, activation, i, d, width, layer)
        for s in seeds for i in inits for d in depths for layer in range(1, d + 1)
    ]


def training_job_keys(
    seeds: Sequence[int], activation: str, optimizer: str, lr: float, depth: int, width: int, steps: int,
    inits: Sequence[str],
) -> list[Key]:
    """One key per trained model: ``TRAINING_KEYS`` order."""
    return [_key(s, depth, width, activation, optimizer, float(lr), steps, i) for s in seeds for i in inits]


def curve_job_keys(
    seeds: Sequence[int], activation: str, optimizer: str, lr: float, depth: int, width: int, steps: int,
    curve_stride: int, inits: Sequence[str],
) -> list[Key]:
    """One key per kept loss of each model: ``CURVE_KEYS`` order."""
    kept = curve_steps(steps, curve_stride)
    return [_key(s, depth, width, activation, optimizer, float(lr), i, t) for s in seeds for i in inits for t in kept]


def ablation_job_keys(
    seeds: Sequence[int], activation: str, optimizer: str, lr: float, depth: int, width: int, steps: int,
    init_a: str, init_b: str,
) -> list[Key]:
    """One key per trained variant (``initlab.engine.ablation_plan.variants``): ``ABLATION_KEYS`` order."""
    return [
        _key(s, depth, width, activation, optimizer, float(lr), steps, init_a, init_b, v.name, v.layer)
        for s in seeds for v in variants(depth)
    ]


# --------------------------------------------------------------------------
# Every job of a config, and every table's keys
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One compute job: its table and the arguments its keys follow from."""

    table: str
    args: tuple[tuple[str, Any], ...]

    def keys(self) -> list[Key]:
        return JOB_KEYS[self.table](**dict(self.args))


#: An ``ablations`` entry's fields in ``ablation_job_keys``' argument order (after the seeds).
ABLATION_JOB_FIELDS = ("activation", "optimizer", "lr", "depth", "width", "steps", "init_a", "init_b")

JOB_KEYS = {
    "signal_probe": probe_job_keys,
    "training": training_job_keys,
    "curves": curve_job_keys,
    "ablation": ablation_job_keys,
}


def _blocks(config: Config) -> list[list[int]]:
    return [parse_seeds(name) for name in seed_blocks(seeds(config), config["seed_block_size"])]


def jobs(table: str, config: Config) -> list[Job]:
    """Every job whose output makes up ``table``, for ``config`` (validated, defaults filled in)."""
    inits = tuple(init_names(config))
    if table == "signal_probe":
        probe = config["probe"]
        return [
            Job(table, (("seeds", tuple(block)), ("activation", act), ("inits", inits),
                        ("depths", tuple(probe["depths"])), ("width", width)))
            for act in probe["activations"] for width in probe_widths(config) for block in _blocks(config)
        ]
    if table in ("training", "curves"):
        tr = config["training"]
        extra = (("curve_stride", tr["curve_stride"]),) if table == "curves" else ()
        return [
            Job(table, (("seeds", tuple(block)), ("activation", act), ("optimizer", opt), ("lr", lr),
                        ("depth", depth), ("width", width), ("steps", tr["steps"])) + extra + (("inits", inits),))
            for act in tr["activations"] for opt, lr in optimizer_lrs(config) for depth in tr["depths"]
            for width in training_widths(config) for block in _blocks(config)
        ]
    if table == "ablation":
        return [
            Job(table, (("seeds", tuple(block)),) + tuple((k, entry[k]) for k in ABLATION_JOB_FIELDS))
            for entry in config.get("ablations", []) for block in _blocks(config)
        ]
    raise ValueError(f"no jobs for table {table!r}; valid tables: {', '.join(sorted(JOB_KEYS))}")


def expected_keys(table: str, config: Config) -> list[Key]:
    """Every key ``table`` must hold, once each, for ``config``.

    ``lab_reproduction`` does not depend on the config: its keys are the lesson's printed tables
    (read through ``initlab.engine.lesson``, which imports torch, so only when asked for).
    """
    if table == "lab_reproduction":
        from initlab.engine.lesson import LABS, lesson_text, parse_table

        return [_key(lab, c.row, c.metric) for lab in LABS for c in parse_table(lab, lesson_text(lab))]
    return [k for job in jobs(table, config) for k in job.keys()]


def job_of(table: str, columns: Sequence[str], key: Key, block_size: int) -> Key:
    """The job a row of ``table`` came from: its job columns' values and its seed's block."""
    where = {c: v for c, v in zip(columns, key)}
    return tuple(where[c] for c in JOB_COLUMNS.get(table, [])) + (str(int(where["seed"]) // block_size),)


def describe(columns: Sequence[str], key: Iterable[str]) -> str:
    """``seed=0 init=he ...``: a key as a reader would write it."""
    return " ".join(f"{c}={v}" for c, v in zip(columns, key))

