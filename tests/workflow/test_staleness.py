"""Results are never stale: on a real quick study, a change to the code a rule runs plans that
rule's jobs and everything after them, a change to anything else plans nothing; ``initlab verify``
names the tables made by other code; every reader of a table names a bad line in one line.

Code is changed in a copy of the checkout (Snakefile, workflow/, src/, report_templates/, README)
put first on PYTHONPATH, as a ``git pull`` would change it; the repository's own source is never
touched. The shared quick study is copied before anything runs in it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import REPO, copy_study, planned_jobs, run_snakemake

pytestmark = pytest.mark.slow

#: What a checkout holds that the workflow or the `initlab` command reads, plus a README.
CHECKOUT = ("Snakefile", "workflow", "src", "report_templates", "config", "README.md")
#: The rules that compute (each quick-study job of them reruns when the engine's inits change).
COMPUTE = ("probe", "train", "ablation", "lab_replay", "theory", "theory_start")
#: What follows the tables, and the default target.
AFTER = {"aggregate": 4, "manifest": 1, "provenance": 1, "figures": 1, "report": 1, "all": 1}


@pytest.fixture
def checkout(tmp_path) -> Path:
    code = tmp_path / "code"
    for name in CHECKOUT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, code / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            code.mkdir(exist_ok=True)
            shutil.copy2(source, code / name)
    return code


@pytest.fixture
def study(quick_study, tmp_path):
    """A copy of the shared quick study (its folder, config and Snakemake's records)."""
    copy_study(quick_study.folder, tmp_path / "study")
    return tmp_path / "study", tmp_path / "study" / quick_study.config.name


def env_for(code: Path) -> dict[str, str]:
    return os.environ | {"PYTHONPATH": str(code / "src")}


def plan(checkout: Path, study) -> dict[str, int]:
    folder, config = study
    return planned_jobs(folder, config, snakefile=checkout / "Snakefile", env=env_for(checkout))


def initlab(code: Path | None, *args: str) -> subprocess.CompletedProcess:
    env = env_for(code) if code is not None else None
    return subprocess.run(
        [sys.executable, "-m", "initlab", *args], capture_output=True, text=True, env=env, timeout=900
    )


def append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + line + "\n")


def test_the_copied_checkout_plans_nothing_and_a_readme_change_neither(checkout, study):
    assert plan(checkout, study) == {}
    append(checkout / "README.md", "One more sentence.")
    assert plan(checkout, study) == {}


def test_an_engine_change_plans_the_compute_jobs_and_everything_after(checkout, study, quick_study):
    append(checkout / "src/initlab/engine/inits.py", "# a fix, as a git pull would bring")
    jobs = plan(checkout, study)
    made = json.loads((quick_study.results / "provenance.json").read_text())
    assert set(COMPUTE) <= set(jobs) and AFTER.items() <= jobs.items()
    assert "dataset" not in jobs and "effective_config" not in jobs  # they run no init code
    folder, config = study
    changes = run_snakemake(
        folder, config, "--list-changes", "params", snakefile=checkout / "Snakefile", env=env_for(checkout)
    )
    assert changes.returncode == 0 and "results/tables/theory.csv" in changes.stdout
    # verify with the changed code installed: one line, the stale tables and the command remaking them
    stale = initlab(checkout, "verify", str(folder / "results"))
    assert stale.returncode == 1 and stale.stdout == ""
    (line,) = stale.stderr.splitlines()
    assert "training.csv" in line and "theory.csv" in line and "made by other code" in line
    assert "changed: engine/inits.py" in line and "--forcerun" in line and "probe" in line
    # and with the code that made them: fresh
    fresh = initlab(None, "verify", str(folder / "results"))
    assert fresh.returncode == 0, fresh.stderr
    assert made["tables"]["training"]["rules"] == ["train", "aggregate"]


def test_a_template_change_plans_only_the_report(checkout, study):
    append(checkout / "report_templates/report.html.j2", "<!-- a wording fix -->")
    # the report, and the record of which templates made it
    assert plan(checkout, study) == {"provenance": 1, "report": 1, "all": 1}


def test_compare_needs_no_report(quick_study, tmp_path):
    a = shutil.copytree(quick_study.results, tmp_path / "a")
    b = shutil.copytree(quick_study.results, tmp_path / "b")
    for side in (a, b):
        (side / "report.html").unlink()
    run = initlab(None, "compare", str(a), str(b), "--require-identical")
    assert run.returncode == 0, run.stderr
    assert "not compared" not in run.stdout and "code (each rule's fingerprint): same" in run.stdout


@pytest.mark.parametrize(
    "table, garbage, problem",
    [
        ("training", "garbage\n", "line 3 has 1 fields, not 16"),
        ("theory", "relu,he,two,64,1" + ",0" * 11 + "\n", "line 3: depth is 'two', not a number"),
    ],
)
def test_a_garbage_line_is_one_line_from_every_reader(quick_study, tmp_path, table, garbage, problem):
    results = shutil.copytree(quick_study.results, tmp_path / "results")
    path = results / "tables" / f"{table}.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2] + [garbage] + lines[2:]))
    tables = str(results / "tables")
    for args in (
        ("compare", str(quick_study.results), str(results)),
        ("verify", str(results)),
        ("figures", "--tables", tables, "--out", str(tmp_path / "figures")),
        (
            "report",
            "--tables",
            tables,
            "--figures",
            str(results / "figures"),
            "--config",
            str(results / "config.json"),
            "--out",
            str(tmp_path / "report.html"),
        ),
    ):
        run = initlab(None, *args)
        assert run.returncode != 0, args
        message = [line for line in run.stderr.splitlines() if f"{path}: {problem}" in line]
        assert len(message) == 1 and "Traceback" not in run.stderr, (args, run.stderr[-2000:])
