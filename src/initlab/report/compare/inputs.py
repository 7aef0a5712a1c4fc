"""Opening a result set: a ``results/`` folder or a folder of report-ready tables.

A result set is what one study run left behind: its tables, its effective config
(``results/config.json``) and its report, whose Provenance section is the run's
record of package versions and git commit. Only the tables are required; config
and provenance are compared where both sides have them.

Every problem that makes a side unreadable raises :class:`UnreadableInput` with
one line naming the side, the path and what was expected, so ``initlab compare``
can exit 2 without a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from initlab.report.answers.tables import Tables, load_tables, missing_columns, read_csv
from initlab.study.tables import TABLES

#: The tables compared cell by cell: every reproducible table each study has. ``timings`` holds
#: wall-clock times, which differ between any two runs, so it is never compared.
COMPARED_TABLES = tuple(t.name for t in TABLES if t.reproducible and t.checked and not t.optional)
#: Where the report's provenance lives inside a results folder.
REPORT_NAME = "report.html"
CONFIG_NAME = "config.json"


class UnreadableInput(ValueError):
    """A result set that cannot be compared (missing folder, table or column; unparsable file)."""


@dataclass(frozen=True)
class ResultSet:
    """One side of a comparison, loaded.

    ``frames`` are the tables as read (no coercion: the cell diff sees what the CSV
    says); ``tables`` the same, type-checked for the answers. ``config`` is None when
    no ``config.json`` was found; ``provenance`` is None without a report.
    """

    label: str
    root: Path
    tables_dir: Path
    frames: dict[str, pd.DataFrame]
    tables: Tables
    config: dict[str, object] | None
    provenance: dict[str, dict[str, str]] | None

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
        frame = read_csv(path, name)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise UnreadableInput(f"{path}: not a readable CSV table ({str(error).splitlines()[0]})") from None
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
    # A results folder holds config.json and report.html; a tables folder may sit inside one.
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


def _read_provenance(folders: list[Path], label: str) -> dict[str, dict[str, str]] | None:
    path = _first_file(folders, REPORT_NAME)
    if path is None:
        return None
    try:
        return parse_provenance(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise UnreadableInput(f"{label}: {path} is not readable ({error})") from None


class _ProvenanceParser(HTMLParser):
    """The key/value rows of the report's ``<section id="provenance">``, grouped by the ``<h3>`` above them.

    Rows before the first ``<h3>`` are the run's (git commit, seeds, machine, run time);
    then ``Packages`` and ``Thresholds``.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.groups: dict[str, dict[str, str]] = {}
        self._depth = 0  # <section> nesting inside provenance; 0 = outside
        self._group = "run"
        self._cell: str | None = None
        self._text: list[str] = []
        self._row: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            if self._depth or ("id", "provenance") in attrs:
                self._depth += 1
        elif self._depth and tag in ("th", "td", "h3"):
            self._cell, self._text = tag, []
        elif self._depth and tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._depth:
            self._depth -= 1
        elif self._depth and tag == self._cell:
            text = " ".join("".join(self._text).split())
            if tag == "h3":
                self._group = text.lower()
            else:
                self._row.append(text)
            self._cell = None
        elif self._depth and tag == "tr" and len(self._row) == 2:
            self.groups.setdefault(self._group, {})[self._row[0]] = self._row[1]

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._text.append(data)


def parse_provenance(html: str) -> dict[str, dict[str, str]]:
    """``{"run": {...}, "packages": {...}, "thresholds": {...}}`` from a report's Provenance section."""
    parser = _ProvenanceParser()
    parser.feed(html)
    return parser.groups
