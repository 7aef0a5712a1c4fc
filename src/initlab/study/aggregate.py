"""Aggregation: the per-job CSVs of one table concatenated, sorted by the table's key columns.

Sorting by the keys (not by job order) makes the result independent of how seeds were
grouped into jobs and of which job finished first, so two runs of the same configuration
write byte-identical tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from initlab.study.completeness import check_files, read_table
from initlab.study.expected import expected_keys
from initlab.study.tables import TABLE

#: What ``initlab aggregate`` concatenates: every table jobs write piecewise.
AGGREGATED = [name for name, t in TABLE.items() if t.aggregated]


def aggregate(
    table: str, inputs: list[str | Path], out: str | Path, config: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Concatenate ``inputs`` (CSVs of ``table``'s columns), sort by its keys, write ``out``.

    With ``config`` (the validated study config), first check the inputs hold exactly the rows
    it promises (``initlab.study.completeness``): a lost, doubled or stray row stops here, with
    the file to redo, instead of becoming a smaller report.
    """
    if table not in AGGREGATED:
        raise ValueError(f"unknown table {table!r}; valid tables: {', '.join(sorted(AGGREGATED))}")
    record = TABLE[table]
    if config is not None and record.checked:
        files = [read_table(path, table) for path in inputs]
        check_files(files, expected_keys(table, config), config["seed_block_size"])
    columns, keys, float_format = record.columns, list(record.keys), record.float_format
    frames = [pd.read_csv(path) for path in inputs]
    for path, frame in zip(inputs, frames, strict=True):
        if list(frame.columns) != columns:
            raise ValueError(f"{path}: columns {list(frame.columns)} are not the {table} table's {columns}")
    data = pd.concat(frames, ignore_index=True).sort_values(keys, kind="stable", ignore_index=True)
    if data.duplicated(keys).any():
        dup = data[data.duplicated(keys, keep=False)].head(3).to_dict("records")
        raise ValueError(f"{table}: the same observation appears twice, e.g. {dup}")
    data.to_csv(out, index=False, float_format=float_format, lineterminator="\n")
    return data
