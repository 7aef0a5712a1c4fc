"""Table by table: byte-identical or not, and if not, which cells and rows differ and by how much.

Rows are matched on each table's key columns (:mod:`initlab.study.tables`), so a
difference is located by its key ("seed 3, relu, he, depth 8, layer 8") and rows
present on one side only are counted by what differs ("B adds seeds 10–19").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from initlab.report.compare.inputs import ResultSet
from initlab.study.tables import TABLE


@dataclass(frozen=True)
class ColumnDiff:
    """One value column's differences over the rows both sides have.

    ``max_abs``/``max_rel``/``max_ulps`` are NaN for a text column. ``max_ulps`` counts
    float32 units in the last place (the tables hold float32 values printed to 9 digits),
    which tells rounding (a few ulps) from a real change. ``where`` is the key of the row
    with the largest absolute difference (the first differing row for text).
    """

    column: str
    cells: int
    max_abs: float
    max_rel: float
    max_ulps: float
    where: str
    a_value: str
    b_value: str


@dataclass(frozen=True)
class TableDiff:
    """How one table differs between A and B."""

    name: str
    identical: bool
    rows_a: int
    rows_b: int
    rows_both: int
    only_a: int
    only_b: int
    #: What the one-sided rows differ by, e.g. ["B adds seed 10–19", "B lacks seed 0–9"].
    row_changes: list[str] = field(default_factory=list)
    columns: list[ColumnDiff] = field(default_factory=list)
    #: Columns that exist on one side only (a newer table format).
    column_changes: list[str] = field(default_factory=list)

    @property
    def cells_differing(self) -> int:
        return sum(c.cells for c in self.columns)

    def summary(self) -> str:
        """One line: 'identical', or what differs."""
        if self.identical:
            return "identical (byte for byte)"
        parts = []
        if self.columns:
            parts.append(
                f"{self.cells_differing} cell{'s' if self.cells_differing != 1 else ''} differ in "
                f"{len(self.columns)} column{'s' if len(self.columns) != 1 else ''} of {self.rows_both} common rows"
            )
        elif self.rows_both and not (self.only_a or self.only_b or self.column_changes):
            parts.append(f"same values in all {self.rows_both} rows, different bytes (formatting or order)")
        if self.only_a or self.only_b:
            parts.append(f"rows only in A: {self.only_a}, only in B: {self.only_b} ({'; '.join(self.row_changes)})")
        parts.extend(self.column_changes)
        return "; ".join(parts)


def format_values(values: list[object]) -> str:
    """Sorted values, integer runs as ranges: [0, 1, 2, 5] -> '0–2, 5'."""
    values = sorted(
        values,
        key=lambda v: (
            not isinstance(v, (int, np.integer)),
            str(v) if not isinstance(v, (int, np.integer)) else int(v),
        ),
    )
    if not all(isinstance(v, (int, np.integer)) for v in values):
        return ", ".join(str(v) for v in values)
    runs: list[list[int]] = []
    for v in (int(v) for v in values):
        if runs and v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in runs)


def _key_text(keys: list[str], row: pd.Series) -> str:
    return ", ".join(f"{k} {row[k]}" for k in keys)


def _row_changes(keys: list[str], a: pd.DataFrame, b: pd.DataFrame, only_a: int, only_b: int) -> list[str]:
    """What the one-sided rows differ by: per key column, the values one side has and the other lacks."""
    changes = []
    for key in keys:
        values_a, values_b = set(a[key].dropna().tolist()), set(b[key].dropna().tolist())
        if values_b - values_a:
            changes.append(f"B adds {key} {format_values(list(values_b - values_a))}")
        if values_a - values_b:
            changes.append(f"B lacks {key} {format_values(list(values_a - values_b))}")
    if not changes and (only_a or only_b):
        changes.append("the same key values, in other combinations")
    return changes


def _column_diff(column: str, keys: list[str], both: pd.DataFrame) -> ColumnDiff | None:
    a, b = both[f"{column}_a"], both[f"{column}_b"]
    numeric = (
        pd.api.types.is_numeric_dtype(a)
        and pd.api.types.is_numeric_dtype(b)
        and not (pd.api.types.is_bool_dtype(a) or pd.api.types.is_bool_dtype(b))
    )
    if numeric:
        x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        same = (x == y) | (np.isnan(x) & np.isnan(y))
    else:
        same = (a.astype(str) == b.astype(str)).to_numpy() | (a.isna() & b.isna()).to_numpy()
    differ = ~same
    n = int(differ.sum())
    if n == 0:
        return None
    if numeric:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            abs_diff = np.abs(y - x)
            scale = np.maximum(np.abs(x), np.abs(y))
            rel = np.where(scale > 0, abs_diff / scale, 0.0)
            ulp = np.spacing(scale.astype(np.float32)).astype(float)
            ulps = np.where(ulp > 0, abs_diff / ulp, np.inf)
        # A NaN on one side only is the largest change there is.
        abs_diff = np.where(differ & ~np.isfinite(abs_diff), np.inf, np.where(differ, abs_diff, -1.0))
        at = int(np.argmax(abs_diff))
        finite = differ & np.isfinite(rel)
        return ColumnDiff(
            column,
            n,
            float(abs_diff[at]),
            float(rel[finite].max()) if finite.any() else np.inf,
            float(ulps[finite].max()) if finite.any() else np.inf,
            _key_text(keys, both.iloc[at]),
            f"{x[at]:.9g}",
            f"{y[at]:.9g}",
        )
    at = int(np.flatnonzero(differ)[0])
    return ColumnDiff(
        column, n, np.nan, np.nan, np.nan, _key_text(keys, both.iloc[at]), str(a.iloc[at]), str(b.iloc[at])
    )


def diff_table(name: str, a: ResultSet, b: ResultSet) -> TableDiff:
    """Compare table ``name`` of A and B: bytes first, then rows by key and cells by column."""
    frame_a, frame_b = a.frames[name], b.frames[name]
    if a.path(name).read_bytes() == b.path(name).read_bytes():
        return TableDiff(name, True, len(frame_a), len(frame_b), len(frame_a), 0, 0)
    keys = list(TABLE[name].keys)
    merged = frame_a.merge(frame_b, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    both = merged[merged["_merge"] == "both"].reset_index(drop=True)
    only_a = int((merged["_merge"] == "left_only").sum())
    only_b = int((merged["_merge"] == "right_only").sum())
    shared = [c for c in frame_a.columns if c in frame_b.columns and c not in keys]
    columns = [d for c in shared if (d := _column_diff(c, keys, both)) is not None]
    column_changes = [f"column {c} only in A" for c in frame_a.columns if c not in frame_b.columns]
    column_changes += [f"column {c} only in B" for c in frame_b.columns if c not in frame_a.columns]
    return TableDiff(
        name,
        False,
        len(frame_a),
        len(frame_b),
        len(both),
        only_a,
        only_b,
        _row_changes(keys, frame_a, frame_b, only_a, only_b) if (only_a or only_b) else [],
        columns,
        column_changes,
    )
