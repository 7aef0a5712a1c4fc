"""Reading a table into pandas: the file checked first, so a bad line is one clear error.

:func:`read_frame` is how the report, the figures and ``initlab compare`` read a table. The file
must pass the checks of ``initlab.study.completeness.read_table`` (header, field counts, required
values, numbers, flags), whose ``IncompleteTableError`` names the file, the line and what is
wrong; only then does pandas read it, so no malformed line reaches pandas (whose message for one
is a merge error far from the file). Text columns (the lesson's printed decimals) stay text.

Why two paths: ``read_table`` walks every cell in Python, about 8 million cells for a 100-seed
study, which cost the report several seconds. :func:`read_frame` first checks the file with
vectorised pandas operations; only a file that fails them (or that they cannot judge) is walked
by ``read_table``, which then raises the exact one-line error. A file passes the fast check only
if ``read_table`` would pass it too.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from initlab.study.completeness import FLAG_VALUES, read_table
from initlab.study.tables import Table, table

#: How a number column may spell "no number" in the files: empty, or a NaN as Python writes it.
NAN_SPELLINGS = ["", "nan", "NaN", "-nan"]


def _passes_fast_check(text: str, record: Table) -> bool:
    """True when ``text`` is certainly a good file of ``record``; False when unsure (then ``read_table`` decides)."""
    if not text.endswith("\n") or '"' in text:
        return False  # a cut-off file, or quoting (commas inside a field): the exact reader judges
    lines = text[:-1].split("\n")
    if lines[0] != ",".join(record.columns):
        return False
    commas = len(record.columns) - 1
    if any(line.count(",") != commas for line in lines):
        return False  # a short, long or blank line
    numbers = record.numbers
    try:  # the C parser reads a number column as float64 or raises: what float() would refuse
        cells = pd.read_csv(
            io.StringIO(text),
            dtype={c: (float if c in numbers else str) for c in record.columns},
            keep_default_na=False,
            na_values=dict.fromkeys(numbers, NAN_SPELLINGS),
        )
    except (pd.errors.ParserError, ValueError):
        return False
    for column in record.required_columns:
        if cells[column].isna().any() or (column not in numbers and (cells[column] == "").any()):
            return False  # an empty required value (or a NaN in a key: unusual, so the exact reader judges)
    return all(cells[column].isin(FLAG_VALUES).all() for column in record.flags)


def read_frame(path: str | Path, name: str) -> pd.DataFrame:
    """Table ``name`` from ``path``, as its CSV says it; ``IncompleteTableError`` (a ``ValueError``) if bad."""
    record = table(name)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    if not text or not _passes_fast_check(text, record):
        read_table(path, name)  # raises the one-line error; returns only if the file is good after all
    return pd.read_csv(path, dtype=dict.fromkeys(record.text, str))
