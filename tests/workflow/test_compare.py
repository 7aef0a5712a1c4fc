"""initlab compare on two real runs of config/quick.yaml with different seeds, and its page in a
real headless Chromium (offline: every section there, not blank)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from initlab.report.compare import compare
from tests.harness import OTHER_SEEDS, browse, load_config

pytestmark = pytest.mark.slow

COMPARE_SECTIONS = ("verdicts", "tables", "seeds", "provenance")


def initlab_compare(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "initlab", "compare", *args], capture_output=True, text=True, timeout=900
    )


def test_two_real_runs_with_different_seeds(quick_study, other_seeds_study, tmp_path):
    a, b = quick_study.results, other_seeds_study.results
    result = compare(a, b)
    assert result.a.seeds == load_config("quick.yaml")["seeds"] and result.b.seeds == OTHER_SEEDS
    tables = {t.name: t for t in result.tables}
    # the lesson replay does not depend on the study's seeds; every other table does
    assert tables["lab_reproduction"].identical
    for name in ("signal_probe", "training", "curves"):
        assert tables[name].rows_both == 0 and tables[name].row_changes == ["B adds seed 2–3", "B lacks seed 0–1"]
    # every conclusion on both sides, with the chance of a flip between the two seed sets
    assert all(v.a is not None and v.b is not None for v in result.verdicts)
    assert all(v.flip_chance == v.flip_chance for v in result.verdicts if v.a.seeds_total)  # not NaN
    assert len(result.seeds.cells["training.end_loss"]) == 2 * 2 * 2 * 11  # depths x activations x optimizers x inits
    # provenance from the real report and config.json: only the seeds differ
    assert [(d.group, d.key) for d in result.provenance.differences] == [("config", "seeds")]
    assert result.a.provenance["packages"]["torch"] == result.b.provenance["packages"]["torch"]
    run = initlab_compare(str(a), str(b), "--html", str(tmp_path / "compare.html"))
    assert run.returncode == (1 if result.changed else 0), run.stdout + run.stderr
    assert "config seeds: [0, 1] → [2, 3]" in run.stdout
    same = initlab_compare(str(a), str(a / "tables"), "--require-identical")
    assert same.returncode == 0 and "every table byte-identical (exit 0)" in same.stdout


def test_compare_page_renders_offline(quick_study, other_seeds_study, chromium, tmp_path):
    from PIL import Image

    page = tmp_path / "compare.html"
    run = initlab_compare(str(quick_study.results), str(other_seeds_study.results), "--html", str(page))
    assert run.returncode in (0, 1), run.stderr
    dom = browse(chromium, tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in COMPARE_SECTIONS:
        assert f'id="{section}"' in dom.stdout, section
    assert 'id="result"' in dom.stdout and "exercise-2" in dom.stdout
    shot = tmp_path / "compare.png"
    shot_run = browse(chromium, tmp_path, page, f"--screenshot={shot}", "--window-size=1280,1600")
    assert shot_run.returncode == 0, shot_run.stderr[-2000:]
    lo, hi = Image.open(shot).convert("L").getextrema()
    assert hi - lo > 100  # text and tables, not an empty page
