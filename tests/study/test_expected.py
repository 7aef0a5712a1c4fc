"""The rows a config promises: the job axes, each table's keys, and agreement with the engine."""

from __future__ import annotations

from initlab.study.expected import expected_keys, job_columns, job_keys, jobs

CONFIG = {
    "seeds": [0, 1, 12],
    "seed_block_size": 10,
    "inits": ["he", "zeros", "lsuv"],
    "custom_inits": {},
    "probe": {"activations": ["relu", "tanh"], "depths": [2, 5], "width": 8},
    "training": {
        "activations": ["relu"],
        "depths": [2, 4],
        "width": 16,
        "optimizers": {"adam": 0.01, "sgd": 0.1},
        "steps": 10,
        "curve_stride": 4,
    },
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


def test_lists_multiply_the_keys():
    listed = {
        **CONFIG,
        "probe": {**CONFIG["probe"], "width": [8, 32]},
        "training": {**CONFIG["training"], "width": [16, 64], "optimizers": {"adam": [0.001, 0.01]}},
    }
    assert len(expected_keys("training", listed)) == 2 * len(expected_keys("training", CONFIG))
    assert len(expected_keys("signal_probe", listed)) == 2 * len(expected_keys("signal_probe", CONFIG))


def test_custom_inits_run_when_inits_lists_them():
    # The jobs run exactly config["inits"]; a defined but unlisted custom init promises no rows.
    custom = {"mine": {"kind": "normal", "std": 0.05}}
    inits = {k[-1] for k in expected_keys("training", CONFIG | {"custom_inits": custom})}
    assert inits == {"he", "zeros", "lsuv"}
    listed = {k[-1] for k in expected_keys("training", CONFIG | {"custom_inits": custom, "inits": ["he", "mine"]})}
    assert listed == {"he", "mine"}


def test_a_row_is_blamed_on_the_job_of_its_cell_columns():
    assert job_columns("signal_probe") == ["activation", "width"]
    assert job_columns("curves") == ["depth", "width", "activation", "optimizer", "lr"]
    assert job_columns("ablation")[-2:] == ["init_a", "init_b"]
    assert job_columns("lab_reproduction") == []


def test_curve_keys_are_the_trainers_curve_steps(moons):
    from initlab.engine.train import train_cell

    config = CONFIG | {
        "seeds": [0],
        "inits": ["he"],
        "training": CONFIG["training"] | {"depths": [1], "optimizers": {"sgd": 0.1}},
    }
    [job] = jobs("curves", config)
    rows, curves = train_cell(moons, job.cell, job.inits, job.seeds)
    assert [c["step"] for c in curves] == [0, 4, 8, 10] == [int(k[-1]) for k in job_keys(job, "curves")]
    assert len(rows) == len(job_keys(job, "training")) == 1


def test_lab_reproduction_keys_are_the_lessons_tables():
    keys = expected_keys("lab_reproduction", CONFIG)
    assert {k[0] for k in keys} == {"lab1", "lab2"}
    assert ("lab2", "xavier", "val_acc") in keys or any(k[:2] == ("lab2", "xavier") for k in keys)


ABLATION = {
    "init_a": "xavier",
    "init_b": "he",
    "activation": "tanh",
    "depth": 2,
    "width": 16,
    "optimizer": "adam",
    "lr": 0.01,
    "steps": 3,
}


def test_ablation_keys_follow_the_config():
    config = dict(CONFIG, ablations=[ABLATION, dict(ABLATION, depth=3)])
    assert len(jobs("ablation", config)) == 2 * 2  # ablations x seed blocks (0-1, 12)
    assert len(expected_keys("ablation", config)) == 3 * (2 + 3) + 3 * (3 + 3)  # seeds x variants
    assert expected_keys("ablation", dict(CONFIG, ablations=[])) == []


def test_ablation_keys_are_the_rows_the_engine_writes(moons):
    from initlab.engine.ablation import ablate_cell
    from initlab.study.expected import key_of
    from initlab.study.tables import TABLE

    job = jobs("ablation", dict(CONFIG, ablations=[ABLATION]))[0]
    rows = ablate_cell(moons, job.cell, job.seeds)
    written = [key_of(r, TABLE["ablation"].keys) for r in rows]
    assert sorted(written) == sorted(job_keys(job, "ablation"))
