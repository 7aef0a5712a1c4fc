"""Fixtures for the report stage's tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tests.synthetic as syn


@pytest.fixture(scope="session")
def synthetic_report(tmp_path_factory) -> Path:
    """Figures and report from the synthetic tables, made once through the CLI as the workflow
    calls it: a folder with tables/, config.json, figures/ and out/report.html."""
    from initlab import cli

    base = tmp_path_factory.mktemp("synthetic_report")
    tables_dir = syn.write_tables(base / "tables")
    # the workflow hands over the validated config as JSON
    (base / "config.json").write_text(json.dumps({"study": "synthetic", "seeds": [0, 1, 2]}), encoding="utf-8")
    assert cli.main(["figures", "--tables", str(tables_dir), "--out", str(base / "figures")]) == 0
    assert (
        cli.main(
            [
                "report",
                "--tables",
                str(tables_dir),
                "--figures",
                str(base / "figures"),
                "--config",
                str(base / "config.json"),
                "--out",
                str(base / "out" / "report.html"),
            ]
        )
        == 0
    )
    return base
