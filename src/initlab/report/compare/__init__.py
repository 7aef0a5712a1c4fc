"""``initlab compare A B``: hold two result sets side by side.

After a second run (on a cluster, on fresh seeds, after a torch upgrade) the question
is: did anything change, and does any conclusion change? This package answers it from
the two runs' tables, never recomputing the science: the verdicts come from
:mod:`initlab.report.answers` exactly as the report computes them, the tests and intervals
from :mod:`initlab.report.stats` (:data:`~initlab.report.stats.METHODS`).

- ``inputs``: opening a ``results/`` folder or a folder of tables (:class:`UnreadableInput`).
- ``tablediff``: byte-identical or not; differing cells per column, located; one-sided rows.
- ``verdicts``: :data:`VERDICTS`, the registry of compared conclusions, and how likely a
  change is given the seeds.
- ``seedstats``: per cell, difference of means with its permutation test and interval, the
  cells called different with the false discovery rate controlled, and KS consistency.
- ``provenance``: config keys, package versions, git commit.
- ``output``: the terminal summary, the HTML page and the JSON of every cell.

Exit status of the command (:func:`exit_status`): 0 every verdict the same, 1 a verdict
changed (or, with ``require_identical``, a table is not byte-identical), 2 unreadable input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from initlab.report.compare.inputs import COMPARED_TABLES, ResultSet, UnreadableInput, open_result_set
from initlab.report.compare.provenance import ProvenanceDiff, compare_provenance
from initlab.report.compare.seedstats import SeedStats, compare_seeds
from initlab.report.compare.tablediff import TableDiff, diff_table
from initlab.report.compare.verdicts import VERDICTS, Verdict, VerdictComparison, compare_verdicts

__all__ = [
    "Comparison",
    "EXIT_CHANGED",
    "EXIT_SAME",
    "EXIT_UNREADABLE",
    "UnreadableInput",
    "VERDICTS",
    "Verdict",
    "compare",
    "exit_status",
]

EXIT_SAME = 0
EXIT_CHANGED = 1
EXIT_UNREADABLE = 2


@dataclass(frozen=True)
class Comparison:
    """Everything ``initlab compare`` found. ``seeds`` is None when every table is byte-identical."""

    a: ResultSet
    b: ResultSet
    tables: list[TableDiff]
    verdicts: list[VerdictComparison]
    seeds: SeedStats | None
    provenance: ProvenanceDiff

    @property
    def identical(self) -> bool:
        return all(t.identical for t in self.tables)

    @property
    def same_seeds(self) -> bool:
        return self.a.seeds == self.b.seeds

    @property
    def changed(self) -> list[VerdictComparison]:
        return [v for v in self.verdicts if v.changed]


def compare(path_a: str | Path, path_b: str | Path) -> Comparison:
    """Compare result set A with B (either may be a ``results/`` folder or a folder of tables)."""
    a, b = open_result_set(path_a, "A"), open_result_set(path_b, "B")
    table_diffs = [diff_table(name, a, b) for name in COMPARED_TABLES]
    identical = all(t.identical for t in table_diffs)
    same_seeds = a.seeds == b.seeds
    return Comparison(
        a=a,
        b=b,
        tables=table_diffs,
        verdicts=compare_verdicts(a.tables, b.tables, same_seeds, identical),
        # Byte-identical tables have no difference to test.
        seeds=None if identical else compare_seeds(a.tables, b.tables),
        provenance=compare_provenance(a, b),
    )


def exit_status(comparison: Comparison, require_identical: bool = False) -> int:
    """0 when every verdict is the same (and, if required, every table byte-identical), else 1."""
    if comparison.changed or (require_identical and not comparison.identical):
        return EXIT_CHANGED
    return EXIT_SAME
