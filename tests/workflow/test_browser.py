"""The report in a real headless browser (Debian's chromium): it loads from disk with the network
cut off, every section is there, every figure decodes, and the page is not blank."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.workflow.helpers import SECTION_IDS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Flags for a sandboxed root run on a closed network (no background connections at start-up),
# and a resolver that fails every host: a report that needed the network would show it.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000",
]

PROBE_SCRIPT = """
<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.setAttribute('data-images', String(imgs.length));
  document.body.setAttribute('data-decoded', String(imgs.filter(i => i.complete && i.naturalWidth > 0).length));
  document.body.setAttribute('data-height', String(document.body.scrollHeight));
});
</script>
"""


@pytest.fixture(scope="module")
def chromium():
    if CHROMIUM is None:
        if os.environ.get("INITLAB_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (INITLAB_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("chromium not installed (tests/install_system.sh installs it)")
    return CHROMIUM


def _browse(chromium, tmp_path, page, *extra):
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )


def test_report_renders_offline_with_every_figure(study, chromium, tmp_path):
    folder, _, _ = study
    html = (folder / "results/report.html").read_text()
    probe = tmp_path / "report_probe.html"
    probe.write_text(html.replace("</body>", PROBE_SCRIPT + "</body>"))
    run = _browse(chromium, tmp_path, probe, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    for section in SECTION_IDS:
        assert f'id="{section}"' in dom, section
    images = int(dom.split('data-images="')[1].split('"')[0])
    decoded = int(dom.split('data-decoded="')[1].split('"')[0])
    assert images >= 8 and decoded == images
    assert int(dom.split('data-height="')[1].split('"')[0]) > 3000


def test_screenshot_is_not_blank(study, chromium, tmp_path):
    from PIL import Image

    folder, _, _ = study
    shot = tmp_path / "report.png"
    run = _browse(chromium, tmp_path, folder / "results/report.html", f"--screenshot={shot}", "--window-size=1280,2000")
    assert run.returncode == 0, run.stderr[-2000:]
    image = Image.open(shot).convert("L")
    lo, hi = image.getextrema()
    assert hi - lo > 100  # text and figures, not an empty page


# --------------------------------------------------------------------------
# Layout at a reader's window width (issue 15): tables fit the text column
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_100_seeds(tmp_path_factory):
    """A report from synthetic tables with 100 seeds and all eleven built-in inits."""
    import synthetic as syn
    from initlab import cli
    from initlab.report import answers

    base = tmp_path_factory.mktemp("seeds100")
    seeds, inits = range(100), answers.INIT_ORDER
    training = syn.training_table(seeds=seeds, inits=inits)
    probe = syn.signal_probe_table(seeds=seeds, inits=inits, depths=(2, 8, 20))
    tables = syn.write_tables(base / "tables", seeds=seeds, training=training, signal_probe=probe)
    (base / "config.json").write_text('{"study": "synthetic, 100 seeds"}', encoding="utf-8")
    assert cli.main(["figures", "--tables", str(tables), "--out", str(base / "figures")]) == 0
    assert cli.main(["report", "--tables", str(tables), "--figures", str(base / "figures"),
                     "--config", str(base / "config.json"), "--out", str(base / "report.html")]) == 0
    return base / "report.html"


def test_quick_study_tables_fit_the_column_at_1280_px(study, chromium, tmp_path):
    from tests.workflow.layout import layout_problems, measure_layout

    folder, _, _ = study
    layout = measure_layout(chromium, FLAGS, folder / "results/report.html", tmp_path)
    assert layout["tables"] and layout["column"] < layout["viewport"]
    assert layout_problems(layout) == []


def test_100_seed_report_reads_at_1280_px(report_100_seeds, chromium, tmp_path):
    """Every summary on screen without scrolling sideways; the per-seed detail stays complete."""
    from tests.workflow.layout import layout_problems, measure_layout

    layout = measure_layout(chromium, FLAGS, report_100_seeds, tmp_path)
    assert layout_problems(layout) == []
    html = report_100_seeds.read_text(encoding="utf-8")
    assert "seed 99" not in html  # no column per seed
    detail = html.split("End loss in every seed (one row per seed)")[1].split("</table>")[0]
    assert detail.count("<tr") == 1 + 100  # header + one row per seed


def test_layout_check_catches_a_table_that_grows_across(report_100_seeds, chromium, tmp_path):
    """The check has teeth: a table with a column per seed, shown open, is reported."""
    from tests.workflow.layout import layout_problems, measure_layout

    wide = "<table class='data'><tr>" + "".join(f"<td>0.0{s:03d}</td>" for s in range(100)) + "</tr></table>"
    page = tmp_path / "wide.html"
    page.write_text(report_100_seeds.read_text(encoding="utf-8").replace(
        '<section id="comparing-seeds">', f'<section id="comparing-seeds"><h3>wide</h3><div class="scroll">{wide}</div>'))
    problems = layout_problems(measure_layout(chromium, FLAGS, page, tmp_path))
    assert len(problems) == 1 and "comparing-seeds: 'wide'" in problems[0]
