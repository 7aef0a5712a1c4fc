"""Loading the study's tidy tables, and the display order of init schemes."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from initlab.engine.initspec import BUILTIN_SPECS
from initlab.study.frames import read_frame
from initlab.study.tables import TABLE

#: Display order of init schemes (figures, tables): the registry's order; unknown names (custom
#: inits) go last.
INIT_ORDER = tuple(BUILTIN_SPECS)


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
    models: pd.DataFrame | None = None  # models.csv (configured models); None: the config has none
    model_curves: pd.DataFrame | None = None  # model_curves.csv, their loss curves


def load_tables(tables_dir: str | Path) -> Tables:
    """Read and type-check every table; fail with the missing file or column named."""
    tables_dir = Path(tables_dir)
    paths = {name: tables_dir / f"{name}.csv" for name in TABLE}
    missing = [str(path) for name, path in paths.items() if not path.exists() and not TABLE[name].optional]
    if missing:
        raise FileNotFoundError(f"missing tables: {', '.join(missing)}")
    loaded = {
        name: normalise_table(name, read_csv(path, name)) if path.exists() else None for name, path in paths.items()
    }
    return Tables(**loaded)


def read_csv(path: Path, name: str) -> pd.DataFrame:
    """Table ``name`` as its CSV says it, its file checked line by line first (``initlab.study.frames``)."""
    return read_frame(path, name)


def missing_columns(name: str, df: pd.DataFrame) -> list[str]:
    """The columns of table ``name`` that ``df`` lacks."""
    return [col for col in TABLE[name].columns if col not in df.columns]


def normalise_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Check the columns of table ``name`` and coerce its flag columns to bool."""
    missing = missing_columns(name, df)
    if missing:
        raise ValueError(f"table {name} lacks columns {missing}")
    df = df.copy()
    for col in TABLE[name].flags:
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


_MEMOS: list[list[tuple[tuple[object, ...], object]]] = []
_MEMOISING: list[bool] = []


@contextmanager
def memoised() -> Iterator[None]:
    """Within the block, :func:`same_inputs_once` functions compute once per input; after it, forget."""
    _MEMOISING.append(True)
    try:
        yield
    finally:
        _MEMOISING.pop()
        if not _MEMOISING:
            for memo in _MEMOS:
                memo.clear()


#: Inputs remembered per function: a few tables (a study's, a test's flipped copy), not a cache of all.
MEMO_SIZE = 3


def same_inputs_once(func: Callable) -> Callable:
    """Compute ``func`` once for the same input objects (by identity, positional arguments only).

    The report asks several answers, claims and captions for the same derived table (the probe's
    failure depths, theory beside measurement); at 100 seeds each costs seconds. Only inside
    :func:`memoised` (one report build, whose tables nobody changes); elsewhere every call computes,
    so a caller that edits a table in place between calls sees the edit. The last inputs are held,
    so their identity stays valid; a DataFrame result is handed out as a copy.
    """
    memo: list[tuple[tuple[object, ...], object]] = []
    _MEMOS.append(memo)

    @functools.wraps(func)
    def wrapper(*args: object) -> object:
        if not _MEMOISING:
            return func(*args)
        found = [r for held, r in memo if len(held) == len(args) and all(map(operator.is_, held, args))]
        if found:
            result = found[0]
        else:
            result = func(*args)
            memo[:] = [(args, result), *memo[: MEMO_SIZE - 1]]
        return result.copy() if isinstance(result, pd.DataFrame) else result

    return wrapper
