"""The report in a real headless browser (Debian's chromium): it loads from disk with the network
cut off, every section is there, every figure decodes, and the page is not blank."""

from __future__ import annotations

import pytest

from tests.harness import SECTION_IDS, browse, page_facts, with_probe
from tests.workflow.layout import layout_problems, measure_layout

pytestmark = pytest.mark.slow


def test_report_renders_offline_with_every_figure(quick_study, chromium, tmp_path):
    probe = with_probe(quick_study.results / "report.html", tmp_path / "report_probe.html")
    run = browse(chromium, tmp_path, probe, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    for section in SECTION_IDS:
        assert f'id="{section}"' in dom, section
    facts = page_facts(dom)
    assert facts["images"] >= 8 and facts["decoded"] == facts["images"]
    assert facts["height"] > 3000


def test_screenshot_is_not_blank(quick_study, chromium, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    run = browse(
        chromium, tmp_path, quick_study.results / "report.html", f"--screenshot={shot}", "--window-size=1280,2000"
    )
    assert run.returncode == 0, run.stderr[-2000:]
    image = Image.open(shot).convert("L")
    lo, hi = image.getextrema()
    assert hi - lo > 100  # text and figures, not an empty page


# --------------------------------------------------------------------------
# Layout at a reader's window width: tables fit the text column
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_100_seeds(tmp_path_factory):
    """A report from synthetic tables with 100 seeds and all eleven built-in inits."""
    import tests.synthetic as syn
    from initlab import cli
    from initlab.report import answers

    base = tmp_path_factory.mktemp("seeds100")
    seeds, inits = range(100), answers.INIT_ORDER
    training = syn.training_table(seeds=seeds, inits=inits)
    probe = syn.signal_probe_table(seeds=seeds, inits=inits, depths=(2, 8, 20))
    tables = syn.write_tables(base / "tables", seeds=seeds, training=training, signal_probe=probe)
    (base / "config.json").write_text('{"study": "synthetic, 100 seeds"}', encoding="utf-8")
    assert cli.main(["figures", "--tables", str(tables), "--out", str(base / "figures")]) == 0
    assert (
        cli.main(
            [
                "report",
                "--tables",
                str(tables),
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
    return base / "report.html"


def test_quick_study_tables_fit_the_column_at_1280_px(quick_study, chromium, tmp_path):
    layout = measure_layout(chromium, quick_study.results / "report.html", tmp_path)
    assert layout["tables"] and layout["column"] < layout["viewport"]
    assert layout_problems(layout) == []


def test_100_seed_report_reads_at_1280_px(report_100_seeds, chromium, tmp_path):
    """Every summary on screen without scrolling sideways; the per-seed detail stays complete."""
    layout = measure_layout(chromium, report_100_seeds, tmp_path)
    assert layout_problems(layout) == []
    html = report_100_seeds.read_text(encoding="utf-8")
    assert "seed 99" not in html  # no column per seed
    detail = html.split("End loss in every seed (one row per seed)")[1].split("</table>")[0]
    assert detail.count("<tr") == 1 + 100  # header + one row per seed


def test_layout_check_catches_a_table_that_grows_across(report_100_seeds, chromium, tmp_path):
    """The check has teeth: a table with a column per seed, shown open, is reported."""
    wide = "<table class='data'><tr>" + "".join(f"<td>0.0{s:03d}</td>" for s in range(100)) + "</tr></table>"
    page = tmp_path / "wide.html"
    page.write_text(
        report_100_seeds.read_text(encoding="utf-8").replace(
            '<section id="comparing-seeds">',
            f'<section id="comparing-seeds"><h3>wide</h3><div class="scroll">{wide}</div>',
        )
    )
    problems = layout_problems(measure_layout(chromium, page, tmp_path))
    assert len(problems) == 1 and "comparing-seeds: 'wide'" in problems[0]


# --------------------------------------------------------------------------
# Reading: findings first, a short reading path, legible figures, a phone
# --------------------------------------------------------------------------


def test_quick_study_reads_findings_first(quick_study, chromium, tmp_path):
    """At 1280x800 the first screen states every answer; the four exercises end within the reading
    path; answers are short; figures are at 2x with captions and no text below 11 px; no paragraph twice."""
    from initlab.report import answers
    from tests.workflow.layout import measure_reading, reading_problems

    reading = measure_reading(chromium, quick_study.results / "report.html", tmp_path)
    assert reading_problems(reading) == []
    tables = answers.load_tables(quick_study.results / "tables")
    for key, compute in answers.ANSWERS.items():
        summary = compute(tables).summary
        assert summary and summary in reading["first_screen"], key
    assert len(reading["figures"]) >= 10


def test_quick_study_on_a_phone(quick_study, chromium, tmp_path):
    """At 390 px: no sideways scroll of the page, no overlapping contents entries."""
    from tests.workflow.layout import PHONE_WIDTH, measure_phone

    phone = measure_phone(chromium, quick_study.results / "report.html", tmp_path)
    assert phone["viewport"] == PHONE_WIDTH
    assert phone["page_width"] <= PHONE_WIDTH and phone["toc_overlaps"] == 0


def test_reading_check_catches_a_long_answer_and_a_repeat(quick_study, chromium, tmp_path):
    """The check has teeth: a 70-word answer and a paragraph shown twice are reported."""
    from tests.workflow.layout import measure_reading, reading_problems

    long = "<p class='answer'>" + " ".join(["word"] * 70) + ".</p>"
    page = tmp_path / "long.html"
    page.write_text(
        (quick_study.results / "report.html")
        .read_text(encoding="utf-8")
        .replace('<p class="question">', long + long + '<p class="question">', 1)
    )
    problems = reading_problems(measure_reading(chromium, page, tmp_path))
    assert any("answer of 70 words" in p for p in problems) and any("paragraph appears twice" in p for p in problems)
