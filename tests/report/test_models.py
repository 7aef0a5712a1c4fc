"""The report's section per configured model: each sentence computed, and flipped with the data."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import tests.synthetic as syn
from initlab.report.answers import load_tables
from initlab.report.answers.claims import DOES_NOT_HOLD, HOLDS, IN_PART, check_claims
from initlab.report.answers.models import model_claims, model_results
from initlab.report.answers.runs import NEAR_CHANCE_ACCURACY, near_chance_accuracy, with_run_failure


def result_of(tmp_path, models: pd.DataFrame):
    tables = load_tables(syn.write_tables(tmp_path / "tables", models=models))
    (result,) = model_results(tables)
    return tables, result


def cell(result, optimizer: str):
    return next(c for c in result.cells if c.cell["optimizer"] == optimizer)


def test_chance_follows_the_class_count_and_keeps_the_lessons_line():
    assert NEAR_CHANCE_ACCURACY == 0.6  # the lesson's two classes, as before
    assert near_chance_accuracy(10) == pytest.approx(0.28)
    runs = syn.models_table(seeds=[0]).query("optimizer == 'adam' and init == 'he'")
    for classes, acc, fails in ((10, 0.25, True), (10, 0.35, False), (2, 0.55, True)):
        failure = with_run_failure(runs.assign(classes=classes, val_acc=acc))["failure"].iloc[0]
        assert (failure == "near chance") is fails, (classes, acc)


def test_ranking_names_the_best_init_and_who_is_within_the_noise(tmp_path):
    _, result = result_of(tmp_path, syn.models_table())
    sgd = cell(result, "sgd")
    assert sgd.best == "lsuv" and sgd.ranking["init"].iloc[0] == "lsuv"
    assert sgd.sentences[0].startswith("LSUV ranks first (validation accuracy 0.959, 95 % CI")
    assert "best in 10 of 10 seeds" in sgd.sentences[0]
    adam = cell(result, "adam")
    # He and LSUV share 0.976 (+ the same wobble): a tie in every seed, so each wins every seed
    assert set(adam.ranking.set_index("init").loc[["he", "lsuv"], "seeds_won"]) == {10}
    assert adam.tied and adam.tied[0] in {"he", "lsuv"}

    # flipped: He leads SGD by a clear margin in every seed
    flipped = syn.models_table(
        outcome=syn.MODEL_OUTCOME | {("sgd", "he"): (0.99, 2.54, False), ("adam", "lsuv"): (0.975, 2.7, False)}
    )
    _, result = result_of(tmp_path / "flip", flipped)
    assert cell(result, "sgd").best == "he"
    assert cell(result, "sgd").sentences[0].startswith("He ranks first (validation accuracy 0.99")
    assert result.headline.startswith("He has the best validation accuracy with Adam (0.976) and SGD (0.99).")


def test_the_default_is_within_noise_or_trails_by_the_measured_gap(tmp_path):
    _, result = result_of(tmp_path, syn.models_table())
    sgd = cell(result, "sgd")
    assert "default" not in sgd.tied and sgd.default.diff == pytest.approx(0.883 - 0.959)
    assert sgd.sentences[1].startswith("PyTorch's default (0.883) is 0.076 below LSUV, beyond the seeds' noise")
    assert result.headline.startswith("Best validation accuracy: He with Adam (0.976); LSUV with SGD (0.959).")
    # Adam: default 0.974 against 0.976 with the same per-seed wobble is a constant gap: beyond noise
    assert "PyTorch's default is worse, beyond the seeds' noise, by 0.002 with Adam and 0.076 with SGD." in (
        result.headline
    )

    # flipped: the default's accuracy wobbles around the best's, so the seeds cannot tell them apart
    noisy = syn.models_table()
    adam_default = (noisy["optimizer"] == "adam") & (noisy["init"] == "default")
    noisy.loc[adam_default, "val_acc"] = 0.975 + np.array([4, -4, 6, -6, 1, -1, 0, 3, -3, 0]) * 1e-3
    _, result = result_of(tmp_path / "noisy", noisy)
    assert "default" in cell(result, "adam").tied
    assert (
        "PyTorch's default is as good as the best with Adam (within the seeds' noise); worse, beyond the seeds' "
        "noise, by 0.076 with SGD."
    ) in result.headline
    assert cell(result, "adam").sentences[1] == "PyTorch's default (0.975) is within the seeds' noise of He."


def test_failures_by_mode_and_the_evidence_record(tmp_path):
    _, result = result_of(tmp_path, syn.models_table())
    sgd = cell(result, "sgd").ranking.set_index("init")
    assert sgd.loc["large", "failures"] == "near chance in 10/10 seeds"
    assert sgd.loc["zeros", "failures"] == "no clear improvement in 10/10 seeds"
    assert sgd.loc["large", "evidence"] == "Bad Start (10/10)"
    adam = cell(result, "adam").ranking.set_index("init")
    # large trains under Adam from a start loss above 2 ln 10 = 4.61: the lesson's Warning Start
    assert adam.loc["large", "evidence"] == "Warning Start (10/10)"
    assert adam.loc["he", "evidence"] == "Usable Start (10/10)"
    # with two classes 2.54 is above 2 ln 2 = 1.39: the line follows the class count
    _, two = result_of(tmp_path / "two", syn.models_table(classes=2))
    assert cell(two, "adam").ranking.set_index("init").loc["he", "evidence"] == "Warning Start (10/10)"


def test_the_probe_before_training_against_the_outcome(tmp_path):
    _, result = result_of(tmp_path, syn.models_table())
    probe = result.probe_table.set_index(["cell", "init"])
    assert probe.loc[("SGD, lr 0.1", "large"), "missed"] == 10
    assert probe.loc[("Adam, lr 0.01", "tiny"), "false_alarms"] == 10
    assert probe.loc[("SGD, lr 0.1", "zeros"), "caught"] == 10
    assert result.headline.endswith(
        "The probe before training warned of 30 of the 40 failing runs and missed large, whose start loss "
        "(median 165) was the warning; it also warned of tiny in 10 runs that trained."
    )
    assert cell(result, "sgd").sentences[3] == (
        "The probe before training warned of 20 of the 30 failing runs and missed large, whose start loss "
        "(median 165) was the warning."
    )

    # flipped: inspect flags large too -> nothing missed
    flagged = syn.models_table(
        outcome=syn.MODEL_OUTCOME
        | {(o, "large"): (syn.MODEL_OUTCOME[(o, "large")][:2] + (True,)) for o in ("adam", "sgd")}
    )
    _, result = result_of(tmp_path / "flagged", flagged)
    assert "warned of all 40 failing runs" in result.headline and "missed" not in result.headline
    assert "tiny and large in 20 runs that trained" in result.headline


def test_the_answer_is_at_most_three_sentences_and_sixty_words(tmp_path):
    _, result = result_of(tmp_path, syn.models_table())
    assert len(result.headline.split()) <= 60
    assert len(re.findall(r"[.!?](\s|$)", result.headline)) <= 3
    assert result.summary in result.headline


def test_model_claims_take_the_lessons_verdict_rules(tmp_path):
    tables, _ = result_of(tmp_path, syn.models_table())
    checks = {c.claim.key: c for c in check_claims(tables)}
    assert checks["claim-model-zeros"].verdict == HOLDS
    assert checks["claim-model-large-loss"].verdict == HOLDS
    assert checks["claim-model-usable"].verdict == HOLDS
    assert checks["claim-model-default"].verdict == HOLDS
    # the probe warns with Adam (nothing it missed fails) but misses Large under SGD in every seed
    assert checks["claim-model-probe"].verdict == IN_PART
    assert "missed large in 10/10 seeds" in checks["claim-model-probe"].sentence

    # flipped: the default is stuck under SGD, so "a good first choice" holds only with Adam
    stuck = syn.models_table(outcome=syn.MODEL_OUTCOME | {("sgd", "default"): (0.11, 2.31, False)})
    tables, _ = result_of(tmp_path / "stuck", stuck)
    checks = {c.claim.key: c for c in check_claims(tables)}
    assert checks["claim-model-default"].verdict == IN_PART
    assert checks["claim-model-usable"].verdict == IN_PART
    assert "no clear improvement in 10/10 seeds" in checks["claim-model-default"].sentence

    # flipped: zeros learns everywhere -> the zeros claim does not hold on this model
    learns = syn.models_table(outcome=syn.MODEL_OUTCOME | {(o, "zeros"): (0.9, 2.30, True) for o in ("adam", "sgd")})
    tables, _ = result_of(tmp_path / "learns", learns)
    assert {c.claim.key: c for c in check_claims(tables)}["claim-model-zeros"].verdict == DOES_NOT_HOLD


def test_without_a_model_there_is_no_model_section_and_no_model_claim(tmp_path):
    tables = load_tables(syn.write_tables(tmp_path / "tables"))
    assert model_results(tables) == [] and model_claims(tables) == ()
    assert not any(c.claim.key.startswith("claim-model") for c in check_claims(tables))


def test_the_report_has_a_section_per_model_linked_from_the_first_screen(tmp_path, synthetic_report):
    import shutil

    from initlab.report import figures, render

    tables_dir = syn.write_tables(tmp_path / "tables", models=syn.models_table())
    figures_dir = shutil.copytree(synthetic_report / "figures", tmp_path / "figures")
    figures._draw(load_tables(tables_dir), "model_cnn.png", figures_dir)
    page = render.build_report(tables_dir, figures_dir, tmp_path / "report.html", {"study": "synthetic"}).read_text(
        encoding="utf-8"
    )
    assert 'id="fig-model-cnn"' in page
    _, result = result_of(tmp_path / "again", syn.models_table())
    assert '<section id="model-cnn" class="model">' in page and 'href="#model-cnn"' in page
    assert "Your model: cnn on digits" in page
    header = page[page.index("<header>") : page.index("</header>")]
    assert "Your model cnn" in header and result.summary.replace("'", "&#39;") in header
    assert f'<p class="answer">{result.headline}</p>'.replace("'", "&#39;") in page
    for anchor in ("crit-model-ranking", "crit-probe-before-training"):
        assert f'id="{anchor}"' in page and f'href="#{anchor}"' in page
    assert 'id="claim-model-probe"' in page
    # without a model: none of it
    plain = (synthetic_report / "out" / "report.html").read_text(encoding="utf-8")
    assert 'class="model"' not in plain and "crit-model-ranking" not in plain and "claim-model" not in plain


def test_each_model_gets_a_figure_whose_caption_is_its_ranking(tmp_path):
    from initlab.report import captions, figure_data, figures

    tables, result = result_of(tmp_path, syn.models_table())
    assert list(figures.model_figures(tables)) == ["model_cnn.png"]
    assert "model_cnn.png" in figures.all_figures(tables) and "model_cnn.png" not in figures.FIGURES
    assert list(figures.all_figures(tables)) == figure_data.all_figure_names(tables)
    takeaway, how = captions.caption("model_cnn.png", tables)
    assert takeaway == (
        "With Adam 2 inits share the top within the seeds' noise, and zeros fails; with SGD LSUV leads alone "
        "beyond the seeds' noise, and large, zeros and tiny fail."
    )
    assert "over 10 seeds" in how
    written = figures.render_figures(tables, tmp_path / "figures")
    assert tmp_path / "figures" / "model_cnn.png" in written
    plain = load_tables(syn.write_tables(tmp_path / "plain"))
    assert figures.model_figures(plain) == {}


def test_a_missing_model_figure_stops_the_report(tmp_path, synthetic_report):
    from initlab.report import render

    tables_dir = syn.write_tables(tmp_path / "tables", models=syn.models_table())
    with pytest.raises(FileNotFoundError, match="model_cnn.png"):
        render.build_report(tables_dir, synthetic_report / "figures", tmp_path / "r.html", {})


@pytest.mark.slow
def test_the_model_section_reads_in_chromium_at_1280_px_and_on_a_phone(tmp_path, synthetic_report, chromium):
    """The reading rules hold with a model section: answers short, its figure at 2x with a caption and
    text of 11 px or more, no paragraph twice, tables in their box, no sideways scroll at 390 px."""
    import shutil

    from initlab.report import figures, render
    from tests.workflow.layout import (
        PHONE_WIDTH,
        layout_problems,
        measure_layout,
        measure_phone,
        measure_reading,
        reading_problems,
    )

    tables_dir = syn.write_tables(tmp_path / "tables", models=syn.models_table())
    figures_dir = shutil.copytree(synthetic_report / "figures", tmp_path / "figures")
    figures._draw(load_tables(tables_dir), "model_cnn.png", figures_dir)
    report = render.build_report(tables_dir, figures_dir, tmp_path / "report.html", {"study": "synthetic"})
    reading = measure_reading(chromium, report, tmp_path)
    assert reading_problems(reading) == []
    assert any(a["section"] == "model-cnn" for a in reading["answers"])
    assert any(f["caption"].startswith("Figure ") and "over 10 seeds" in f["caption"] for f in reading["figures"])
    assert layout_problems(measure_layout(chromium, report, tmp_path)) == []
    phone = measure_phone(chromium, report, tmp_path)
    assert phone["page_width"] <= PHONE_WIDTH and phone["toc_overlaps"] == 0
