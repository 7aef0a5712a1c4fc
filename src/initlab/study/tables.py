"""The study's tables: one ``Table`` record each, and the plain CSV writer the compute jobs use.

Every fact about a table is written once, in its record below: its columns and key columns,
the columns no row may leave empty, the job kind that writes it, the rule that redoes it, how
its floats are written, whether a report can do without it, and which of its columns are flags
or text. Everything else (aggregation, completeness checks, the manifest, the report's and
``initlab compare``'s loaders, the workflow's wildcard constraints and inputs) derives from
:data:`TABLES`, so a new table or column is one edit here.

The writer uses the ``csv`` module, not pandas, so a training job's start-up stays at
``import torch``. Floats are written with 9 significant digits, which round-trips every float32
exactly and keeps two runs of the same configuration byte-identical.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: 9 significant digits round-trip every float32: the reproducible tables' float format.
TABLE_FLOAT_FORMAT = "%.9g"
#: The table every compute job adds a row to: its CPU and wall seconds (``initlab.cli``).
TIMINGS = "timings"


@dataclass(frozen=True)
class Table:
    """One tidy table: what it holds, who writes it, and how it is checked and read."""

    name: str
    #: Key columns, in sort order: a row's key identifies its observation (unique in the table).
    keys: tuple[str, ...]
    #: Value columns, after the keys.
    values: tuple[str, ...]
    #: Columns besides the keys that every row fills (statistics may be NaN when a model diverged).
    required: tuple[str, ...] = ()
    #: The job kind (``initlab.study.axes.KINDS``) whose per-job files the aggregation
    #: concatenates into this table; None for a table one rule writes whole.
    kind: str | None = None
    #: The rule to force after deleting a bad file of the table, so Snakemake redoes exactly that
    #: file: for a table jobs write piecewise that is the aggregation, which rebuilds its missing
    #: inputs (only the deleted job's); a plain rerun would say "Nothing to be done", the report
    #: downstream being newer than everything that exists.
    rule: str = "aggregate"
    #: The aggregation's float format (None: pandas' full precision, for wall-clock readings).
    float_format: str | None = TABLE_FLOAT_FORMAT
    #: The same config gives the same bytes (timings are wall-clock readings): only reproducible
    #: tables go in the manifest and are compared by ``initlab compare``.
    reproducible: bool = True
    #: Only some configs make it (ablations), or it was added after older results were made:
    #: the report reads it when present.
    optional: bool = False
    #: Whether the config says which rows it must hold (``initlab.study.expected``).
    checked: bool = True
    #: Columns holding True/False flags (CSV gives strings when NaN is mixed in).
    flags: tuple[str, ...] = ()
    #: Columns whose printed form carries information (the lesson's decimals): read as text.
    text: tuple[str, ...] = ()
    #: Columns of names (an activation, an init, a variant): text, never numbers. Every column that
    #: is neither a name, text nor a flag holds numbers, which the table reader checks.
    labels: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        """The CSV header: keys, then values."""
        return [*self.keys, *self.values]

    @property
    def numbers(self) -> list[str]:
        """The columns that hold numbers (empty allowed where not required; nan and inf are numbers)."""
        return [c for c in self.columns if c not in (*self.labels, *self.text, *self.flags)]

    @property
    def required_columns(self) -> list[str]:
        """Columns that must never be empty: the keys and :attr:`required`."""
        return [*self.keys, *self.required]

    @property
    def aggregated(self) -> bool:
        """Made by concatenating per-job files: its kind's tables, and the timings every job writes."""
        return self.kind is not None or self.name == TIMINGS


#: What every trained network's row records, the lesson's MoonMLP (``training``) and a configured
#: model (``models``) alike: start and end loss, validation accuracy, divergence and the lesson's
#: quick output probe at the start; the flags among them.
RUN_VALUES = (
    "start_loss",
    "end_loss",
    "val_acc",
    "diverged",
    "diverged_step",
    "probe_out_mean",
    "probe_out_std",
    "probe_all_finite",
)
RUN_FLAGS = ("diverged", "probe_all_finite")

TABLES: tuple[Table, ...] = (
    Table(
        "signal_probe",
        keys=("seed", "activation", "init", "depth", "width", "layer"),
        values=("mean", "std", "zero_ratio", "saturated_ratio", "nonfinite_ratio", "grad_norm", "act_grad_norm"),
        kind="probe",
        labels=("activation", "init"),
    ),
    Table(
        "training",
        keys=("seed", "depth", "width", "activation", "optimizer", "lr", "steps", "init"),
        values=RUN_VALUES,
        required=RUN_FLAGS,
        kind="train",
        flags=RUN_FLAGS,
        labels=("activation", "optimizer", "init"),
    ),
    Table(
        "curves",
        keys=("seed", "depth", "width", "activation", "optimizer", "lr", "init", "step"),
        values=("loss",),
        kind="train",
        labels=("activation", "optimizer", "init"),
    ),
    # The lesson's printed tables against the replay (rule lab_replay).
    Table(
        "lab_reproduction",
        keys=("lab", "row", "metric"),
        values=("lesson_value", "measured_value", "matches"),
        required=("lesson_value", "measured_value", "matches"),
        rule="lab_replay",
        flags=("matches",),
        text=("lab", "row", "metric", "lesson_value", "measured_value"),
    ),
    # The layer-swap ablation (initlab.engine.ablation): variant all_a / swap / all_b; layer is the
    # swapped Linear (1-based, 0 for all_a and all_b), fan_in .. weight_std_b describe that layer
    # (empty on all_a and all_b rows).
    Table(
        "ablation",
        keys=(
            "seed",
            "depth",
            "width",
            "activation",
            "optimizer",
            "lr",
            "steps",
            "init_a",
            "init_b",
            "variant",
            "layer",
        ),
        values=(
            "fan_in",
            "fan_out",
            "weight_std_a",
            "weight_std_b",
            "start_loss",
            "end_loss",
            "val_acc",
            "diverged",
            "diverged_step",
        ),
        required=("diverged",),
        kind="ablation",
        optional=True,
        flags=("diverged",),
        labels=("activation", "optimizer", "init_a", "init_b", "variant"),
    ),
    # Theory's prediction per probe layer (initlab.study.theory): signal_probe's columns less the
    # seed, plus the pre-activation variance q, the backward factor chi, whether the init is
    # data-dependent (LSUV: predicted as unit pre-activation variance by construction), whether the
    # signal left float32's range, and the failure theory predicts for the whole network.
    Table(
        "theory",
        keys=("activation", "init", "depth", "width", "layer"),
        values=(
            "data_dependent",
            "q",
            "mean",
            "std",
            "zero_ratio",
            "saturated_ratio",
            "grad_norm",
            "act_grad_norm",
            "chi",
            "out_of_range",
            "failure",
        ),
        rule="theory",
        optional=True,  # results made before theory existed have none
        checked=False,
        flags=("data_dependent", "out_of_range"),
        labels=("activation", "init", "failure"),
    ),
    # Theory's MoonMLP at initialisation (initlab.study.theory.moon_start_grid): the logits' std and
    # the expected cross-entropy, to hold against training.csv's start_loss.
    Table(
        "theory_start",
        keys=("activation", "init", "depth", "width"),
        values=("data_dependent", "logit_std", "start_loss"),
        rule="theory_start",
        optional=True,
        checked=False,
        flags=("data_dependent",),
        labels=("activation", "init"),
    ),
    # Configured models (config `models:`, initlab.engine.modeltrain): training.csv's values per
    # trained model, plus inspect's verdict on the same starting weights before training
    # (probe_verdict healthy / problems found, the first failure and the layer it is at) and the
    # batch size it trained with.
    Table(
        "models",
        keys=("seed", "model", "dataset", "optimizer", "lr", "steps", "init"),
        values=(
            *RUN_VALUES,
            "probe_verdict",
            "probe_failure",
            "probe_layer",
            "batch_size",
            "classes",
        ),
        required=(*RUN_FLAGS, "probe_verdict", "batch_size", "classes"),
        kind="model",
        optional=True,
        flags=RUN_FLAGS,
        text=("model", "dataset", "probe_layer"),  # a layer's path ("0", "features.2") is a name, not a number
        labels=("model", "dataset", "optimizer", "init", "probe_verdict", "probe_failure", "probe_layer"),
    ),
    Table(
        "model_curves",
        keys=("seed", "model", "dataset", "optimizer", "lr", "init", "step"),
        values=("loss",),
        kind="model",
        optional=True,
        text=("model", "dataset"),
        labels=("model", "dataset", "optimizer", "init"),
    ),
    # import_seconds, work_seconds: CPU seconds (start-up incl. imports; real work); see initlab.cli.
    # Kept apart from the reproducible tables: a rerun from cached tables may not have them.
    Table(
        TIMINGS,
        keys=("job",),
        values=("import_seconds", "work_seconds", "work_wall_seconds", "started_at", "finished_at"),
        rule="aggregate_timings",
        float_format=None,
        reproducible=False,
        optional=True,
        checked=False,
        labels=("job",),
    ),
)

#: Every table by name.
TABLE: dict[str, Table] = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The table ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    try:
        return TABLE[name]
    except KeyError:
        raise ValueError(f"unknown table {name!r}; valid tables: {', '.join(sorted(TABLE))}") from None


def tables_of_kind(kind: str) -> list[Table]:
    """The tables a job kind writes, in :data:`TABLES` order."""
    return [t for t in TABLES if t.kind == kind]


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


def write_table(path: str | Path, name: str, rows: Iterable[Mapping[str, object]]) -> None:
    """Write ``rows`` as table ``name`` (its columns, in order)."""
    write_csv(path, table(name).columns, rows)
