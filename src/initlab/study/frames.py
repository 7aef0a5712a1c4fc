"""Reading a table into pandas: the file checked as it is parsed, so a bad line is one clear error.

:func:`read_frame` is how the report, the figures and ``initlab compare`` read a table. The file
must pass the checks of ``initlab.study.completeness.read_table`` (header, field counts, required
values, numbers, flags), whose ``IncompleteTableError`` names the file, the line and what is
wrong; no malformed line reaches the caller (pandas' message for one is a merge error far from
the file). Text columns (the lesson's printed decimals) stay text.

Why not just ``read_table``: it walks every cell in Python, about 8 million cells for a 100-seed
study, which cost the report several seconds. :func:`read_frame` parses the file once with pandas
and judges it from the bytes (one line per row, field counts, no quoting) and the parsed frame
(number columns parsed as numbers, flags as booleans, required values present, and the raw
spelling of every missing value). Only a file that fails (or that this cannot judge) is walked by
``read_table``, which then raises the exact one-line error. A file passes only if ``read_table``
would pass it too, and the frame is the one ``pandas.read_csv`` gives for the file.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from initlab.study.completeness import read_table
from initlab.study.tables import Table, table

#: How a number column may spell "no number" in the files: empty, or a NaN as Python writes it.
NAN_SPELLINGS = frozenset({"", "nan", "NaN", "-nan"})
#: How a flag may spell "unknown": empty (``FLAG_VALUES`` allows no other missing spelling).
MISSING_FLAG = ""
#: Spellings pandas reads as booleans that ``read_table``'s flags do not allow.
UPPER_CASE_FLAGS = (b"TRUE", b"FALSE")
_NEWLINE, _COMMA, _QUOTE, _FIRST_PRINTABLE = 10, 44, 34, 32


def _line_starts(data: bytes, record: Table) -> np.ndarray | None:
    """Where each line of ``data`` starts, if every line is a row of ``record``'s field count; else None.

    None also for what ``read_table`` might split or read differently: non-ASCII bytes, quoting
    (commas inside a field), control characters (``str.splitlines`` breaks lines at some), a
    missing final newline.
    """
    if not data.endswith(b"\n") or not data.isascii():
        return None
    codes = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(codes == _NEWLINE)
    if np.count_nonzero((codes < _FIRST_PRINTABLE) | (codes == _QUOTE)) != len(newlines):
        return None  # a quote, a carriage return or another control character
    if data[: newlines[0]].decode("ascii") != ",".join(record.columns):
        return None
    commas_before = np.searchsorted(np.flatnonzero(codes == _COMMA), newlines)
    if np.any(np.diff(commas_before, prepend=0) != len(record.columns) - 1):
        return None  # a short, long or blank line
    return np.concatenate(([0], newlines[:-1] + 1))


def _missing_spelt_right(frame: pd.DataFrame, data: bytes, starts: np.ndarray, record: Table) -> bool:
    """True when every missing number is spelt as ``read_table`` allows it, and every missing flag empty."""
    allowed = {c: NAN_SPELLINGS for c in record.numbers} | {c: {MISSING_FLAG} for c in record.flags}
    missing = frame[list(allowed)].isna()
    at = [record.columns.index(c) for c in missing.columns]
    spellings = [allowed[c] for c in missing.columns]
    ends = np.append(starts[1:] - 1, len(data) - 1)  # each line's newline
    fields: list[str] = []
    last = -1
    for row, column in zip(*np.nonzero(missing.to_numpy()), strict=True):
        if row != last:  # pairs come row by row: each line is split once
            line, last = row + 1, row  # the header is line 0
            fields = data[starts[line] : ends[line]].decode("ascii").split(",")
        if fields[at[column]] not in spellings[column]:
            return False
    return True


def _flags_ok(frame: pd.DataFrame, data: bytes, record: Table) -> bool:
    """True when each flag column parsed as True/False (missing ones are judged by their spelling)."""
    if not record.flags:
        return True
    if any(spelling in data for spelling in UPPER_CASE_FLAGS):
        return False
    for column in record.flags:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values):
            continue
        present = values.dropna()
        if values.dtype != object or not present.map(type).eq(bool).all():
            return False  # 1/0, or a word that is no flag
    return True


def _parsed_if_good(data: bytes, record: Table) -> pd.DataFrame | None:
    """``data`` as pandas reads it, when it is certainly a good file of ``record``; None when unsure."""
    starts = _line_starts(data, record)
    if starts is None:
        return None
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=dict.fromkeys(record.text, str))
    except (pd.errors.ParserError, ValueError):
        return None
    if len(frame) != len(starts) - 1 or list(frame.columns) != record.columns:
        return None
    for column in record.numbers:
        kind = frame[column].dtype
        if not pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_bool_dtype(kind):
            return None  # a cell pandas could not read as a number (float() may still: read_table judges)
    if frame[record.required_columns].isna().to_numpy().any():
        return None  # an empty required value, or a NaN in a key: unusual, so the exact reader judges
    if not _flags_ok(frame, data, record) or not _missing_spelt_right(frame, data, starts, record):
        return None
    return frame


def read_frame(path: str | Path, name: str) -> pd.DataFrame:
    """Table ``name`` from ``path``, as its CSV says it; ``IncompleteTableError`` (a ``ValueError``) if bad."""
    record = table(name)
    try:
        data = Path(path).read_bytes()
    except OSError:
        data = b""
    frame = _parsed_if_good(data, record)
    if frame is None:
        read_table(path, name)  # raises the one-line error; returns only if the file is good after all
        frame = pd.read_csv(path, dtype=dict.fromkeys(record.text, str))
    return frame
