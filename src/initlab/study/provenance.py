"""``results/provenance.json``: the record a run makes of itself, and reading it back.

Written by the workflow's ``provenance`` rule once every table is made: the git commit of the
code the ``initlab`` command imports and whether that tree had uncommitted changes, each rule's
fingerprint (``initlab.study.fingerprint``: the files and package versions behind it), each
table's fingerprint and the rules it comes from, package versions, Python, the machine, each
rule's threads, the effective config with its SHA-256, the seeds, and a summary of the timings.

The report's Provenance section renders it, ``initlab compare`` compares two of them, and
``initlab verify`` holds the tables' fingerprints against the code installed now. Pure Python
(``csv``, ``json``): no pandas, no torch.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from initlab.study import fingerprint
from initlab.study.expected import made_tables
from initlab.study.tables import TABLE

PROVENANCE_NAME = "provenance.json"
#: Distributions whose versions identify a run's software stack (beyond each rule's own).
PACKAGES = (
    "initlab",
    "torch",
    "numpy",
    "scikit-learn",
    "pandas",
    "scipy",
    "seaborn",
    "matplotlib",
    "jinja2",
    "pyyaml",
    "snakemake",
)
#: How long git may take to say the commit: a hung network file system must not hang the run.
GIT_TIMEOUT_S = 10


def _git(folder: Path, *args: str) -> str | None:
    try:
        run = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout.strip() if run.returncode == 0 else None


def git_state(folder: Path = fingerprint.PACKAGE_DIR) -> dict[str, Any]:
    """The commit of the git tree holding ``folder`` (the code), and whether it had uncommitted
    changes to tracked files; commit None when the code is not in a git tree (an installed package)."""
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None, "note": f"{folder} is not in a git checkout"}
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
    }


def timings_summary(path: str | Path | None) -> dict[str, Any] | None:
    """Jobs, elapsed seconds (first start to last end), CPU seconds of work and of start-up, per step
    (a job's name up to its first '/'); None without a timings file."""
    if path is None or not Path(path).is_file():
        return None
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    steps: dict[str, dict[str, float]] = {}
    for row in rows:
        step = steps.setdefault(row["job"].split("/")[0], {"jobs": 0, "import_seconds": 0.0, "work_seconds": 0.0})
        step["jobs"] += 1
        step["import_seconds"] += float(row["import_seconds"])
        step["work_seconds"] += float(row["work_seconds"])
    return {
        "jobs": len(rows),
        "elapsed_seconds": round(
            max(float(r["finished_at"]) for r in rows) - min(float(r["started_at"]) for r in rows), 3
        ),
        "work_seconds": round(sum(s["work_seconds"] for s in steps.values()), 3),
        "import_seconds": round(sum(s["import_seconds"] for s in steps.values()), 3),
        "per_step": {name: {k: round(v, 3) for k, v in s.items()} for name, s in sorted(steps.items())},
    }


def build_provenance(
    config_path: str | Path,
    fingerprints: Mapping[str, Mapping[str, Any]],
    threads: Mapping[str, int],
    timings_path: str | Path | None = None,
) -> dict[str, Any]:
    """The record of a run: ``fingerprints`` and ``threads`` per rule come from the workflow (the
    values its jobs ran with), the rest is read here."""
    config_text = Path(config_path).read_bytes()
    config = json.loads(config_text)
    prints = {rule: p["fingerprint"] for rule, p in fingerprints.items()}
    tables = {
        t.name: {
            "file": f"tables/{t.name}.csv",
            "rules": fingerprint.table_rules(t),
            "fingerprint": fingerprint.table_fingerprint(t, prints),
        }
        for t in made_tables(config)
        if t.reproducible and all(r in prints for r in fingerprint.table_rules(t))
    }
    return {
        "git": git_state(),
        "code": {"package": str(fingerprint.PACKAGE_DIR)},
        "fingerprints": {rule: dict(p) for rule, p in fingerprints.items()},
        "tables": tables,
        "packages": {name: fingerprint.package_version(name) for name in PACKAGES},
        "python": platform.python_version(),
        "machine": machine(),
        "threads": dict(threads),
        "config": config,
        "config_sha256": hashlib.sha256(config_text).hexdigest(),
        "seeds": config.get("seeds"),
        "timings": timings_summary(timings_path),
    }


def write_provenance(out: str | Path, **kwargs: Any) -> dict[str, Any]:
    record = build_provenance(**kwargs)
    Path(out).write_text(json.dumps(record, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return record


def load_provenance(path: str | Path) -> dict[str, Any] | None:
    """The record at ``path``; None when there is none. A damaged file is a ``ValueError`` naming it."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a provenance record ({error})") from None
    if not isinstance(record, dict) or not isinstance(record.get("tables"), dict):
        raise ValueError(f"{path}: not a provenance record (no 'tables' object)")
    return record


def stale_tables(record: Mapping[str, Any]) -> dict[str, list[str]]:
    """Per table whose recorded fingerprint differs from the code installed now, the rules whose
    fingerprints changed (empty: every table was made by this code)."""
    now = fingerprint.fingerprints(fingerprint.TABLE_RULES)
    recorded = record.get("fingerprints", {})
    stale: dict[str, list[str]] = {}
    for name, entry in record["tables"].items():
        rules = entry.get("rules", [])
        if any(r not in now for r in rules):
            continue
        if fingerprint.table_fingerprint(TABLE[name], now) != entry.get("fingerprint"):
            stale[name] = [r for r in rules if recorded.get(r, {}).get("fingerprint") != now[r].value] or rules
    return stale


def changed_files(record: Mapping[str, Any], rules: list[str]) -> list[str]:
    """The package files (and versions) that differ between the record and now, for ``rules``."""
    now = fingerprint.fingerprints(rules)
    changed: set[str] = set()
    for rule in rules:
        then = record.get("fingerprints", {}).get(rule, {})
        for group in ("files", "packages"):
            a, b = then.get(group, {}), getattr(now[rule], group)
            changed |= {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    return sorted(changed)
