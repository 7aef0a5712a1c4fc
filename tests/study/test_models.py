"""Configured models and data sets as a study axis: their jobs and rows, and every bad input refused
by the config check, before any job, with one line naming the model or data set."""

import numpy as np
import pytest
import yaml
from snakemake.utils import validate

from initlab.engine.cells import ModelCell
from initlab.study import axes
from initlab.study.configcheck import check_study
from initlab.study.expected import expected_keys, made_tables
from initlab.study.models import resolve_paths
from tests.harness import REPO, run_config_text, run_snakemake, write_config

MODEL_FILE = """
from torch import nn

def build(classes=2, hidden=8):
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, classes))

def broken():
    raise RuntimeError("no weights here")

def not_a_module():
    return 3
"""


def _config(tmp_path, schema_path, models=None, datasets=None):
    (tmp_path / "mlp.py").write_text(MODEL_FILE)
    config = {
        "seeds": [0, 1, 2],
        "seed_block_size": 2,
        "inits": ["default", "he"],
        "datasets": {"moons": {"builtin": "moons"}} if datasets is None else datasets,
        "models": {"mlp": {"factory": f"{tmp_path}/mlp.py:build", "dataset": "moons"}} if models is None else models,
    }
    validate(config, schema_path)
    return config


def test_a_study_without_models_has_no_model_jobs_or_tables(default_config):
    assert axes.jobs(default_config, "model") == []
    assert {"models", "model_curves"}.isdisjoint(t.name for t in made_tables(default_config))
    assert "models" not in default_config and "datasets" not in default_config


def test_model_jobs_cover_model_optimizer_lr_and_seed_block(tmp_path, schema_path):
    models = {
        "mlp": {
            "factory": f"{tmp_path}/mlp.py:build",
            "dataset": "moons",
            "optimizers": {"adam": [0.01, 0.1], "sgd": 0.1},
            "batch_size": 32,
            "steps": 7,
        }
    }
    config = _config(tmp_path, schema_path, models)
    jobs = axes.jobs(config, "model")
    assert [(j.path, j.seeds_name) for j in jobs] == [
        (p, s) for p in ("mlp/adam/lr0.01", "mlp/adam/lr0.1", "mlp/sgd") for s in ("0-1", "2")
    ]
    cell = jobs[0].cell
    # the training section's curve stride unless the model says otherwise; the model's steps
    assert (cell.steps, cell.batch_size, cell.curve_stride, cell.activation) == (
        7,
        32,
        config["training"]["curve_stride"],
        "relu",
    )
    assert jobs[0].inits == ("default", "he")
    assert len(expected_keys("models", config)) == 3 * 3 * 2  # lr x seeds x inits
    assert len(expected_keys("model_curves", config)) == 3 * 3 * 2 * len(cell.curve_steps())
    again, _ = axes.Job.from_json(jobs[0].to_json())
    assert again == jobs[0]


def test_the_schema_default_activation_is_the_cells():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    entry = schema["properties"]["models"]["additionalProperties"]["properties"]
    assert entry["activation"]["default"] == ModelCell("m", "f.py:g", "d", "adam", 0.1).activation


def test_a_good_config_passes_the_check(tmp_path, schema_path):
    check_study(_config(tmp_path, schema_path))


def _bad_file(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    rng = np.random.default_rng(0)
    good = {
        "x_train": rng.normal(size=(8, 2)).astype(np.float32),
        "y_train": np.arange(8) % 2,
        "x_val": rng.normal(size=(4, 2)).astype(np.float32),
        "y_val": np.arange(4) % 2,
    }
    np.savez(path, **{k: v for k, v in (good | arrays).items() if v is not None})
    return str(path)


@pytest.mark.parametrize(
    "case, expected",
    [
        ("no file", "invalid config: models.mlp: factory '{d}/nope.py:build': file '{d}/nope.py' does not exist"),
        (
            "no function",
            "invalid config: models.mlp: factory '{d}/mlp.py:buld': {d}/mlp.py has no function 'buld'; "
            "callables defined there: broken, build, not_a_module",
        ),
        ("raises", "invalid config: models.mlp: {d}/mlp.py:broken(**{{}}) raised RuntimeError: no weights here"),
        (
            "not a module",
            "invalid config: models.mlp: {d}/mlp.py:not_a_module returned int; expected a torch.nn.Module",
        ),
        (
            "bad kwargs",
            "invalid config: models.mlp: {d}/mlp.py:build(**{{'width': 3}}) raised TypeError: "
            "build() got an unexpected keyword argument 'width'",
        ),
        (
            "wrong classes",
            "invalid config: models.mlp: output (4, 3) for dataset 'moons' inputs of shape (4, 2); "
            "expected a tensor of shape (4, 2) (N, classes): one logit per class of 'moons'",
        ),
        (
            "wrong input",
            "invalid config: models.mlp: the model rejected dataset 'digits' inputs of shape (4, 1, 8, 8): "
            "RuntimeError: mat1 and mat2 shapes cannot be multiplied",
        ),
        (
            "unknown dataset",
            "invalid config: models.mlp.dataset = 'mnist' is not allowed; "
            "expected a name defined in datasets (moons, digits)",
        ),
        (
            "missing key",
            "invalid config: dataset 'moons': missing key(s) y_val; expected arrays x_train, y_train, x_val, y_val",
        ),
        (
            "float labels",
            "invalid config: dataset 'moons': y_train has dtype float64 and shape (8,); "
            "expected a 1-D array of integer class labels 0..C-1",
        ),
        (
            "label out of range",
            "invalid config: dataset 'moons': the training labels hold classes [0, 1]; expected every "
            "class 0..C-1 (C >= 2), missing [2]",
        ),
        (
            "no data file",
            "invalid config: dataset 'moons': file '{d}/gone.npz' does not exist; expected an .npz with "
            "x_train, y_train, x_val, y_val",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_model_or_data_set(tmp_path, schema_path, case, expected):
    d = str(tmp_path)
    factory = {
        "no file": f"{d}/nope.py:build",
        "no function": f"{d}/mlp.py:buld",
        "raises": f"{d}/mlp.py:broken",
        "not a module": f"{d}/mlp.py:not_a_module",
    }.get(case, f"{d}/mlp.py:build")
    entry = {"factory": factory, "dataset": {"wrong input": "digits", "unknown dataset": "mnist"}.get(case, "moons")}
    entry |= {"bad kwargs": {"kwargs": {"width": 3}}, "wrong classes": {"kwargs": {"classes": 3}}}.get(case, {})
    datasets = {"moons": {"builtin": "moons"}, "digits": {"builtin": "digits"}}
    file = {
        "missing key": {"y_val": None},
        "float labels": {"y_train": (np.arange(8) % 2).astype(float)},
        "label out of range": {"y_val": np.array([0, 1, 2, 1])},
    }
    if case in file:
        datasets["moons"] = {"file": _bad_file(tmp_path, **file[case])}
    elif case == "no data file":
        datasets["moons"] = {"file": f"{d}/gone.npz"}
    config = _config(tmp_path, schema_path, {"mlp": entry}, datasets)
    with pytest.raises(ValueError) as err:
        check_study(config)
    message = str(err.value)
    assert message.startswith(expected.format(d=d)) and "\n" not in message, message


def test_paths_missing_here_are_read_from_the_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = {
        "models": {"cnn": {"factory": "examples/digits_cnn.py:build", "dataset": "d"}},
        "datasets": {"d": {"file": "here.npz"}, "e": {"file": "examples/none.npz"}},
    }
    resolved = resolve_paths(config, REPO)
    assert resolved["models"]["cnn"]["factory"] == f"{REPO}/examples/digits_cnn.py:build"
    assert resolved["datasets"] == config["datasets"]  # neither here nor in the repository: left to the check
    assert config["models"]["cnn"]["factory"] == "examples/digits_cnn.py:build"  # the config is not changed


def test_the_check_builds_a_model_without_touching_the_global_rng(tmp_path, schema_path):
    import torch

    torch.manual_seed(3)
    state = torch.get_rng_state()
    check_study(_config(tmp_path, schema_path))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.slow
def test_workflow_refuses_a_bad_model_before_any_job(tmp_path):
    run = run_config_text(
        tmp_path,
        "datasets: {d: {builtin: digits}}\n"
        "models: {cnn: {factory: examples/digits_cnn.py:build, dataset: d, kwargs: {classes: 3}}}\n",
    )
    assert run.returncode != 0
    assert (
        "invalid config: models.cnn: output (4, 3) for dataset 'd' inputs of shape (4, 1, 8, 8); expected a tensor "
        "of shape (4, 10)"
    ) in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_a_small_digits_study_runs_end_to_end_and_reruns_identically(tmp_path):
    """config/digits.yaml shrunk (2 seeds, 4 inits, 4 steps): the whole study with its report, then
    the model tables again in a second folder, byte for byte."""
    config = yaml.safe_load((REPO / "config/digits.yaml").read_text())
    config["seeds"] = [0, 1]
    config["inits"] = ["default", "zeros", "he", "lsuv"]
    config["models"]["digits_cnn"] |= {"steps": 4, "batch_size": 32, "curve_stride": 2}
    path = write_config(tmp_path / "cfg", config)
    targets = ["results/tables/models.csv", "results/tables/model_curves.csv"]
    runs = []
    for name, wanted in (("a", ["results/report.html"]), ("b", targets)):
        run = run_snakemake(tmp_path / name, path, *wanted, "--cores", "2")
        assert run.returncode == 0, run.stderr[-3000:]
        runs.append(tmp_path / name / "results/tables")
    page = (tmp_path / "a/results/report.html").read_text(encoding="utf-8")
    assert '<section id="model-digits_cnn" class="model">' in page and "Your model: digits_cnn on digits" in page
    assert 'id="claim-model-probe"' in page
    for table in ("models", "model_curves"):
        assert (runs[0] / f"{table}.csv").read_bytes() == (runs[1] / f"{table}.csv").read_bytes()
    import pandas as pd

    models = pd.read_csv(runs[0] / "models.csv")
    assert len(models) == 2 * 2 * 4 and set(models["optimizer"]) == {"adam", "sgd"}
    assert set(models["batch_size"]) == {32} and set(models["dataset"]) == {"digits"}
    zeros = models[models["init"] == "zeros"]
    assert (zeros["probe_verdict"] == "problems found").all() and (zeros["probe_failure"] == "vanished").all()
    assert (models[models["init"] == "he"]["probe_verdict"] == "healthy").all()
    assert len(pd.read_csv(runs[0] / "model_curves.csv")) == 2 * 2 * 4 * 3  # steps 0, 2, 4


def test_the_shipped_digits_config_validates_and_checks(schema_path):
    config = yaml.safe_load((REPO / "config/digits.yaml").read_text())
    validate(config, schema_path)
    check_study(resolve_paths(config, REPO))
    jobs = axes.jobs(config, "model")
    assert [j.path for j in jobs] == ["digits_cnn/adam", "digits_cnn/sgd"]
    assert len(jobs[0].inits) == 11 and len(config["seeds"]) == 10
