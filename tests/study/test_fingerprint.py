"""Fingerprints follow the code a step runs: a change there moves it, a change elsewhere does not.

Every change is made in a copy of the package (never in the repository's own source)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from initlab.study import fingerprint
from initlab.study.fingerprint import STEPS, TABLE_RULES, fingerprints, step_files, table_fingerprints
from initlab.study.tables import TABLES
from tests.harness import REPO


@pytest.fixture
def code(tmp_path) -> tuple[Path, Path]:
    """A copy of the package and of the report's templates, as a checkout would hold them."""
    package = shutil.copytree(
        fingerprint.PACKAGE_DIR, tmp_path / "src/initlab", ignore=shutil.ignore_patterns("__pycache__")
    )
    templates = shutil.copytree(REPO / "report_templates", tmp_path / "report_templates")
    return package, templates


def changed_rules(package: Path, templates: Path, edit) -> set[str]:
    before = fingerprints(package_dir=package, templates_dir=templates)
    edit()
    fingerprint.file_hash.cache_clear()  # a file's hash and imports are cached for the process
    fingerprint._imports.cache_clear()
    after = fingerprints(package_dir=package, templates_dir=templates)
    return {rule for rule in STEPS if before[rule].value != after[rule].value}


def append(path: Path, line: str = "# a fix, as a git pull would bring") -> None:
    path.write_text(path.read_text() + line + "\n")


def test_the_copy_has_the_installed_fingerprints(code):
    package, templates = code
    assert {r: f.value for r, f in fingerprints(package_dir=package, templates_dir=templates).items()} == {
        r: f.value for r, f in fingerprints(templates_dir=REPO / "report_templates").items()
    }


def test_a_change_to_the_trainer_moves_the_jobs_that_train(code):
    package, templates = code
    changed = changed_rules(package, templates, lambda: append(package / "engine/train.py"))
    # the lesson replay and the ablation train; probe jobs import the trainer through the expected
    # rows of the lesson table (initlab.study.expected); theory and the data set never do
    assert {"train", "ablation", "lab_replay"} <= changed
    assert not changed & {"theory", "theory_start", "dataset"}


def test_a_change_to_the_inits_moves_every_compute_step(code):
    package, templates = code
    changed = changed_rules(package, templates, lambda: append(package / "engine/inits.py"))
    assert {"probe", "train", "ablation", "lab_replay", "theory", "theory_start"} <= changed
    assert "dataset" not in changed


def test_a_change_to_a_template_moves_only_the_report(code):
    package, templates = code
    assert changed_rules(package, templates, lambda: append(templates / "report.html.j2", "<!-- -->")) == {"report"}


def test_a_change_to_a_figure_moves_figures_and_report_only(code):
    package, templates = code
    assert changed_rules(package, templates, lambda: append(package / "report/figures.py")) == {"figures", "report"}


def test_code_no_step_runs_moves_nothing(code):
    package, templates = code
    # the user-facing model check's pages (initlab inspect) are no step of the study
    assert changed_rules(package, templates, lambda: append(package / "report/inspect_text.py")) == set()


def test_a_change_to_the_model_trainer_or_inspect_moves_the_model_jobs(code):
    package, templates = code
    # a configured model's rows hold inspect's verdict before training
    for module in ("engine/modeltrain.py", "engine/usermodel.py", "engine/inspect.py"):
        assert "model" in changed_rules(package, templates, lambda module=module: append(package / module)), module
    assert changed_rules(package, templates, lambda: append(package / "engine/datasets.py")) >= {"model_dataset"}


def test_the_lesson_text_is_data_the_replay_reads(code):
    package, templates = code
    changed = changed_rules(
        package, templates, lambda: append(package / "engine/lesson/lab1_expected_in_lesson.txt", "x")
    )
    assert "lab_replay" in changed


def test_a_torch_upgrade_moves_the_compute_steps(monkeypatch):
    before = fingerprints(TABLE_RULES)
    real = fingerprint.package_version
    monkeypatch.setattr(fingerprint, "package_version", lambda name: "9.9.9" if name == "torch" else real(name))
    after = fingerprints(TABLE_RULES)
    changed = {r for r in TABLE_RULES if before[r].value != after[r].value}
    assert {"probe", "train", "ablation", "lab_replay", "theory"} <= changed
    assert before["train"].packages["torch"] != after["train"].packages["torch"] == "9.9.9"


def test_every_step_hashes_its_entry_modules_and_the_command_line():
    for rule, step in STEPS.items():
        files, _ = step_files(step)
        names = {p.relative_to(fingerprint.PACKAGE_DIR).as_posix() for p in files}
        assert "cli.py" in names, rule
        for module in step.modules:
            assert module.removeprefix("initlab.").replace(".", "/") + ".py" in names, (rule, module)


def test_tables_combine_the_rules_they_come_from():
    prints = fingerprints(TABLE_RULES)
    tables = table_fingerprints(TABLES, prints)
    assert tables["training"] == tables["curves"]  # one job kind, one aggregation
    assert len({tables["training"], tables["theory"], tables["lab_reproduction"]}) == 3
    assert fingerprint.table_rules(next(t for t in TABLES if t.name == "training")) == ["train", "aggregate"]
