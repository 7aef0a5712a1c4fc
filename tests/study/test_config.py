"""Config validation: the schema fills defaults, agrees with the library's registries, and a bad
config stops the workflow before any job runs with one line naming key, value and what is allowed."""

import copy
import subprocess
import sys

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from initlab.engine.activations import ACTIVATIONS
from initlab.study.configcheck import explain_validation_error
from initlab.engine.inits import INITS
from initlab.engine.train import OPTIMIZERS


@pytest.fixture(scope="module")
def schema_path(repo):
    return str(repo / "workflow/schemas/config.schema.yaml")


@pytest.fixture(scope="module")
def default_config(repo):
    return yaml.safe_load((repo / "config/config.yaml").read_text())


def _error(config, schema_path) -> str:
    with pytest.raises(WorkflowError) as err:
        validate(config, schema_path)
    return explain_validation_error(err.value)


def test_schema_names_are_the_library_registries(repo):
    schema = yaml.safe_load((repo / "workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"]
    assert set(props["inits"]["items"]["enum"]) == set(INITS)
    assert set(props["inits"]["default"]) == set(INITS)
    for section in ("probe", "training"):
        assert set(props[section]["properties"]["activations"]["items"]["enum"]) == set(ACTIVATIONS)
    assert set(props["training"]["properties"]["optimizers"]["properties"]) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", ["config.yaml", "quick.yaml"])
def test_shipped_configs_validate(repo, schema_path, name):
    validate(yaml.safe_load((repo / "config" / name).read_text()), schema_path)


def test_empty_config_gets_the_default_study(schema_path, default_config):
    config = {}
    validate(config, schema_path)
    assert config == default_config


def _with(config, path, value):
    config = copy.deepcopy(config)
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return config


@pytest.mark.parametrize(
    "path, value, expected",
    [
        (("probe", "activations"), ["relu", "swish"], "probe.activations[1] = 'swish' is not allowed; expected one of relu, tanh"),
        (("inits",), ["he", "glorot"], "inits[1] = 'glorot' is not allowed; expected one of default, zeros"),
        (("training", "optimizers"), {"rmsprop": 0.1}, "unknown key(s) 'rmsprop' in training.optimizers; allowed: only the keys adam, sgd"),
        (("training", "depths"), [2, 0], "training.depths[1] = 0 is not allowed; expected a number >= 1"),
        (("probe", "width"), 0, "probe.width = 0 is not allowed; expected a number >= 1"),
        (("training", "optimizers", "sgd"), 0, "training.optimizers.sgd = 0 is not allowed; expected a number > 0"),
        (("training", "optimizers", "adam"), -0.01, "training.optimizers.adam = -0.01 is not allowed; expected a number > 0"),
        (("training", "steps"), 0, "training.steps = 0 is not allowed; expected a number >= 1"),
        (("seeds",), [0, 1.5], "seeds[1] = 1.5 is not allowed; expected a value of type integer"),
        (("seeds",), ["a"], "seeds[0] = 'a' is not allowed; expected a value of type integer"),
        (("seeds",), [], "seeds = [] is not allowed; expected a list of at least 1 item(s)"),
        (("training", "activations"), [], "training.activations = [] is not allowed; expected a list of at least 1 item(s)"),
        (("seeds",), [1, 1], "seeds = [1, 1] is not allowed; expected a list without repeated items"),
        (("seed_block_size",), 0, "seed_block_size = 0 is not allowed; expected a number >= 1"),
        (("dataset", "test_size"), 1.0, "dataset.test_size = 1.0 is not allowed; expected a number < 1"),
    ],
)
def test_bad_values_are_named_with_what_is_allowed(schema_path, default_config, path, value, expected):
    assert expected in _error(_with(default_config, path, value), schema_path)


def test_list_from_command_line_gets_a_hint(schema_path, default_config):
    # `snakemake --config seeds=[0,1]` hands the workflow ['0', '1']
    message = _error(_with(default_config, ("seeds",), ["0", "1"]), schema_path)
    assert "seeds[0] = '0' is not allowed; expected a value of type integer" in message
    assert "put lists in a --configfile" in message


def test_unknown_top_level_key(schema_path, default_config):
    message = _error(_with(default_config, ("sedes",), [1]), schema_path)
    assert "unknown key(s) 'sedes' in (top level)" in message and "seeds" in message


def _snakemake(repo, tmp_path, config_text):
    config = tmp_path / "bad.yaml"
    config.write_text(config_text)
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", str(config),
         "--directory", str(tmp_path), "--snakefile", str(repo / "Snakefile")],
        capture_output=True, text=True, timeout=120,
    )


def test_workflow_stops_before_any_job_on_a_bad_value(repo, tmp_path):
    run = _snakemake(repo, tmp_path, "training:\n  activations: [relu, swish]\n")
    assert run.returncode != 0
    assert "invalid config: training.activations[1] = 'swish' is not allowed; expected one of" in run.stderr
    assert not (tmp_path / "results").exists()


def test_workflow_stops_on_malformed_yaml(repo, tmp_path):
    run = _snakemake(repo, tmp_path, "seeds: [0, 1\ntraining: {\n")
    assert run.returncode != 0
    # Snakemake reads --configfile before the workflow's code runs, so this message is its own.
    assert "Config file is not valid JSON or YAML" in run.stderr
    assert not (tmp_path / "results").exists()
