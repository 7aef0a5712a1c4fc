"""provenance.json: what it records, and ``initlab verify`` on tables made by other code."""

from __future__ import annotations

import json

from initlab.cli import main
from initlab.study.fingerprint import TABLE_RULES, fingerprints
from initlab.study.provenance import PROVENANCE_NAME, load_provenance, stale_tables, timings_summary
from initlab.study.tables import write_table
from tests.study.test_manifest import results  # noqa: F401 (the fixture: a results folder with its record)


def record_of(folder) -> dict:
    return json.loads((folder / PROVENANCE_NAME).read_text())


def test_the_record_holds_each_fingerprint_and_each_tables_rules(results):  # noqa: F811
    record = record_of(results)
    now = fingerprints(TABLE_RULES)
    assert {rule: p["fingerprint"] for rule, p in record["fingerprints"].items()} == {
        r: f.value for r, f in now.items()
    }
    assert record["tables"]["training"]["rules"] == ["train", "aggregate"]
    assert record["tables"]["lab_reproduction"]["rules"] == ["lab_replay"]
    assert record["config"]["seeds"] == record["seeds"] and len(record["config_sha256"]) == 64
    assert record["packages"]["torch"].startswith("2.") and record["python"].count(".") == 2
    assert "engine/train.py" in record["fingerprints"]["train"]["files"]
    assert stale_tables(load_provenance(results / PROVENANCE_NAME)) == {}


def test_tables_made_by_other_code_are_one_line_with_the_command(results, capsys):  # noqa: F811
    record = record_of(results)
    train = record["fingerprints"]["train"]
    train["files"]["engine/train.py"] = "0" * 16  # the trainer was another file then
    train["fingerprint"] = "f" * 16
    for name in ("training", "curves"):
        record["tables"][name]["fingerprint"] = "e" * 16
    (results / PROVENANCE_NAME).write_text(json.dumps(record))
    assert main(["verify", str(results)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "initlab verify: training.csv, curves.csv were made by other code than the installed one "
        "(changed: engine/train.py); remake them with `snakemake --cores 8 --forcerun train` in the study folder"
    )


def test_a_folder_without_a_record_is_not_verified(results, capsys):  # noqa: F811
    (results / PROVENANCE_NAME).unlink()
    assert main(["verify", str(results)]) == 1
    assert "provenance.json: missing" in capsys.readouterr().err


def test_timings_summary_per_step(tmp_path):
    rows = [
        {
            "job": "train/relu/adam",
            "import_seconds": 2.0,
            "work_seconds": 1.0,
            "work_wall_seconds": 1.1,
            "started_at": "100.000",
            "finished_at": "104.000",
        },
        {
            "job": "train/tanh/adam",
            "import_seconds": 2.0,
            "work_seconds": 3.0,
            "work_wall_seconds": 3.1,
            "started_at": "101.000",
            "finished_at": "110.500",
        },
        {
            "job": "theory",
            "import_seconds": 1.5,
            "work_seconds": 0.5,
            "work_wall_seconds": 0.6,
            "started_at": "100.500",
            "finished_at": "103.000",
        },
    ]
    write_table(tmp_path / "timings.csv", "timings", rows)
    summary = timings_summary(tmp_path / "timings.csv")
    assert summary["jobs"] == 3 and summary["elapsed_seconds"] == 10.5
    assert summary["per_step"]["train"] == {"jobs": 2, "import_seconds": 4.0, "work_seconds": 4.0}
    assert timings_summary(tmp_path / "none.csv") is None
