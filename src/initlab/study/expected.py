"""The rows a study promises: from the validated config, the exact key set of every table and job.

One place says which observations a configuration makes; the compute jobs check their own
output against it before they exit, the aggregation checks each table against it, and
``initlab verify`` re-checks a results folder with it. The jobs are those of
``initlab.study.axes.jobs`` and each job lists its own rows (``Job.rows``); this module turns
them into keys: the tuple of a row's key columns (the table's ``keys``,
``initlab.study.tables``) *as the CSV spells them* (``format_value``), so a check compares text
with text and never needs pandas: compute jobs import this module too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from initlab.study import axes
from initlab.study.tables import TABLE, TABLES, Table, format_value, table

Key = tuple[str, ...]
Config = Mapping[str, Any]


def made_tables(config: Config) -> list[Table]:
    """Every table ``config`` makes: each one rule writes whole, and a job kind's tables when the
    config has jobs of that kind (the ablation table only with ``ablations``)."""
    return [t for t in TABLES if t.kind is None or axes.jobs(config, t.kind)]


def key_of(row: Mapping[str, object], columns: Sequence[str]) -> Key:
    """A row's key as the CSV spells it."""
    return tuple(format_value(row[c]) for c in columns)


def job_keys(job: axes.Job, name: str) -> list[Key]:
    """Every key ``job`` promises in table ``name``, in the table's key-column order."""
    keys = TABLE[name].keys
    return [key_of(row, keys) for row in job.rows(name)]


def jobs(name: str, config: Config) -> list[axes.Job]:
    """Every job whose output makes up table ``name``, for ``config`` (validated, defaults filled in)."""
    kind = table(name).kind
    if kind is None:
        raise ValueError(
            f"no jobs write table {name!r} piecewise; such tables: {', '.join(t for t, r in TABLE.items() if r.kind)}"
        )
    return axes.jobs(config, kind)


def expected_keys(name: str, config: Config) -> list[Key]:
    """Every key table ``name`` must hold, once each, for ``config``.

    ``lab_reproduction`` does not depend on the config: its keys are the lesson's printed tables
    (read through ``initlab.engine.lesson``, which imports torch, so only when asked for).
    """
    if name == "lab_reproduction":
        from initlab.engine.lesson import LABS, lesson_text, parse_table

        return [
            key_of({"lab": lab, "row": c.row, "metric": c.metric}, TABLE[name].keys)
            for lab in LABS
            for c in parse_table(lab, lesson_text(lab))
        ]
    return [k for job in jobs(name, config) for k in job_keys(job, name)]


def job_columns(name: str) -> list[str]:
    """The key columns (besides the seed's block) that identify the job a row of ``name`` comes from:
    the columns its kind's cell gives every row."""
    kind = TABLE[name].kind
    if kind is None:
        return []
    cell_columns = axes.KINDS[kind].cell_type.ROW_FIELDS
    return [c for c in TABLE[name].keys if c in cell_columns]


def job_of(name: str, columns: Sequence[str], key: Key, block_size: int) -> Key:
    """The job a row of table ``name`` came from: its job columns' values and its seed's block."""
    where = {c: v for c, v in zip(columns, key, strict=True)}
    return tuple(where[c] for c in job_columns(name)) + (str(int(where["seed"]) // block_size),)


def describe(columns: Sequence[str], key: Iterable[str]) -> str:
    """``seed=0 init=he ...``: a key as a reader would write it."""
    return " ".join(f"{c}={v}" for c, v in zip(columns, key, strict=True))
