"""The HTML report: every section, self-contained, computed sentences, robust provenance."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

import tests.synthetic as syn
from initlab.report import answers, figures
from initlab.report import render as report
from tests.harness import SECTION_IDS


@pytest.fixture(scope="module")
def page(synthetic_report) -> str:
    return (synthetic_report / "out" / "report.html").read_text(encoding="utf-8")


def build(tmp_path, figures_dir, seeds=(0, 1, 2), with_timings=True, **kwargs) -> str:
    """Another report on the CLI's figures (the report embeds figures; test_figures checks drawing them)."""
    tables_dir = syn.write_tables(tmp_path / "tables", seeds=seeds, with_timings=with_timings)
    out = report.build_report(
        tables_dir, figures_dir, tmp_path / "report.html", {"study": "synthetic", "seeds": list(seeds)}, **kwargs
    )
    return out.read_text(encoding="utf-8")


def test_every_section_has_its_stable_id_and_a_toc_link(page):
    for section in SECTION_IDS:
        assert f'<section id="{section}">' in page
        assert f'href="#{section}"' in page
    assert [s for s, _ in report.SECTIONS] == list(SECTION_IDS)


def test_report_is_self_contained(page):
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page)
    assert "<script" not in page and "<link" not in page
    images = re.findall(r'<img\s+src="([^"]*)"', page)
    assert len(images) == len(figures.FIGURES) - len(figures.SWEEP_FIGURES)  # no sweep in these tables
    assert all(src.startswith("data:image/png;base64,") for src in images)


def test_every_figure_is_placed_in_a_section():
    placed = [name for names in report.SECTION_FIGURES.values() for name in names]
    assert sorted(placed + list(figures.SWEEP_FIGURES)) == sorted(figures.FIGURES)  # sweeps: their own sections


def test_answer_sentences_are_the_computed_ones(page):
    training = syn.training_table()
    for answer in (answers.exercise_2(training), answers.exercise_3(training), answers.next_probe(training)):
        assert str(escape(answer.sentence)) in page
    assert "library build" in page
    assert "0.046 → 0.045 ✗" in page


def test_provenance_lists_config_seeds_versions_and_run_time(page):
    provenance = page[page.index('<section id="provenance">') :]
    assert "study: synthetic" in provenance
    assert "0, 1, 2" in provenance
    assert "pandas" in provenance and "seaborn" in provenance
    assert "39.0 s from the first job" in provenance
    assert "63.0 s of work" in provenance and "6.0 s of imports over 3 jobs" in provenance


def test_single_seed_without_timings_renders(tmp_path, synthetic_report):
    page = build(
        tmp_path,
        synthetic_report / "figures",
        seeds=(0,),
        with_timings=False,
        extra_provenance={"note": "one-seed smoke"},
    )
    assert "1 seed: no interval" in page
    assert "no timings table" in page
    assert "one-seed smoke" in page


def test_explicit_timings_file_overrides(tmp_path, synthetic_report):
    timings = tmp_path / "timings.csv"
    syn.timings_table().assign(finished_at=[1003.0, 1004.0, 1005.0]).to_csv(timings, index=False)
    page = build(tmp_path, synthetic_report / "figures", with_timings=False, timings_path=timings)
    assert "5.0 s from the first job" in page


def test_missing_templates_and_figures_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="report.html.j2"):
        report.find_templates_dir(tmp_path)
    tables_dir = syn.write_tables(tmp_path / "tables")
    with pytest.raises(FileNotFoundError, match="initlab figures"):
        report.build_report(tables_dir, tmp_path / "nofigures", tmp_path / "r.html", {})


def test_config_reads_yaml_and_json_alike(tmp_path):
    (tmp_path / "c.yaml").write_text("seeds: [0, 1]\ntraining:\n  steps: 120\n", encoding="utf-8")
    (tmp_path / "c.json").write_text('{"seeds": [0, 1], "training": {"steps": 120}}', encoding="utf-8")
    assert report.load_config(tmp_path / "c.yaml") == report.load_config(tmp_path / "c.json")


def test_git_commit_tolerates_a_directory_without_git(tmp_path):
    assert report.commit_text(tmp_path).startswith("unavailable")
    # by default: the checkout holding initlab, wherever the study runs
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", report.commit_text())


def test_cli_writes_every_figure(synthetic_report):
    assert sorted(p.name for p in (synthetic_report / "figures").iterdir()) == sorted(figures.FIGURES)
