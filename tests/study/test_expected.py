"""The rows a config promises: the job axes, each table's keys, and agreement with the engine."""

from __future__ import annotations

import pytest

from initlab.study.expected import (
    curve_steps,
    expected_keys,
    init_names,
    jobs,
    optimizer_lrs,
    probe_widths,
    training_widths,
)

CONFIG = {
    "seeds": [0, 1, 12],
    "seed_block_size": 10,
    "inits": ["he", "zeros", "lsuv"],
    "probe": {"activations": ["relu", "tanh"], "depths": [2, 5], "width": 8},
    "training": {"activations": ["relu"], "depths": [2, 4], "width": 16, "optimizers": {"adam": 0.01, "sgd": 0.1},
                 "steps": 10, "curve_stride": 4},
}


def test_table_sizes_follow_the_config():
    assert len(jobs("signal_probe", CONFIG)) == 2 * 2  # activations x seed blocks (0-1, 12)
    assert len(expected_keys("signal_probe", CONFIG)) == 3 * 3 * 2 * (2 + 5)
    assert len(jobs("training", CONFIG)) == 2 * 2 * 2
    assert len(expected_keys("training", CONFIG)) == 3 * 3 * 2 * 2
    assert len(expected_keys("curves", CONFIG)) == 3 * 3 * 2 * 2 * len([0, 4, 8, 10])
    for table in ("signal_probe", "training", "curves"):
        keys = expected_keys(table, CONFIG)
        assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("steps, stride", [(120, 5), (120, 7), (1, 1), (3, 5), (10, 10)])
def test_curve_steps_are_the_trainers(steps, stride):
    from initlab.engine.train import TrainSpec

    assert curve_steps(steps, stride) == TrainSpec(steps=steps, curve_stride=stride).curve_steps()


def test_axes_accept_scalars_and_lists():
    listed = {**CONFIG, "probe": {**CONFIG["probe"], "width": [8, 32]},
              "training": {**CONFIG["training"], "width": [16, 64], "optimizers": {"adam": [0.001, 0.01]}}}
    assert probe_widths(CONFIG) == [8] and probe_widths(listed) == [8, 32]
    assert training_widths(listed) == [16, 64]
    assert optimizer_lrs(CONFIG) == [("adam", 0.01), ("sgd", 0.1)]
    assert optimizer_lrs(listed) == [("adam", 0.001), ("adam", 0.01)]
    assert len(expected_keys("training", listed)) == 2 * len(expected_keys("training", CONFIG))
    assert len(expected_keys("signal_probe", listed)) == 2 * len(expected_keys("signal_probe", CONFIG))


def test_custom_inits_run_when_inits_lists_them():
    # The jobs run exactly config["inits"] (the workflow's INITS); a defined but unlisted custom
    # init promises no rows, a listed one does.
    custom = {"mine": {"kind": "normal", "std": 0.05}}
    assert init_names(CONFIG | {"custom_inits": custom}) == ["he", "zeros", "lsuv"]
    assert init_names(CONFIG | {"custom_inits": custom, "inits": ["he", "mine"]}) == ["he", "mine"]


def test_lab_reproduction_keys_are_the_lessons_tables():
    keys = expected_keys("lab_reproduction", CONFIG)
    assert {k[0] for k in keys} == {"lab1", "lab2"}
    assert ("lab2", "xavier", "val_acc") in keys or any(k[:2] == ("lab2", "xavier") for k in keys)


ABLATION = {"init_a": "xavier", "init_b": "he", "activation": "tanh", "depth": 2, "width": 16,
            "optimizer": "adam", "lr": 0.01, "steps": 3}


def test_ablation_keys_follow_the_config():
    config = dict(CONFIG, ablations=[ABLATION, dict(ABLATION, depth=3)])
    assert len(jobs("ablation", config)) == 2 * 2  # ablations x seed blocks (0-1, 12)
    assert len(expected_keys("ablation", config)) == 3 * (2 + 3) + 3 * (3 + 3)  # seeds x variants
    assert expected_keys("ablation", dict(CONFIG, ablations=[])) == []


def test_ablation_keys_are_the_rows_the_engine_writes(moons):
    from initlab.engine.ablation import ablate_cell
    from initlab.engine.train import TrainSpec
    from initlab.study.expected import ablation_job_keys
    from initlab.study.tables import ABLATION_KEYS, format_value

    spec = TrainSpec(depth=2, width=16, activation="tanh", optimizer="adam", lr=0.01, steps=3)
    rows = ablate_cell(moons, spec, "xavier", "he", [0, 1])
    written = [tuple(format_value(r[c]) for c in ABLATION_KEYS) for r in rows]
    assert sorted(written) == sorted(ablation_job_keys([0, 1], "tanh", "adam", 0.01, 2, 16, 3, "xavier", "he"))
