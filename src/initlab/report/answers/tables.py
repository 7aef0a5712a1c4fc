"""Loading the study's tidy tables, and the display order of init schemes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from initlab.study import tables as schema
#: Required columns of every table the report reads: the schema of
#: :mod:`initlab.study.tables`, where each table's columns are listed once.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    **{name: tuple(columns) for name, (columns, _keys) in schema.TABLES.items()},
    "lab_reproduction": tuple(schema.LAB_COLUMNS),
    "timings": tuple(schema.TIMING_COLUMNS),
    "theory": tuple(schema.THEORY_COLUMNS),
    "theory_start": tuple(schema.THEORY_START_COLUMNS),
}
#: Tables that may be missing: run times are not reproducible, so a rerun
#: from cached tables may not have them.
OPTIONAL_TABLES = frozenset({"timings", "ablation", "theory", "theory_start"})  # theory: tables made before it existed
#: Columns holding True/False flags (CSV gives strings when NaN is mixed in).
BOOL_COLUMNS = ("diverged", "probe_all_finite", "matches", "data_dependent", "out_of_range")
#: Columns whose *printed form* carries information (the number of decimals
#: is the resolution of the lesson's print), so they are kept as text.
TEXT_COLUMNS = ("lesson_value", "measured_value", "row", "lab", "metric")

#: Display order of init schemes (figures, tables); unknown names go last.
INIT_ORDER = (
    "default", "zeros", "tiny", "large", "xavier", "he", "xavier_uniform", "he_uniform",
    "lecun", "orthogonal", "lsuv",
)


@dataclass(frozen=True)
class Tables:
    """The study's tables as loaded from ``results/tables``."""

    signal_probe: pd.DataFrame
    training: pd.DataFrame
    curves: pd.DataFrame
    lab_reproduction: pd.DataFrame
    timings: pd.DataFrame | None
    #: The layer-swap ablation; None when the study configured no ``ablations``.
    ablation: pd.DataFrame | None = None
    theory: pd.DataFrame | None = None  # theory.csv (initlab.study.theory); None: not made
    theory_start: pd.DataFrame | None = None  # theory_start.csv (MoonMLP at init); None: not made


def load_tables(tables_dir: str | Path) -> Tables:
    """Read and type-check every table; fail with the missing file or column named."""
    tables_dir = Path(tables_dir)
    paths = {name: tables_dir / f"{name}.csv" for name in TABLE_COLUMNS}
    missing = [str(path) for name, path in paths.items() if not path.exists() and name not in OPTIONAL_TABLES]
    if missing:
        raise FileNotFoundError(f"missing tables: {', '.join(missing)}")
    loaded: dict[str, pd.DataFrame | None] = {}
    for name, path in paths.items():
        text_cols = {col: str for col in TEXT_COLUMNS if col in TABLE_COLUMNS[name]}
        loaded[name] = normalise_table(name, pd.read_csv(path, dtype=text_cols)) if path.exists() else None
    return Tables(**loaded)


def normalise_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Check the columns of table ``name`` and coerce flag columns to bool."""
    missing = [col for col in TABLE_COLUMNS[name] if col not in df.columns]
    if missing:
        raise ValueError(f"table {name} lacks columns {missing}")
    df = df.copy()
    for col in BOOL_COLUMNS:
        if col in df.columns:
            df[col] = df[col].map(_to_bool).astype(bool)
    return df


def _to_bool(value: object) -> bool:
    """CSV flags: True/False, true/false, 1/0; anything unreadable counts as False."""
    return str(value).strip().lower() in {"true", "1", "1.0", "yes"}


def init_order(names: Iterable[str]) -> list[str]:
    """Names sorted by :data:`INIT_ORDER`, unknown ones alphabetically after."""
    unique = sorted(set(names))
    known = [name for name in INIT_ORDER if name in unique]
    return known + [name for name in unique if name not in INIT_ORDER]


def closest(values: Iterable[float], target: float) -> float:
    """The available value nearest to the lesson's (ties: the smaller one)."""
    return min(values, key=lambda v: (abs(float(v) - target), float(v)))
