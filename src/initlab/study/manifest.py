"""The manifest: which exact tables a report was made from, and ``initlab verify``.

After the aggregation, ``initlab manifest`` checks every table against the config (each key the
config promises present once, nothing else: ``initlab.study.completeness``) and writes
``results/tables/MANIFEST.json``: per table its row count, the rows the config expects, its
columns and its SHA-256, plus the SHA-256 of the config it was checked against. The report
shows it in Provenance, so a report can be matched to the bytes behind it; ``initlab verify
RESULTS_DIR`` re-checks a results folder (copied, archived, edited by hand) against both, and
holds the tables' fingerprints in ``results/provenance.json`` against the code installed now
(``initlab.study.provenance``): a table made by other code is stale, and verify says what remakes it.

No pandas: the tables are read as text, which is what the hashes are of.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from initlab.study.completeness import IncompleteTableError, check_files, read_table
from initlab.study.expected import expected_keys, made_tables
from initlab.study.tables import TABLE

MANIFEST_NAME = "MANIFEST.json"
CONFIG_NAME = "config.json"


def manifest_tables(config: Mapping[str, Any]) -> list[str]:
    """The checked tables a config's report is made from: reproducible, with rows the config promises."""
    return [t.name for t in made_tables(config) if t.reproducible and t.checked]


#: A changed SHA-256 is shown by this many leading hex digits: enough to tell two files apart.
SHOWN_HEX = 12


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def table_entry(path: str | Path, table: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``path`` as the whole ``table`` of ``config``; its manifest entry."""
    found = read_table(path, table)
    expected = expected_keys(table, config)
    check_files([found], expected)
    return {
        "file": Path(path).name,
        "rows": len(found.keys),
        "rows_expected": len(expected),
        "columns": TABLE[table].columns,
        "sha256": sha256_of(path),
    }


def build_manifest(tables_dir: str | Path, config_path: str | Path) -> dict[str, Any]:
    """The manifest of ``tables_dir``, every table checked against the config in ``config_path`` (JSON)."""
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    return {
        "config": {"file": Path(config_path).name, "sha256": sha256_of(config_path)},
        "tables": {t: table_entry(Path(tables_dir) / f"{t}.csv", t, config) for t in manifest_tables(config)},
    }


def write_manifest(tables_dir: str | Path, config_path: str | Path, out: str | Path) -> dict[str, Any]:
    manifest = build_manifest(tables_dir, config_path)
    Path(out).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def load_manifest(path: str | Path) -> dict[str, Any] | None:
    """The manifest at ``path``, or None when there is none (a results folder from before manifests)."""
    path = Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def verify(results_dir: str | Path) -> list[str]:
    """Differences between a results folder and its manifest and config; empty when it checks out.

    Each table's bytes against its recorded SHA-256, and its rows against the config (which
    also catches a table edited together with its manifest).
    """
    results_dir = Path(results_dir)
    tables_dir = results_dir / "tables"
    config_path = results_dir / CONFIG_NAME
    manifest_path = tables_dir / MANIFEST_NAME
    absent = [str(p) for p in (config_path, manifest_path) if not p.is_file()]
    if absent:
        return [f"{p}: missing (is {results_dir} a results folder of a finished run?)" for p in absent]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    config = json.loads(config_path.read_text(encoding="utf-8"))
    differences = []
    recorded = manifest.get("config", {}).get("sha256")
    now = sha256_of(config_path)
    if now != recorded:
        differences.append(
            f"{config_path}: SHA-256 {now[:SHOWN_HEX]}… is not the manifest's {str(recorded)[:SHOWN_HEX]}…"
        )
    for table in manifest_tables(config):
        path = tables_dir / f"{table}.csv"
        entry = manifest.get("tables", {}).get(table)
        if entry is None:
            differences.append(f"{manifest_path}: no entry for {table}")
            continue
        if not path.is_file():
            differences.append(f"{path}: missing")
            continue
        digest = sha256_of(path)
        if digest != entry["sha256"]:
            differences.append(
                f"{path}: SHA-256 {digest[:SHOWN_HEX]}… is not the manifest's {entry['sha256'][:SHOWN_HEX]}…: "
                "the table changed after the run"
            )
        try:
            again = table_entry(path, table, config)
        except IncompleteTableError as err:
            differences.append(str(err))
            continue
        for field in ("rows", "rows_expected", "columns"):
            if again[field] != entry.get(field):
                differences.append(f"{path}: {field} {again[field]} where the manifest says {entry.get(field)}")
    # Tables no config row count checks (theory): each line still read as its table's.
    for t in made_tables(config):
        if t.reproducible and t.name not in manifest_tables(config):
            path = tables_dir / f"{t.name}.csv"
            if not path.is_file():
                if not t.optional:
                    differences.append(f"{path}: missing")
                continue
            try:
                read_table(path, t.name)
            except IncompleteTableError as err:
                differences.append(str(err))
    return differences + stale_differences(results_dir)


#: Changed files a stale-table line names before "and N more".
SHOWN_FILES = 3


def stale_differences(results_dir: str | Path) -> list[str]:
    """One line when tables of ``results_dir`` were made by other code than the installed one
    (their fingerprints in ``provenance.json`` differ), naming them and the command that remakes them."""
    from initlab.study.provenance import PROVENANCE_NAME, changed_files, load_provenance, stale_tables

    path = Path(results_dir) / PROVENANCE_NAME
    try:
        record = load_provenance(path)
    except ValueError as err:
        return [str(err)]
    if record is None:
        return [
            f"{path}: missing, so which code made the tables is unknown; remake them with "
            "`snakemake --cores 8 --forceall` in the study folder"
        ]
    stale = stale_tables(record)
    if not stale:
        return []
    rules = sorted({r for rs in stale.values() for r in rs})
    files = changed_files(record, rules)
    shown = ", ".join(files[:SHOWN_FILES]) + (
        f" and {len(files) - SHOWN_FILES} more" if len(files) > SHOWN_FILES else ""
    )
    tables = ", ".join(f"{name}.csv" for name in stale)
    return [
        f"{tables} {'was' if len(stale) == 1 else 'were'} made by other code than the installed one "
        f"(changed: {shown or 'rule fingerprints'}); remake {'it' if len(stale) == 1 else 'them'} with "
        f"`snakemake --cores 8 --forcerun {' '.join(rules)}` in the study folder"
    ]
