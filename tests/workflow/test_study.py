"""End to end: config/quick.yaml through the real workflow to report.html, in a temporary folder."""

from __future__ import annotations

import shutil
import zipfile

import pandas as pd
import pytest

from initlab.study.tables import TABLE, TABLES
from tests.harness import REPO, SECTION_IDS, copy_study, planned_jobs, run_snakemake, write_config

pytestmark = pytest.mark.slow


def test_report_is_made_and_its_place_printed(quick_study):
    report = quick_study.results / "report.html"
    assert report.is_file()
    assert f"initlab: the report is at {report.resolve()}" in quick_study.run.stdout + quick_study.run.stderr


def test_report_has_every_section(quick_study):
    html = (quick_study.results / "report.html").read_text()
    for section in SECTION_IDS:
        assert f'id="{section}"' in html, section
    assert "<img" in html and 'src="http' not in html


def test_tables_have_their_columns(quick_study):
    import json

    from initlab.study import axes

    config = json.loads((quick_study.results / "config.json").read_text(encoding="utf-8"))  # defaults filled in
    made = [r for r in TABLES if r.kind and axes.jobs(config, r.kind)]  # quick.yaml has no models
    assert {r.name for r in TABLES if r.kind} - {r.name for r in made} == {"models", "model_curves"}
    for record in made:
        table = pd.read_csv(quick_study.results / f"tables/{record.name}.csv")
        assert list(table.columns) == record.columns
        assert not table.duplicated(list(record.keys)).any()
        assert len(table) > 0
    lab = pd.read_csv(quick_study.results / "tables/lab_reproduction.csv")
    assert list(lab.columns) == TABLE["lab_reproduction"].columns
    assert set(lab[~lab.matches].row) == {"xavier"}


def test_table_sizes_follow_the_config(quick_study, quick_config):
    config = quick_config
    tr = config["training"]
    training = pd.read_csv(quick_study.results / "tables/training.csv")
    n_models = len(config["seeds"]) * len(config["inits"])
    assert len(training) == n_models * len(tr["activations"]) * len(tr["optimizers"]) * len(tr["depths"])
    probe = pd.read_csv(quick_study.results / "tables/signal_probe.csv")
    layers = sum(config["probe"]["depths"])
    assert len(probe) == len(config["seeds"]) * len(config["inits"]) * len(config["probe"]["activations"]) * layers


def test_nothing_to_do_when_up_to_date(quick_study):
    assert planned_jobs(quick_study.folder, quick_study.config) == {}


def test_adding_a_seed_runs_only_its_jobs(quick_study, quick_config, tmp_path):
    more = write_config(tmp_path, quick_config | {"seeds": [0, 1, 10]})
    jobs = planned_jobs(quick_study.folder, more)
    assert jobs == {
        "probe": 3,  # the new block "10", one per probe activation
        "train": 8,  # the new block "10", one per training cell
        "ablation": 2,  # the new block "10", one per configured ablation
        "aggregate": 4,
        "aggregate_timings": 1,
        "effective_config": 1,
        "manifest": 1,
        "provenance": 1,
        "figures": 1,
        "report": 1,
        "all": 1,
    }


def test_two_runs_give_byte_identical_tables(quick_study, tmp_path):
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(quick_study.config, again / "config.yaml")
    run = run_snakemake(
        again,
        again / "config.yaml",
        "--cores",
        "2",
        "results/tables/training.csv",
        "results/tables/curves.csv",
        "results/tables/signal_probe.csv",
        "results/tables/lab_reproduction.csv",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    for name in ("training", "curves", "signal_probe", "lab_reproduction"):
        ours = (again / f"results/tables/{name}.csv").read_bytes()
        assert ours == (quick_study.results / f"tables/{name}.csv").read_bytes(), name


def test_snakemake_own_report(quick_study, tmp_path):
    folder = copy_study(quick_study.folder, tmp_path / "study")  # the report is written into the study
    run = run_snakemake(folder, folder / "config.yaml", "--report", "results/snakemake-report.zip")
    assert run.returncode == 0, run.stderr[-3000:]
    names = zipfile.ZipFile(folder / "results/snakemake-report.zip").namelist()
    assert any(n.endswith("report.html") for n in names)
    assert any(n.endswith("training.csv") for n in names)
    assert any(n.endswith(".png") for n in names)


def test_lint_is_clean(tmp_path):
    run = run_snakemake(tmp_path, REPO / "config/quick.yaml", "--lint")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ablation_all_a_and_all_b_are_the_training_rows_to_the_bit(quick_study):
    """The quick study runs the default ablations: their all-A and all-B rows print the very
    numbers of training.csv's rows of A and B (same seeds, same weights)."""
    ablation = pd.read_csv(quick_study.results / "tables/ablation.csv", dtype=str)
    training = pd.read_csv(quick_study.results / "tables/training.csv", dtype=str)
    cell = ["seed", "depth", "width", "activation", "optimizer", "lr", "steps"]
    values = ["start_loss", "end_loss", "val_acc", "diverged", "diverged_step"]
    assert len(ablation.groupby(["init_a", "init_b", "activation"])) == 2
    for variant, init_col in (("all_a", "init_a"), ("all_b", "init_b")):
        ends = ablation[ablation["variant"] == variant].rename(columns={init_col: "init"})
        joined = ends.merge(training, on=[*cell, "init"], suffixes=("", "_train"), validate="one_to_one")
        assert len(joined) == len(ends) > 0
        for col in values:
            assert (joined[col].fillna("") == joined[f"{col}_train"].fillna("")).all(), (variant, col)
    html = (quick_study.results / "report.html").read_text()
    assert 'id="claim-exercise-2"' in html and "Layer-swap ablation (Tanh, depth 2" in html
