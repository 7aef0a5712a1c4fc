"""Impossible configs are refused before any job: non-finite numbers, jobs too big for their rule."""

from __future__ import annotations

import math

import pytest
import yaml

from initlab.engine.stacking import stack_size
from initlab.study.configlimits import (
    PROBE_BATCH,
    PROBE_IN_FEATURES,
    check_config,
    check_finite,
    nonfinite_values,
    probe_estimates,
    train_estimates,
)
from tests.harness import run_config_text

#: The rules' declared resources (workflow/rules/probe.smk, train.smk).
RESOURCES = {"probe": {"mem_mb": 1000, "runtime": 30}, "train": {"mem_mb": 1500, "runtime": 60}}


def test_shipped_configs_pass_with_room(repo, default_config):
    for name in ("config.yaml", "quick.yaml"):
        config = yaml.safe_load((repo / "config" / name).read_text())
        check_config(config, RESOURCES)
    # The default study's biggest jobs: measured 0.36 GB and under a minute (README, Performance).
    (train,) = train_estimates(default_config)
    assert 360 < train.mem_mb < RESOURCES["train"]["mem_mb"] / 2
    assert 1 < train.minutes < RESOURCES["train"]["runtime"] / 5


def test_probe_constants_are_the_engines():
    from initlab.engine.probe import BATCH_SIZE, IN_FEATURES

    assert (PROBE_BATCH, PROBE_IN_FEATURES) == (BATCH_SIZE, IN_FEATURES)


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda c: c["training"]["optimizers"].update(adam=math.nan),
            "invalid config: training.optimizers.adam = nan is not allowed; expected a finite number",
        ),
        (
            lambda c: c["training"]["optimizers"].update(sgd=math.inf),
            "invalid config: training.optimizers.sgd = inf is not allowed; expected a finite number",
        ),
        (
            lambda c: c["dataset"].update(noise=-math.inf),
            "invalid config: dataset.noise = -inf is not allowed; expected a finite number",
        ),
        (
            lambda c: c["probe"].update(depths=[2, math.nan]),
            "invalid config: probe.depths[1] = nan is not allowed; expected a finite number",
        ),
    ],
)
def test_nonfinite_numbers_anywhere(default_config, edit, message):
    config = yaml.safe_load(yaml.safe_dump(default_config))
    edit(config)
    with pytest.raises(ValueError) as err:
        check_finite(config)
    assert str(err.value) == message


def test_nonfinite_values_lists_every_one():
    assert nonfinite_values({"a": [1.0, math.inf], "b": {"c": math.nan, "d": 2}}).__len__() == 2


def test_too_wide_probe_is_refused_with_estimate_and_limit(default_config):
    config = yaml.safe_load(yaml.safe_dump(default_config))
    config["probe"]["width"] = 1_000_000
    with pytest.raises(ValueError) as err:
        check_config(config, RESOURCES)
    (estimate,) = probe_estimates(config)
    assert str(err.value) == (
        "invalid config: probe.width = 1000000 with probe.depths up to 50 is too large: "
        "a probe job would need about "
        f"{estimate.mem_mb:,.0f} MB of memory (estimated from width, depth, the 512-input batch and 110 networks per "
        "job), over the 1,000 MB its rule declares (resources.mem_mb); expected a smaller width or depth"
    )
    assert estimate.mem_mb > 1e8  # terabytes


def test_too_wide_training_is_refused(default_config):
    config = yaml.safe_load(yaml.safe_dump(default_config))
    config["training"]["width"] = 4096
    with pytest.raises(
        ValueError,
        match=r"^invalid config: training.width = 4096 with training.depths up to 16 and "
        r"training.steps = 120 is too large: a train job would need about [\d,]+ MB of "
        r"memory .* over the 1,500 MB its rule declares \(resources.mem_mb\)",
    ):
        check_config(config, RESOURCES)


def test_too_long_training_is_refused_on_time(default_config):
    config = yaml.safe_load(yaml.safe_dump(default_config))
    config["training"]["steps"] = 100_000
    (estimate,) = train_estimates(config)
    with pytest.raises(ValueError) as err:
        check_config(config, RESOURCES)
    assert str(err.value) == (
        "invalid config: training.width = 64 with training.depths up to 16 and training.steps = 100000 is too large: "
        f"a train job would take about {estimate.minutes:,.0f} min (estimated at 10 GFLOP/s from width, depth, 600 "
        f"samples, 100000 steps, {stack_size(16, 64, 450)} models per stack and 110 per job), "
        f"over the 60 min its rule declares "
        "(resources.runtime); expected a smaller width, depth, step count or seed_block_size"
    )
    # a thousand steps fit
    config["training"]["steps"] = 1_000
    check_config(config, RESOURCES)


def test_a_limit_scaled_by_attempt_is_not_checked(default_config):
    config = yaml.safe_load(yaml.safe_dump(default_config))
    config["probe"]["width"] = 1_000_000
    check_config(config, {"probe": {"mem_mb": lambda attempt: 1000 * attempt}})


@pytest.mark.slow
@pytest.mark.parametrize(
    "text, message",
    [
        (
            "training:\n  optimizers:\n    adam: .nan\n",
            "invalid config: training.optimizers.adam = nan is not allowed; expected a finite number",
        ),
        (
            "training:\n  optimizers:\n    adam: .inf\n",
            "invalid config: training.optimizers.adam = inf is not allowed; expected a finite number",
        ),
        (
            "probe:\n  width: 1000000\n",
            "invalid config: probe.width = 1000000 with probe.depths up to 50 is too large: "
            "a probe job would need about",
        ),
    ],
)
def test_workflow_refuses_before_any_job(tmp_path, text, message):
    """The rules' real declared resources are what the workflow checks against."""
    run = run_config_text(tmp_path, text)
    assert run.returncode != 0
    assert message in run.stderr
    assert not (tmp_path / "results").exists()
