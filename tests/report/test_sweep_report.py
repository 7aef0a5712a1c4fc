"""The report of a sweep: fragility map with its computed sentences, width figures, and the
config's custom inits in Provenance; none of it for a study without lists."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from markupsafe import escape

import tests.synthetic as syn
from initlab import cli
from initlab.report import figures
from initlab.report.answers.fragility import fragility_cells

CUSTOM = {"normal_005": {"kind": "normal", "std": 0.05}, "he_x07": {"kind": "scaled", "base": "he", "factor": 0.7}}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweep")
    training = syn.sweep_training_table(widths=(16, 64))
    probe = syn.signal_probe_table(depths=(2, 8), width=16)
    probe = pd.concat([probe, probe.assign(width=128)], ignore_index=True)
    tables_dir = syn.write_tables(base / "tables", training=training, signal_probe=probe)
    (base / "config.json").write_text(json.dumps({"seeds": [0, 1, 2], "custom_inits": CUSTOM}), encoding="utf-8")
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
                str(base / "report.html"),
            ]
        )
        == 0
    )
    return training, (base / "report.html").read_text(encoding="utf-8")


def test_sweep_sections_show_the_computed_sentences_and_every_figure(sweep):
    training, page = sweep
    assert '<section id="fragility-map">' in page and '<section id="widths">' in page
    for cell in fragility_cells(training):
        for sentence in cell.sentences.values():
            assert str(escape(sentence)) in page
    assert "Large trains in every seed up to lr 0.01 and first fails at lr 0.1 (diverged in 3/3 seeds)." in page
    images = re.findall(r'<img\s+src="([^"]*)"', page)
    assert len(images) == len(figures.FIGURES)


def test_provenance_lists_custom_init_definitions(sweep):
    _, page = sweep
    provenance = page[page.index('<section id="provenance">') :]
    assert "he_x07" in provenance and "he with every weight times 0.7" in provenance
    assert "N(0, 0.05^2)" in provenance


def test_no_sweep_sections_without_lists(synthetic_report):
    """The synthetic study's report (one width, one lr per optimizer, no custom inits)."""
    page = (synthetic_report / "out" / "report.html").read_text(encoding="utf-8")
    assert 'id="fragility-map"' not in page and 'id="widths"' not in page and 'id="custom-inits"' not in page


def test_exercise_1_names_the_width_it_used_only_for_a_width_sweep():
    from initlab.report.answers import exercise_1

    one = syn.signal_probe_table(depths=(2, 8), width=128)
    assert "Probe width" not in exercise_1(one).sentence
    swept = pd.concat([one, one.assign(width=512)], ignore_index=True)
    assert "(Probe width 128, the probed width closest to the lesson's 128.)" in exercise_1(swept).sentence
    narrow = pd.concat([one.assign(width=16), one.assign(width=64)], ignore_index=True)
    assert "(Probe width 64, the probed width closest to the lesson's 128.)" in exercise_1(narrow).sentence
