"""Opening a result set: a ``results/`` folder or a folder of report-ready tables.

A result set is what one study run left behind: its tables, its effective config
(``results/config.json``) and its record ``results/provenance.json``
(``initlab.study.provenance``: git commit, fingerprints, package versions, machine).
Only the tables are required; config and provenance are compared where both sides
have them. The report is never read: a folder without ``report.html`` compares fine.

Every problem that makes a side unreadable raises :class:`UnreadableInput` with
one line naming the side, the path and what was expected, so ``initlab compare``
can exit 2 without a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from initlab.report.answers.tables import Tables, load_tables, missing_columns, read_csv
from initlab.study.provenance import PROVENANCE_NAME, load_provenance
from initlab.study.tables import TABLES

#: The tables compared cell by cell: every reproducible table each study has. ``timings`` holds
#: wall-clock times, which differ between any two runs, so it is never compared.
COMPARED_TABLES = tuple(t.name for t in TABLES if t.reproducible and t.checked and not t.optional)
CONFIG_NAME = "config.json"


class UnreadableInput(ValueError):
    """A result set that cannot be compared (missing folder, table or column; unparsable file)."""


@dataclass(frozen=True)
class ResultSet:
    """One side of a comparison, loaded.

    ``frames`` are the tables as read (no coercion: the cell diff sees what the CSV
    says); ``tables`` the same, type-checked for the answers. ``config`` is None when
    no ``config.json`` was found; ``provenance`` (the run's ``provenance.json``) is None
    without one.
    """

    label: str
    root: Path
    tables_dir: Path
    frames: dict[str, pd.DataFrame]
    tables: Tables
    config: dict[str, object] | None
    provenance: dict[str, object] | None

    def path(self, table: str) -> Path:
        return self.tables_dir / f"{table}.csv"

    @property
    def seeds(self) -> list[int]:
        return sorted({int(s) for name in ("training", "signal_probe") for s in self.frames[name]["seed"]})


def find_tables_dir(root: Path) -> Path:
    """``root/tables`` for a results folder, ``root`` itself for a folder of tables."""
    for candidate in (root / "tables", root):
        if any((candidate / f"{name}.csv").is_file() for name in COMPARED_TABLES):
            return candidate
    return root / "tables" if (root / "tables").is_dir() else root


def read_frame(path: Path, name: str) -> pd.DataFrame:
    """A table as the CSV says it (text columns kept as text), its columns checked."""
    try:
        frame = read_csv(path, name)  # the file checked line by line first (initlab.study.frames)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise UnreadableInput(str(error).splitlines()[0]) from None
    missing = missing_columns(name, frame)
    if missing:
        raise UnreadableInput(f"{path}: table {name} lacks columns {', '.join(missing)}")
    return frame


def open_result_set(path: str | Path, label: str) -> ResultSet:
    """Load side ``label`` ('A' or 'B') from ``path``; :class:`UnreadableInput` says what is wrong."""
    root = Path(path)
    if not root.is_dir():
        raise UnreadableInput(f"{label} = {root}: not a folder (expected a results/ folder or a folder of tables)")
    tables_dir = find_tables_dir(root)
    missing = [name for name in COMPARED_TABLES if not (tables_dir / f"{name}.csv").is_file()]
    if missing:
        raise UnreadableInput(
            f"{label} = {root}: missing table{'s' if len(missing) > 1 else ''} "
            f"{', '.join(f'{m}.csv' for m in missing)} in {tables_dir}"
        )
    frames = {name: read_frame(tables_dir / f"{name}.csv", name) for name in COMPARED_TABLES}
    try:  # the answers read the tables as the report loads them (optional tables included)
        tables = load_tables(tables_dir)
    except (OSError, ValueError) as error:
        raise UnreadableInput(f"{label} = {root}: {str(error).splitlines()[0]}") from None
    # A results folder holds config.json and provenance.json; a tables folder may sit inside one.
    around = [root, tables_dir.parent] if tables_dir != root else [root, root.parent]
    return ResultSet(
        label=label,
        root=root,
        tables_dir=tables_dir,
        frames=frames,
        tables=tables,
        config=_read_config(around, label),
        provenance=_read_provenance(around, label),
    )


def _first_file(folders: list[Path], name: str) -> Path | None:
    return next((folder / name for folder in folders if (folder / name).is_file()), None)


def _read_config(folders: list[Path], label: str) -> dict[str, object] | None:
    path = _first_file(folders, CONFIG_NAME)
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UnreadableInput(f"{label}: {path} is not valid JSON ({error})") from None


def _read_provenance(folders: list[Path], label: str) -> dict[str, object] | None:
    path = _first_file(folders, PROVENANCE_NAME)
    if path is None:
        return None
    try:
        return load_provenance(path)
    except (OSError, ValueError) as error:
        raise UnreadableInput(f"{label}: {error}") from None
