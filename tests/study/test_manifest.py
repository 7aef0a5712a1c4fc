"""The manifest records each table's rows, columns and SHA-256; ``initlab verify`` catches any change."""

from __future__ import annotations

import json

import pytest

from initlab.cli import main
from initlab.study.aggregate import aggregate
from initlab.study.completeness import IncompleteTableError
from initlab.study.expected import expected_keys
from initlab.study.fingerprint import TABLE_RULES, fingerprints
from initlab.study.manifest import MANIFEST_NAME, sha256_of, verify, write_manifest
from initlab.study.provenance import PROVENANCE_NAME, write_provenance
from initlab.study.tables import TABLE, write_csv
from tests.study.test_completeness import CONFIG, _write_jobs


@pytest.fixture
def results(tmp_path):
    """A results folder as the workflow leaves it: config.json, tables/ and their manifest."""
    folder = tmp_path / "results"
    tables = folder / "tables"
    jobs = tmp_path / "jobs"
    tables.mkdir(parents=True)
    jobs.mkdir()
    (folder / "config.json").write_text(json.dumps(CONFIG, sort_keys=True) + "\n")
    for table in ("signal_probe", "training", "curves"):
        aggregate(table, _write_jobs(jobs, table), tables / f"{table}.csv", config=CONFIG)
    lab_rows = [
        dict(zip(list(TABLE["lab_reproduction"].keys), k, strict=True))
        | {"lesson_value": "0.5", "measured_value": "0.5", "matches": True}
        for k in expected_keys("lab_reproduction", CONFIG)
    ]
    write_csv(tables / "lab_reproduction.csv", TABLE["lab_reproduction"].columns, lab_rows)
    write_manifest(tables, folder / "config.json", tables / MANIFEST_NAME)
    prints = {rule: f.as_dict() for rule, f in fingerprints(TABLE_RULES).items()}
    write_provenance(folder / PROVENANCE_NAME, config_path=folder / "config.json", fingerprints=prints, threads={})
    return folder


def test_manifest_records_rows_columns_and_hashes(results):
    manifest = json.loads((results / "tables" / MANIFEST_NAME).read_text())
    training = manifest["tables"]["training"]
    assert training["rows"] == training["rows_expected"] == 3 * 2 * 2
    assert training["columns"][:2] == ["seed", "depth"]
    assert training["sha256"] == sha256_of(results / "tables/training.csv")
    assert manifest["config"]["sha256"] == sha256_of(results / "config.json")
    assert verify(results) == []


@pytest.mark.parametrize("table", ["signal_probe", "training", "curves", "lab_reproduction"])
def test_any_changed_byte_is_caught(results, table, capsys):
    path = results / "tables" / f"{table}.csv"
    data = bytearray(path.read_bytes())
    at = data.rindex(b"0.5")  # a value, so the table stays complete: only the hash can tell
    data[at + 2] = ord("6")
    path.write_bytes(bytes(data))
    differences = verify(results)
    assert len(differences) == 1
    assert differences[0].startswith(f"{path}: SHA-256 ") and "the table changed after the run" in differences[0]
    assert main(["verify", str(results)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"initlab verify: {path}: SHA-256") and err.count("\n") == 1  # one difference, one line


def test_a_table_edited_with_its_manifest_is_still_caught(results):
    """Drop a row and rewrite the hash too: the config still says a row is missing."""
    path = results / "tables/training.csv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    manifest_path = results / "tables" / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["training"]["sha256"] = sha256_of(path)
    manifest_path.write_text(json.dumps(manifest))
    (difference,) = verify(results)
    assert difference.startswith(f"{path}: 1 row(s) of the training table missing: seed=2 ")
    assert difference.endswith(f"delete {path} and run snakemake again with `--forcerun aggregate`")


def test_a_changed_config_is_caught(results):
    config = json.loads((results / "config.json").read_text())
    (results / "config.json").write_text(json.dumps(config | {"seeds": [0, 1, 2, 3]}))
    differences = verify(results)
    assert differences[0].startswith(f"{results / 'config.json'}: SHA-256")
    assert any("row(s) of the signal_probe table missing: seed=3" in d for d in differences)


def test_manifest_refuses_an_incomplete_table(results):
    path = results / "tables/curves.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines + lines[-1:]))
    with pytest.raises(IncompleteTableError, match="1 duplicated row"):
        write_manifest(results / "tables", results / "config.json", results / "tables" / MANIFEST_NAME)


def test_verify_ok_and_missing_folder(results, tmp_path, capsys):
    assert main(["verify", str(results)]) == 0
    assert "matches its manifest, config and the installed code" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "nowhere")]) == 1
    assert "config.json: missing" in capsys.readouterr().err
