"""Config validation: the schema fills defaults, agrees with the library's registries, and a bad
config stops the workflow before any job runs with one line naming key, value and what is allowed."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from initlab.engine.activations import ACTIVATIONS
from initlab.engine.inits import INITS
from initlab.engine.initspec import KINDS
from initlab.engine.train import OPTIMIZERS
from initlab.study.configcheck import check_study, explain_validation_error
from tests.harness import run_config_text


def _error(config, schema_path) -> str:
    with pytest.raises(WorkflowError) as err:
        validate(config, schema_path)
    return explain_validation_error(err.value)


def test_schema_names_are_the_library_registries(schema_path):
    schema = yaml.safe_load(Path(schema_path).read_text())
    props = schema["properties"]
    assert set(props["inits"]["default"]) == set(INITS)  # names are checked by check_study (custom_inits)
    assert set(props["custom_inits"]["additionalProperties"]["properties"]["kind"]["enum"]) == {
        k for k, kind in KINDS.items() if kind.configurable
    }
    for section in ("probe", "training"):
        assert set(props[section]["properties"]["activations"]["items"]["enum"]) == set(ACTIVATIONS)
    assert set(props["training"]["properties"]["optimizers"]["properties"]) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", ["config.yaml", "quick.yaml", "sweep.yaml"])
def test_shipped_configs_validate(repo, schema_path, name):
    config = yaml.safe_load((repo / "config" / name).read_text())
    validate(config, schema_path)
    check_study(config)


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
        (
            ("probe", "activations"),
            ["relu", "swish"],
            "probe.activations[1] = 'swish' is not allowed; expected one of relu, tanh",
        ),
        (
            ("training", "optimizers"),
            {"rmsprop": 0.1},
            "unknown key(s) 'rmsprop' in training.optimizers; allowed: only the keys adam, sgd",
        ),
        (("training", "depths"), [2, 0], "training.depths[1] = 0 is not allowed; expected a number >= 1"),
        (("probe", "width"), 0, "probe.width = 0 is not allowed; expected a number >= 1"),
        (("training", "optimizers", "sgd"), 0, "training.optimizers.sgd = 0 is not allowed; expected a number > 0"),
        (
            ("training", "optimizers", "adam"),
            -0.01,
            "training.optimizers.adam = -0.01 is not allowed; expected a number > 0",
        ),
        (
            ("training", "optimizers", "adam"),
            [0.01, 0],
            "training.optimizers.adam[1] = 0 is not allowed; expected a number > 0",
        ),
        (
            ("training", "optimizers", "adam"),
            [],
            "training.optimizers.adam = [] is not allowed; expected a list of at least 1",
        ),
        (
            ("training", "optimizers", "sgd"),
            [0.1, 0.1],
            "training.optimizers.sgd = [0.1, 0.1] is not allowed; expected a list without repeated",
        ),
        (
            ("training", "optimizers", "sgd"),
            "fast",
            "training.optimizers.sgd = 'fast' is not allowed; expected a value of type number or array",
        ),
        (("training", "width"), [16, 0], "training.width[1] = 0 is not allowed; expected a number >= 1"),
        (("probe", "width"), [], "probe.width = [] is not allowed; expected a list of at least 1"),
        (("probe", "width"), 12.5, "probe.width = 12.5 is not allowed; expected a value of type integer or array"),
        (
            ("custom_inits",),
            {"mine": {"kind": "cauchy"}},
            "custom_inits.mine.kind = 'cauchy' is not allowed; expected one of normal, uniform",
        ),
        (("training", "steps"), 0, "training.steps = 0 is not allowed; expected a number >= 1"),
        (("seeds",), [0, 1.5], "seeds[1] = 1.5 is not allowed; expected a value of type integer"),
        (("seeds",), ["a"], "seeds[0] = 'a' is not allowed; expected a value of type integer"),
        (("seeds",), [], "seeds = [] is not allowed; expected a list of at least 1 item(s)"),
        (
            ("training", "activations"),
            [],
            "training.activations = [] is not allowed; expected a list of at least 1 item(s)",
        ),
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


@pytest.mark.slow
def test_workflow_stops_before_any_job_on_a_bad_value(tmp_path):
    run = run_config_text(tmp_path, "training:\n  activations: [relu, swish]\n")
    assert run.returncode != 0
    assert "invalid config: training.activations[1] = 'swish' is not allowed; expected one of" in run.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_workflow_stops_on_malformed_yaml(tmp_path):
    run = run_config_text(tmp_path, "seeds: [0, 1\ntraining: {\n")
    assert run.returncode != 0
    # Snakemake reads --configfile before the workflow's code runs, so this message is its own.
    assert "Config file is not valid JSON or YAML" in run.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "path, value",
    [
        (("training", "optimizers"), {"adam": [0.001, 0.01, 0.1], "sgd": 0.1}),
        (("training", "optimizers"), {"adam": 0.01, "sgd": [0.1]}),
        (("training", "width"), [16, 64, 256]),
        (("training", "width"), 32),
        (("probe", "width"), [16, 512]),
        (
            ("custom_inits",),
            {"n005": {"kind": "normal", "std": 0.05}, "he07": {"kind": "scaled", "base": "he", "factor": 0.7}},
        ),
    ],
)
def test_new_keys_accept_scalar_and_list_forms(schema_path, default_config, path, value):
    config = _with(default_config, path, value)
    validate(config, schema_path)
    check_study(config)


@pytest.mark.parametrize(
    "custom, inits, expected",
    [
        ({}, ["he", "glorot"], "invalid config: inits[1] = 'glorot' is not allowed; expected one of default, zeros"),
        (
            {"n005": {"kind": "normal", "std": 0.05}},
            ["he", "n01"],
            "inits[1] = 'n01' is not allowed; expected one of default",
        ),
        (
            {"tiny": {"kind": "normal", "std": 0.05}},
            ["he"],
            "invalid config: custom_inits.tiny: the name 'tiny' is a built-in init",
        ),
        (
            {"x": {"kind": "normal", "std": 0}},
            ["x"],
            "invalid config: custom_inits.x.std = 0 is not allowed; expected a number > 0",
        ),
        (
            {"x": {"kind": "scaled", "base": "he", "factor": -1}},
            ["x"],
            "custom_inits.x.factor = -1 is not allowed; expected a number > 0",
        ),
        ({"x": {"kind": "cauchy"}}, ["x"], "invalid config: custom_inits.x.kind = 'cauchy' is not allowed"),
    ],
)
def test_init_names_and_custom_inits_are_checked_after_the_schema(schema_path, default_config, custom, inits, expected):
    config = default_config | {"custom_inits": custom, "inits": inits}
    with pytest.raises(ValueError) as err:
        check_study(config)
    assert expected in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
def test_workflow_refuses_a_custom_init_before_any_job(tmp_path):
    run = run_config_text(tmp_path, "custom_inits:\n  large: {kind: normal, std: 2}\ninits: [he, large]\n")
    assert run.returncode != 0
    assert "invalid config: custom_inits.large: the name 'large' is a built-in init; choose another name" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "results").exists()


def test_an_ablation_init_must_be_known():
    from initlab.study.configcheck import check_study

    config = {"inits": ["he"], "custom_inits": {}, "ablations": [{"init_a": "he", "init_b": "glorot"}]}
    with pytest.raises(
        ValueError, match=r"^invalid config: ablations\[0\]\.init_b = 'glorot' is not allowed; expected one of "
    ):
        check_study(config)
    custom = {"mine": {"kind": "normal", "std": 0.05}}
    check_study({"inits": ["he"], "custom_inits": custom, "ablations": [{"init_a": "he", "init_b": "mine"}]})
