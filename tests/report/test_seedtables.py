"""Per-seed numbers at any seed count: a summary that leads with what a reader compares, and a
complete detail table that grows down (one row per seed), never across."""

from __future__ import annotations

import numpy as np

import tests.synthetic as syn
from initlab.report import answers, seedtables


def _lesson_runs(seeds) -> object:
    training = syn.training_table(seeds=seeds, depths=(2,), activations=("relu",), optimizers=("adam",))
    return answers.select_runs(training, answers.LESSON_ACTIVATION, answers.LESSON_OPTIMIZER)


def test_summary_leads_with_mean_and_ci_and_does_not_grow_with_seeds():
    small, big = (
        seedtables.seed_summary(_lesson_runs(range(3)), "end_loss"),
        seedtables.seed_summary(_lesson_runs(range(100)), "end_loss"),
    )
    assert list(small.columns) == list(big.columns)
    assert list(big.columns[:4]) == ["init", "mean", "ci_low", "ci_high"]
    assert list(big["init"]) == answers.init_order(syn.INITS)
    assert (big["seeds"] == 100).all()
    assert (big["ci_low"] <= big["mean"]).all() and (big["mean"] <= big["ci_high"]).all()


def test_seeds_best_counts_the_per_seed_winner_and_flips_with_the_data():
    runs = _lesson_runs(range(10))
    # he is best in the lesson-like world; make xavier best in seeds 0-6 instead
    flipped = syn.set_runs(runs, {"init": "xavier"}, end_loss=0.001)
    flipped.loc[(flipped["init"] == "xavier") & (flipped["seed"] >= 7), "end_loss"] = 0.9
    before = seedtables.seed_summary(runs, "end_loss").set_index("init")["seeds_best"]
    after = seedtables.seed_summary(flipped, "end_loss").set_index("init")["seeds_best"]
    assert before.sum() == 10 and after.sum() == 10
    assert after["xavier"] == 7 and before["xavier"] < 7


def test_detail_table_has_every_value_with_seeds_down_the_rows():
    runs = _lesson_runs(range(100))
    detail = seedtables.seed_detail(runs, "end_loss")
    assert len(detail) == 100 and list(detail["seed"]) == list(range(100))
    assert list(detail.columns) == ["seed", *answers.init_order(syn.INITS)]
    long = detail.melt(id_vars="seed", var_name="init", value_name="end_loss")
    merged = long.merge(runs[["seed", "init", "end_loss"]], on=["seed", "init"], suffixes=("", "_run"))
    assert len(merged) == len(runs)
    assert np.allclose(merged["end_loss"], merged["end_loss_run"], equal_nan=True)
