"""The harness's slow rule has teeth: Snakemake, a browser, or a slow fixture in a test not marked
``slow`` fails that test. (Checked on stand-ins: nothing here starts Snakemake or a browser.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests import harness
from tests.harness import unmarked_slow_fixtures


@pytest.fixture
def unmarked_test(monkeypatch):
    """The harness believes it runs in a test not marked slow."""
    monkeypatch.setattr(harness.current, "nodeid", "tests/x.py::test_y")
    monkeypatch.setattr(harness.current, "slow", False)


def test_the_harness_knows_the_running_test_and_its_marker(request):
    assert harness.current.nodeid == request.node.nodeid
    assert harness.current.slow is False  # this test is not marked slow


def test_require_slow_fails_a_test_not_marked_slow(unmarked_test, monkeypatch):
    with pytest.raises(pytest.fail.Exception, match=r"tests/x.py::test_y runs a browser but is not marked slow"):
        harness.require_slow("runs a browser")
    monkeypatch.setattr(harness.current, "slow", True)
    harness.require_slow("runs a browser")  # marked: passes


def test_snakemake_fails_a_test_not_marked_slow(unmarked_test, monkeypatch, tmp_path):
    monkeypatch.setattr(harness.subprocess, "run", lambda *a, **k: pytest.fail("Snakemake was started"))
    with pytest.raises(pytest.fail.Exception, match="starts Snakemake but is not marked slow"):
        harness.run_snakemake(tmp_path, tmp_path / "config.yaml", "--dry-run")
    with pytest.raises(pytest.fail.Exception, match="starts Snakemake but is not marked slow"):
        harness.run_config_text(tmp_path, "seeds: []\n")
    monkeypatch.setattr(harness.subprocess, "Popen", lambda *a, **k: pytest.fail("Snakemake was started"))
    study = harness.StudyRun(tmp_path / "study", {"seeds": [0]}, tmp_path / "logs")
    with pytest.raises(pytest.fail.Exception, match="starts Snakemake but is not marked slow"):
        study.start()


def test_the_browser_fails_a_test_not_marked_slow(unmarked_test, monkeypatch, tmp_path):
    monkeypatch.setattr(harness.subprocess, "run", lambda *a, **k: pytest.fail("the browser was started"))
    with pytest.raises(pytest.fail.Exception, match="runs a browser but is not marked slow"):
        harness.browse("chromium", tmp_path, tmp_path / "page.html", "--dump-dom")


def _item(*fixtures: str, slow: bool = False) -> SimpleNamespace:
    return SimpleNamespace(fixturenames=list(fixtures), get_closest_marker=lambda name: object() if slow else None)


def test_slow_fixtures_in_a_test_not_marked_slow_are_named():
    assert unmarked_slow_fixtures(_item("tmp_path", "quick_study", "chromium")) == {"quick_study", "chromium"}
    assert unmarked_slow_fixtures(_item("slurm_cluster")) == {"slurm_cluster"}
    assert unmarked_slow_fixtures(_item("quick_study_run")) == {"quick_study_run"}
    assert unmarked_slow_fixtures(_item("tmp_path", "quick_config")) == set()
    assert unmarked_slow_fixtures(_item("quick_study", "chromium", slow=True)) == set()


def test_commands_name_the_snakefile_folder_and_config(tmp_path):
    config = harness.write_config(tmp_path, {"seeds": [0]})
    assert config.read_text() == "seeds:\n- 0\n"
    cmd = harness.snakemake_command(tmp_path, config, "results/tables/training.csv", "--cores", "2")
    assert cmd[1:5] == ["-m", "snakemake", "results/tables/training.csv", "--cores"]
    assert cmd[-6:] == [
        "--snakefile",
        str(harness.SNAKEFILE),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(config),
    ]
    limited = harness.snakemake_command(tmp_path, config, interrupt_after=60)
    assert (
        limited[:7] == ["timeout", "--foreground", "-s", "INT", "-k", "30", "60"] and limited[7:] == cmd[:3] + cmd[-6:]
    )


def test_configs_are_fresh_copies():
    quick = harness.load_config("quick.yaml")
    quick["training"]["depths"].append(99)
    assert harness.load_config("quick.yaml")["training"]["depths"] == [2, 4]


def test_page_facts_reads_the_probe():
    dom = '<body data-images="9" data-decoded="8" data-height="4000"><p>x</p></body>'
    assert harness.page_facts(dom) == {"images": 9, "decoded": 8, "height": 4000}
