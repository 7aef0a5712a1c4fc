"""What else differs between the runs: config keys, package versions, git commit, machine.

The config is the run's ``config.json`` (the validated, effective config); versions,
commit and machine are the report's Provenance section, the record the run made of
itself. Keys that only change the job layout, not a number, are marked so: a cluster
run with one seed per job is expected to differ there and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from initlab.report.compare.inputs import ResultSet

#: Config keys that decide how jobs are cut, never a number (docs/cluster.md: the tables do not
#: depend on ``seed_block_size``; the stacked trainer is bit-identical to the lone loop).
LAYOUT_KEYS = frozenset({"seed_block_size"})
#: Report provenance rows not compared: the run time differs between any two runs and says
#: nothing about the numbers; the seeds are compared in the config and the tables' rows.
SKIPPED_ROWS = frozenset({"total run time", "seeds"})


@dataclass(frozen=True)
class Difference:
    """One provenance item that differs: where it sits, its name, A's and B's values, and a remark."""

    group: str
    key: str
    a: str
    b: str
    remark: str = ""


def flatten(config: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    """Nested config as dotted keys with JSON values: {'training': {'steps': 120}} -> {'training.steps': '120'}."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value)
    return flat


def _diff(group: str, a: Mapping[str, str], b: Mapping[str, str], remarks: Mapping[str, str]) -> list[Difference]:
    missing = "(absent)"
    return [
        Difference(group, key, a.get(key, missing), b.get(key, missing), remarks.get(key, ""))
        for key in [*a, *(k for k in b if k not in a)]
        if a.get(key) != b.get(key)
    ]


@dataclass(frozen=True)
class ProvenanceDiff:
    """Differences per group ('config', 'packages', 'run', 'thresholds') and what could not be compared."""

    differences: list[Difference]
    unavailable: list[str]

    def group(self, name: str) -> list[Difference]:
        return [d for d in self.differences if d.group == name]


def compare_provenance(a: ResultSet, b: ResultSet) -> ProvenanceDiff:
    """Config keys, package versions, run rows (git commit, machine) and thresholds that differ."""
    differences: list[Difference] = []
    unavailable: list[str] = []
    if a.config is not None and b.config is not None:
        layout = {key: "job layout only: no number depends on it" for key in LAYOUT_KEYS}
        differences += _diff("config", flatten(a.config), flatten(b.config), layout)
    else:
        unavailable.append("config (config.json missing in " + _sides(a.config is None, b.config is None) + ")")
    if a.provenance is not None and b.provenance is not None:
        for group in ("packages", "run", "thresholds"):
            rows_a = {k: v for k, v in a.provenance.get(group, {}).items() if k not in SKIPPED_ROWS}
            rows_b = {k: v for k, v in b.provenance.get(group, {}).items() if k not in SKIPPED_ROWS}
            differences += _diff(group, rows_a, rows_b, {})
    else:
        unavailable.append(
            "package versions and git commit (report.html missing in "
            + _sides(a.provenance is None, b.provenance is None) + ")"
        )
    return ProvenanceDiff(differences, unavailable)


def _sides(missing_a: bool, missing_b: bool) -> str:
    return "A and B" if missing_a and missing_b else ("A" if missing_a else "B")
