"""What else differs between the runs: config keys, package versions, code, git commit, machine.

The config is the run's ``config.json`` (the validated, effective config); versions,
fingerprints, commit and machine are its ``provenance.json``, the record the run made
of itself (``initlab.study.provenance``). Keys that only change the job layout, not a number, are marked so: a cluster
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


def _packages(record: Mapping[str, object]) -> dict[str, str]:
    return {k: str(v) for k, v in dict(record.get("packages") or {}).items()}


def _run(record: Mapping[str, object]) -> dict[str, str]:
    git = dict(record.get("git") or {})
    threads = {f"threads of {rule}": str(n) for rule, n in dict(record.get("threads") or {}).items()}
    machine = {k.replace("_", " "): str(v) for k, v in dict(record.get("machine") or {}).items()}
    return {
        "git commit": str(git.get("commit")),
        "uncommitted changes": str(git.get("dirty")),
        "python": str(record.get("python")),
        **machine,
        **threads,
    }


def _fingerprints(record: Mapping[str, object]) -> dict[str, str]:
    return {rule: str(p.get("fingerprint")) for rule, p in dict(record.get("fingerprints") or {}).items()}


#: The record's groups compared, each with how it is read. Timings differ between any two runs and
#: say nothing about the numbers; the config (config.json) and seeds (the tables' rows) are compared elsewhere.
GROUPS = {"packages": _packages, "run": _run, "code": _fingerprints}


def code_remark(a: Mapping[str, object], b: Mapping[str, object], rule: str) -> str:
    """Which files and package versions make a rule's fingerprints differ."""
    sides = [dict(dict(r.get("fingerprints") or {}).get(rule) or {}) for r in (a, b)]
    changed = sorted(
        key
        for group in ("files", "packages")
        for key in set(sides[0].get(group, {})) | set(sides[1].get(group, {}))
        if sides[0].get(group, {}).get(key) != sides[1].get(group, {}).get(key)
    )
    return "other code: " + ", ".join(changed) if changed else ""


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
    """Differences per group ('config', 'packages', 'run', 'code') and what could not be compared."""

    differences: list[Difference]
    unavailable: list[str]

    def group(self, name: str) -> list[Difference]:
        return [d for d in self.differences if d.group == name]


def compare_provenance(a: ResultSet, b: ResultSet) -> ProvenanceDiff:
    """Config keys, package versions, run rows (git commit, machine) and code fingerprints that differ."""
    differences: list[Difference] = []
    unavailable: list[str] = []
    if a.config is not None and b.config is not None:
        layout = {key: "job layout only: no number depends on it" for key in LAYOUT_KEYS}
        differences += _diff("config", flatten(a.config), flatten(b.config), layout)
    else:
        unavailable.append("config (config.json missing in " + _sides(a.config is None, b.config is None) + ")")
    if a.provenance is not None and b.provenance is not None:
        for group, read in GROUPS.items():
            rows_a, rows_b = read(a.provenance), read(b.provenance)
            remarks = (
                {rule: code_remark(a.provenance, b.provenance, rule) for rule in rows_a} if group == "code" else {}
            )
            differences += _diff(group, rows_a, rows_b, remarks)
    else:
        unavailable.append(
            "package versions, code fingerprints and git commit (provenance.json missing in "
            + _sides(a.provenance is None, b.provenance is None)
            + ")"
        )
    return ProvenanceDiff(differences, unavailable)


def _sides(missing_a: bool, missing_b: bool) -> str:
    return "A and B" if missing_a and missing_b else ("A" if missing_a else "B")
