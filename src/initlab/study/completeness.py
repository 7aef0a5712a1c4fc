"""Completeness checks: a table holds every row its config promises, once, and nothing else.

Run where data enters: each compute job checks its own CSV before it exits, the aggregation
checks every job's CSV against the whole config, and the manifest and ``initlab verify`` check
the aggregated tables. Each problem stops with one line naming the file, what is wrong (the
first few keys and how many) and what to do.

Pure Python (``csv``), no pandas: a compute job's start-up stays at ``import torch``. Rows are
compared as text, the way ``initlab.study.tables.write_csv`` and the aggregation spell them.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from initlab.study.expected import Key, describe, job_of
from initlab.study.tables import TABLE, table

#: Keys a message shows before "and N more": enough to see the pattern, short enough for one line.
SHOWN_KEYS = 3


class IncompleteTableError(ValueError):
    """A table is not exactly what its config promises (one line: file, problem, remedy)."""


@dataclass
class TableFile:
    """One CSV of a table, read as text: its path and the key of each row, in file order."""

    path: str
    table: str
    keys: list[Key] = field(default_factory=list)

    @property
    def key_columns(self) -> list[str]:
        return list(TABLE[self.table].keys)


def remedy(path: str | Path, rule: str) -> str:
    """What to do about a bad file: redo the job that wrote it."""
    return f"to redo it, delete {path} and run snakemake again with `--forcerun {rule}`"


def _fail(path: str | Path, problem: str, rule: str) -> IncompleteTableError:
    return IncompleteTableError(f"{path}: {problem}; {remedy(path, rule)}")


def read_table(path: str | Path, name: str, rule: str | None = None) -> TableFile:
    """Read ``path`` as table ``name``: header, field counts, required values, numbers and flags,
    final newline. The one check of a table's file: compute jobs, the aggregation, the manifest,
    ``initlab verify`` and (through ``initlab.study.frames``) the report, figures and compare.

    ``rule`` is the rule to name in the remedy (default: the one that writes the table's files).
    """
    record = table(name)
    columns, key_columns = record.columns, record.keys
    rule = rule or record.rule
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(path, f"unreadable ({error.__class__.__name__}: {error})", rule) from None
    if not text:
        raise _fail(path, f"empty file (no header, no rows) where the {name} table was expected", rule)
    if not text.endswith("\n"):
        # write_csv ends every row with a newline: a file without one was cut off mid-row.
        raise _fail(path, "the last line has no newline: the file was truncated", rule)
    reader = csv.reader(text.splitlines())
    header = next(reader)
    if header != columns:
        raise _fail(path, f"line 1: {_header_problem(header, columns, name)}", rule)
    key_at = [columns.index(c) for c in key_columns]
    required_at = [(columns.index(c), c) for c in record.required_columns]
    numbers_at = [(columns.index(c), c) for c in record.numbers]
    flags_at = [(columns.index(c), c) for c in record.flags]
    found = TableFile(str(path), name)
    for line, row in enumerate(reader, start=2):
        if len(row) != len(columns):
            raise _fail(
                path, f"line {line} has {len(row)} fields, not {len(columns)}: the file is truncated or damaged", rule
            )
        for at, column in required_at:
            if row[at] == "":
                raise _fail(path, f"line {line} has an empty {column!r}, a value every row needs", rule)
        for at, column in numbers_at:
            if row[at] != "" and not _is_number(row[at]):
                raise _fail(path, f"line {line}: {column} is {_shown(row[at])}, not a number", rule)
        for at, column in flags_at:
            if row[at] not in FLAG_VALUES:
                raise _fail(path, f"line {line}: {column} is {_shown(row[at])}, not True or False", rule)
        found.keys.append(tuple(row[i] for i in key_at))
    return found


#: How a flag may be spelled: the writers' True/False, pandas' lower case, 1/0; empty where unknown.
FLAG_VALUES = frozenset({"True", "False", "true", "false", "1", "0", "1.0", "0.0", ""})
#: Characters of a bad value a message shows: a garbage line can be long.
SHOWN_CHARS = 40


def _header_problem(header: list[str], columns: list[str], name: str) -> str:
    """What is wrong with a header: the columns it lacks, those it has too many, or their order."""
    missing = [c for c in columns if c not in header]
    extra = [c for c in header if c not in columns]
    if missing:
        return f"lacks columns {', '.join(missing)} of the {name} table"
    if extra:
        return f"has columns {', '.join(extra)}, which the {name} table has not"
    return f"columns {header} are not in the {name} table's order {columns}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _shown(value: str) -> str:
    return repr(value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…")


def _listed(columns: Sequence[str], keys: Sequence[Key]) -> str:
    shown = "; ".join(describe(columns, k) for k in keys[:SHOWN_KEYS])
    more = f" (and {len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else ""
    return shown + more


def check_files(
    files: Sequence[TableFile], expected: Sequence[Key], block_size: int | None = None, rule: str | None = None
) -> None:
    """Every expected key in exactly one of ``files``, and no other key; else ``IncompleteTableError``.

    A missing key is blamed on the file that holds the rest of its job's rows (found through
    ``job_of`` and ``block_size``); with one file, on that file.
    """
    if not files:
        raise IncompleteTableError("no files to check")
    name = files[0].table
    columns = files[0].key_columns
    rule = rule or TABLE[name].rule
    seen: dict[Key, str] = {}
    source: dict[Key, int] = {}
    wanted = set(expected)
    for n, f in enumerate(files):
        duplicated, extra = [], []
        for key in f.keys:
            if key in seen:
                duplicated.append(key)
            else:
                seen[key], source[key] = f.path, n
                if key not in wanted:
                    extra.append(key)
        if duplicated:
            elsewhere = sorted({seen[k] for k in duplicated if source[k] != n})
            where = f" (already in {elsewhere[0]})" if elsewhere else ""
            raise _fail(f.path, f"{len(duplicated)} duplicated row(s){where}: {_listed(columns, duplicated)}", rule)
        if extra:
            raise _fail(f.path, f"{len(extra)} row(s) the config does not ask for: {_listed(columns, extra)}", rule)
    missing = [k for k in expected if k not in seen]
    if not missing:
        return
    if len(files) == 1 or block_size is None:
        blamed = files[0].path
    else:
        holders = {job_of(name, columns, k, block_size): path for k, path in seen.items()}
        owners = [holders.get(job_of(name, columns, k, block_size)) for k in missing]
        blamed = next((o for o in owners if o is not None), None)
        if blamed is None:
            raise IncompleteTableError(
                f"{name}: {len(missing)} row(s) missing and no input file holds their jobs: "
                f"{_listed(columns, missing)}; run snakemake again with `--forcerun {rule}`"
            )
        missing = [k for k, o in zip(missing, owners, strict=True) if o == blamed] or missing
    raise _fail(blamed, f"{len(missing)} row(s) of the {name} table missing: {_listed(columns, missing)}", rule)


def check_job_output(path: str | Path, name: str, expected: Sequence[Key]) -> int:
    """A compute job's own check before it exits: ``path`` holds exactly ``expected``. Returns the row count."""
    found = read_table(path, name)
    check_files([found], expected)
    return len(found.keys)
