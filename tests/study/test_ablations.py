"""The ``ablations`` config: schema defaults, one-line errors, job names, the config line the report quotes."""

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from initlab.engine.cells import AblationCell
from initlab.study.ablations import ABLATION_FIELDS, check_ablations, config_line
from initlab.study.axes import ablation_name
from initlab.study.configcheck import explain_validation_error
from tests.harness import run_config_text

XAVIER_HE = {"init_a": "xavier", "init_b": "he", "activation": "tanh", "depth": 2}


def _validated(schema_path, config):
    validate(config, schema_path)
    return config


def test_default_covers_exercise_2s_cell(schema_path):
    entries = _validated(schema_path, {})["ablations"]
    assert {**XAVIER_HE, "width": 64, "optimizer": "adam", "lr": 0.01, "steps": 120} in entries


def test_an_entry_gets_the_lessons_net_by_default(schema_path):
    (entry,) = _validated(schema_path, {"ablations": [dict(XAVIER_HE, depth=4)]})["ablations"]
    assert entry == {**XAVIER_HE, "depth": 4, "width": 64, "optimizer": "adam", "lr": 0.01, "steps": 120}
    assert ablation_name(entry) == "tanh_adam_lr0.01_depth4_width64_steps120_xavier_vs_he"


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"activation": "swish"}, "ablations[0].activation = 'swish' is not allowed; expected one of relu"),
        ({"depth": 0}, "ablations[0].depth = 0 is not allowed; expected a number >= 1"),
        ({"lr": 0}, "ablations[0].lr = 0 is not allowed; expected a number > 0"),
        ({"optimizer": "rmsprop"}, "ablations[0].optimizer = 'rmsprop' is not allowed; expected one of adam, sgd"),
        ({"layers": 2}, "unknown key(s) 'layers' in ablations[0]"),
    ],
)
def test_bad_entries_are_named(schema_path, change, expected):
    with pytest.raises(WorkflowError) as err:
        validate({"ablations": [{**XAVIER_HE, **change}]}, schema_path)
    assert expected in explain_validation_error(err.value)


def test_an_unknown_init_is_named_before_any_job(schema_path):
    # Init names are checked after the schema (they may be custom inits): initlab.study.configcheck.
    from initlab.study.configcheck import check_study

    config = _validated(schema_path, {"ablations": [{**XAVIER_HE, "init_b": "glorot"}]})
    with pytest.raises(
        ValueError, match=r"ablations\[0\]\.init_b = 'glorot' is not allowed; expected one of default, zeros"
    ):
        check_study(config)


def test_a_missing_key_is_named(schema_path):
    with pytest.raises(WorkflowError) as err:
        validate({"ablations": [{"init_a": "xavier", "init_b": "he", "activation": "tanh"}]}, schema_path)
    assert "expected an entry with the keys init_a, init_b, activation, depth" in explain_validation_error(err.value)


def test_same_init_twice_and_repeated_entries_are_refused(schema_path):
    with pytest.raises(ValueError, match=r"ablations\[0\].init_b = 'he' is not allowed; expected an init other"):
        check_ablations(_validated(schema_path, {"ablations": [dict(XAVIER_HE, init_a="he")]})["ablations"])
    with pytest.raises(ValueError, match=r"ablations\[1\] = .* \(it repeats ablations\[0\]\)"):
        check_ablations(_validated(schema_path, {"ablations": [XAVIER_HE, dict(XAVIER_HE, steps=120)]})["ablations"])


def test_the_config_line_the_report_quotes_configures_that_ablation(schema_path):
    entry = {**XAVIER_HE, "width": 64, "optimizer": "sgd", "lr": 0.1, "steps": 120}
    line = config_line(entry)
    config = yaml.safe_load("ablations:\n" + line + "\n")
    assert _validated(schema_path, config)["ablations"] == [entry]


@pytest.mark.slow
def test_workflow_stops_before_any_job_when_a_equals_b(tmp_path):
    run = run_config_text(tmp_path, "ablations:\n  - {init_a: he, init_b: he, activation: relu, depth: 2}\n")
    assert run.returncode != 0
    assert "invalid config: ablations[0].init_b = 'he' is not allowed; expected an init other than init_a" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "results").exists()


def test_the_config_line_names_every_field_of_the_cell():
    assert sorted(ABLATION_FIELDS) == sorted(AblationCell.ROW_FIELDS)
