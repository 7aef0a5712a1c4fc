"""Reading a table into pandas: the file checked first, so a bad line is one clear error.

:func:`read_frame` is how the report, the figures and ``initlab compare`` read a table. The file
is checked by ``initlab.study.completeness.read_table`` (header, field counts, required values,
numbers, flags), whose ``IncompleteTableError`` names the file, the line and what is wrong; only
then does pandas read it, so no malformed line reaches pandas (whose message for one is a merge
error far from the file). Text columns (the lesson's printed decimals) stay text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from initlab.study.completeness import read_table
from initlab.study.tables import table


def read_frame(path: str | Path, name: str) -> pd.DataFrame:
    """Table ``name`` from ``path``, as its CSV says it; ``IncompleteTableError`` (a ``ValueError``) if bad."""
    read_table(path, name)
    return pd.read_csv(path, dtype=dict.fromkeys(table(name).text, str))
