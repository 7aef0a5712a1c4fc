"""Provenance shows the tables behind the report: rows found against rows expected, and their SHA-256."""

from __future__ import annotations

import json

import tests.synthetic as syn
from initlab.report import render as report
from initlab.study.manifest import MANIFEST_NAME


def _page(tmp_path, figures_dir, manifest):
    tables_dir = syn.write_tables(tmp_path / "tables")
    if manifest is not None:
        (tables_dir / MANIFEST_NAME).write_text(json.dumps(manifest))
    out = report.build_report(tables_dir, figures_dir, tmp_path / "report.html", {"study": "synthetic"})
    page = out.read_text(encoding="utf-8")
    return page[page.index('<section id="provenance">') :]


def _manifest(rows, expected):
    entry = {
        "file": "training.csv",
        "rows": rows,
        "rows_expected": expected,
        "columns": ["seed", "init"],
        "sha256": "ab" * 32,
    }
    return {"config": {"file": "config.json", "sha256": "cd" * 32}, "tables": {"training": entry}}


def test_complete_tables_are_stated_with_their_hashes(tmp_path, synthetic_report):
    page = _page(tmp_path, synthetic_report / "figures", _manifest(176, 176))
    assert "<td>training.csv</td><td>176</td><td>176</td><td>rows expected = rows found</td>" in page
    assert "ab" * 32 in page and "cd" * 32 in page
    assert "INCOMPLETE" not in page


def test_a_short_table_is_flagged(tmp_path, synthetic_report):
    page = _page(tmp_path, synthetic_report / "figures", _manifest(175, 176))
    assert "<td>175</td><td>176</td><td>INCOMPLETE</td>" in page
    assert "rows expected = rows found</td>" not in page


def test_without_a_manifest_the_report_says_so(tmp_path, synthetic_report):
    page = _page(tmp_path, synthetic_report / "figures", None)
    assert "No MANIFEST.json next to the tables: their completeness was not checked." in page


def test_long_provenance_parts_are_collapsed(tmp_path, synthetic_report):
    """Provenance takes about a screen until opened: the manifest, packages and thresholds sit in closed
    <details>, each summary saying what it holds."""
    import re

    page = _page(tmp_path, synthetic_report / "figures", _manifest(176, 176))
    assert '<details id="tables-behind"><summary>Tables behind this report (1, each checked' in page
    assert '<details id="packages">' in page and '<details id="thresholds"><summary>Thresholds' in page
    visible = re.sub(r"<details.*?</details>", "", page[: page.index("</section>")], flags=re.S)
    assert "ab" * 32 not in visible and "pandas" not in visible
