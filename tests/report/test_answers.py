"""Every answer on a lesson-like world and on a world where the true answer differs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import tests.synthetic as syn
from initlab.report import answers
from initlab.report.answers import runs

NO_ZEROS = ("default", "tiny", "large", "xavier", "he")


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def test_load_tables_keeps_printed_values_and_flags(tmp_path):
    tables = answers.load_tables(syn.write_tables(tmp_path / "t"))
    lab = tables.lab_reproduction
    assert lab.loc[(lab["row"] == "large") & (lab["metric"] == "start_loss"), "lesson_value"].item() == "20.040"
    assert tables.training["diverged"].dtype == bool and tables.lab_reproduction["matches"].dtype == bool
    assert tables.training["diverged"].any()
    assert tables.timings is not None


def test_load_tables_optional_timings_and_clear_errors(tmp_path):
    directory = syn.write_tables(tmp_path / "t", with_timings=False)
    assert answers.load_tables(directory).timings is None
    pd.read_csv(directory / "training.csv").drop(columns=["val_acc"]).to_csv(directory / "training.csv", index=False)
    with pytest.raises(ValueError, match="val_acc"):
        answers.load_tables(directory)
    (directory / "curves.csv").unlink()
    with pytest.raises(FileNotFoundError, match="curves.csv"):
        answers.load_tables(directory)


# --------------------------------------------------------------------------
# Exercise 1
# --------------------------------------------------------------------------


def test_majority_depth_is_where_most_seeds_have_failed():
    assert answers.majority_depth(pd.Series([4.0, 8.0, math.inf])) == 8.0
    assert answers.majority_depth(pd.Series([4.0, math.inf])) == math.inf
    assert answers.majority_depth(pd.Series([2.0])) == 2.0


def test_exercise_1_lesson_like_tiny_and_large_fail_first_then_xavier():
    answer = answers.exercise_1(syn.signal_probe_table(inits=NO_ZEROS))
    assert answer.verdict.startswith(
        "ReLU: tiny and large at 4; of those healthy at 8, Xavier at 20 | "
        "Tanh: large at 2; of those healthy at 8, He at"
    )
    assert "ReLU: tiny and large fail first, at depth 4" in answer.sentence
    assert "tiny: vanished" in answer.sentence and "large: exploded" in answer.sentence
    assert "Xavier fails first on the way to 20, at depth 20" in answer.sentence
    assert "Tanh: large fails first, at depth 2" in answer.sentence
    assert (answer.seeds_agreeing, answer.seeds_total) == (3, 3)


def test_exercise_1_says_depth_20_is_untested_when_the_probe_stops_short_of_it():
    full = syn.signal_probe_table(inits=NO_ZEROS)
    short = full[full["depth"] <= 8]
    answer = answers.exercise_1(short)
    assert "first to fail by 20: not tested with ReLU and Tanh (the probe stops at depth 8)" in answer.summary
    assert "depth 20 not probed" in answer.verdict and "none more by depth 20" not in answer.verdict
    assert "is not tested" in answer.sentence
    # with depth 20 probed, the same inits give the exercise's answer
    assert "not tested" not in answers.exercise_1(full).summary


def test_exercise_1_flipped_he_fails_first_and_default_on_the_way_to_20():
    failures = {
        ("relu", "he"): (2, "exploded"),
        ("relu", "default"): (12, "vanished"),
        ("tanh", "he"): (2, "saturated"),
    }
    answer = answers.exercise_1(syn.signal_probe_table(inits=NO_ZEROS, failures=failures))
    assert answer.verdict == (
        "ReLU: He at 2; of those healthy at 8, PyTorch default at 12 | Tanh: He at 2; none more by depth 20"
    )
    assert "ReLU: He fails first, at depth 2 (He: exploded" in answer.sentence
    assert "default fails first on the way to 20, at depth 12" in answer.sentence
    assert "tiny" not in answer.verdict


def test_exercise_1_counts_the_seeds_that_disagree():
    probe = syn.signal_probe_table(inits=NO_ZEROS, seed_failures={("relu", "xavier", 2): None})
    answer = answers.exercise_1(probe)
    assert "Xavier fails first on the way to 20, at depth 20" in answer.sentence
    assert "first in 2/3 seeds" in answer.sentence
    assert (answer.seeds_agreeing, answer.seeds_total) == (2, 3)


def test_exercise_1_failure_modes():
    probe = syn.signal_probe_table(
        seeds=[0],
        activations=["relu"],
        inits=["he", "xavier"],
        failures={("relu", "xavier"): (8, "non-finite"), ("relu", "he"): (2, "saturated")},
    )
    summary = answers.exercise_1(probe).numbers.set_index("init")
    assert summary.loc["xavier", "failure"] == "non-finite" and summary.loc["xavier", "failure_depth"] == 8
    # |x| > 0.98 is not saturation for an unbounded activation: He+ReLU stays healthy
    assert summary.loc["he", "failure_depth"] == math.inf


def test_exercise_1_catches_a_backward_signal_the_forward_statistics_miss():
    healthy = syn.signal_probe_table(seeds=[0, 1], activations=["sigmoid"], inits=["xavier", "he"], failures={})
    flipped = syn.signal_probe_table(
        seeds=[0, 1],
        activations=["sigmoid"],
        inits=["xavier", "he"],
        failures={("sigmoid", "xavier"): (8, "gradient vanished")},
    )
    assert answers.exercise_1(healthy).numbers.set_index("init").loc["xavier", "failure_depth"] == math.inf
    summary = answers.exercise_1(flipped).numbers.set_index("init")
    assert summary.loc["xavier", "failure"] == "gradient vanished" and summary.loc["xavier", "failure_depth"] == 8
    assert summary.loc["he", "failure_depth"] == math.inf


# --------------------------------------------------------------------------
# Exercise 2
# --------------------------------------------------------------------------


def test_exercise_2_lesson_like_xavier_becomes_more_competitive_under_tanh():
    answer = answers.exercise_2(syn.training_table())
    assert answer.verdict == "yes"
    assert answer.sentence.startswith("Yes:")
    assert "closer to the best with Tanh in 3/3 seeds" in answer.sentence
    assert "share of seeds where Xavier beats He: 0% → 100%" in answer.sentence
    assert (answer.seeds_agreeing, answer.seeds_total) == (3, 3)
    lesson = answer.numbers.set_index("depth").loc[2]
    assert lesson["rank_tanh"] == "1/6" and lesson["best_tanh"] == "xavier"
    assert answer.summary.endswith("; best: Xavier).")


def test_exercise_2_flipped_xavier_less_competitive_under_tanh():
    training = syn.set_runs(syn.training_table(), {"activation": "tanh", "init": "xavier"}, end_loss=0.2)
    answer = answers.exercise_2(training)
    assert answer.verdict == "no"
    assert answer.sentence.startswith("No:")
    assert "closer to the best with Tanh in 0/3 seeds" in answer.sentence
    assert (answer.seeds_agreeing, answer.seeds_total) == (3, 3)
    assert "; best: Xavier)" not in answer.summary  # the best with Tanh is another init now


def test_exercise_2_without_tanh_says_so():
    training = syn.training_table(activations=("relu",))
    answer = answers.exercise_2(training)
    assert answer.verdict == "not answerable from these tables"
    assert "tanh" in answer.sentence


# --------------------------------------------------------------------------
# Exercise 3
# --------------------------------------------------------------------------


def test_exercise_3_lesson_like_large_becomes_fragile():
    answer = answers.exercise_3(syn.training_table())
    assert answer.verdict == "large"
    assert "failure rate 0% → 100% (diverged in 3/3 seeds)" in answer.sentence
    assert (answer.seeds_agreeing, answer.seeds_total) == (3, 3)
    zeros = answer.numbers.set_index(["activation", "init"]).loc[("relu", "zeros")]
    assert zeros["fail_rate_increase"] == 0  # stuck under both: a bad start, not SGD fragility


def test_exercise_3_flipped_tiny_becomes_fragile_instead_of_large():
    training = syn.set_runs(
        syn.training_table(), {"optimizer": "sgd", "init": "large"}, diverged=False, end_loss=0.1, val_acc=0.97
    )
    training = syn.set_runs(training, {"optimizer": "sgd", "init": "tiny"}, end_loss=0.6, val_acc=0.7)
    answer = answers.exercise_3(training)
    assert answer.verdict == "tiny"
    assert "no clear improvement in 3/3 seeds" in answer.sentence
    assert "large" not in answer.sentence


def test_exercise_3_when_nothing_fails_more_it_names_the_end_loss_degradation():
    training = syn.set_runs(
        syn.training_table(), {"optimizer": "sgd", "init": "large"}, diverged=False, end_loss=0.5, val_acc=0.97
    )
    answer = answers.exercise_3(training)
    assert answer.verdict == "none by failure rate; large by end loss"
    assert answer.sentence.startswith("No init fails more often with SGD than with Adam")


# --------------------------------------------------------------------------
# Next probe
# --------------------------------------------------------------------------


def test_next_probe_lesson_like_tiny_becomes_fragile_with_depth():
    answer = answers.next_probe(syn.training_table())
    assert answer.verdict == "tiny (from depth 8)"
    assert "zeros" not in answer.verdict  # stuck at every depth: excluded as a bad start
    rise = answer.numbers.set_index("init")["rise"]
    assert rise["tiny"] == 1.0 and rise["large"] == 1.0 and rise["he"] == 0.0
    assert (answer.seeds_agreeing, answer.seeds_total) == (3, 3)


def test_next_probe_with_one_depth_says_it_cannot_compare_depths():
    training = syn.training_table()
    answer = answers.next_probe(training[training["depth"] == 2])
    assert answer.verdict == "not answerable from these tables"
    assert "one depth (2); it needs two or more" in answer.summary


def test_next_probe_flipped_he_becomes_fragile_first():
    training = syn.training_table()
    deep = training["depth"] >= 8
    training.loc[deep & (training["init"] == "tiny"), ["end_loss", "val_acc"]] = [0.05, 0.97]
    he_deep = (training["depth"] >= 4) & (training["init"] == "he") & (training["optimizer"] == "adam")
    training.loc[he_deep, ["end_loss", "val_acc", "diverged"]] = [np.nan, np.nan, True]
    answer = answers.next_probe(training)
    assert answer.verdict == "He (from depth 4)"
    assert "tiny" not in answer.sentence


def test_next_probe_without_majority_failure_names_the_largest_rise():
    training = syn.training_table()
    training.loc[training["init"] == "tiny", ["end_loss", "val_acc"]] = [0.05, 0.97]
    training.loc[
        (training["init"] == "large") & (training["depth"] >= 16) & (training["seed"] > 0),
        ["end_loss", "val_acc", "diverged"],
    ] = [0.07, 0.97, False]
    answer = answers.next_probe(training)
    assert answer.verdict == "none in a majority; large rises most"
    assert "failing in 1/3 seeds at depth 16" in answer.sentence


# --------------------------------------------------------------------------
# Evidence to keep
# --------------------------------------------------------------------------


def test_evidence_lesson_like_record():
    items = {item.label: item for item in answers.evidence_to_keep(syn.training_table()).items}
    assert items["Bad Start"].inits == ("zeros",)
    assert items["Warning Start"].inits == ("large",)
    assert set(items["Usable Start"].inits) == {"default", "tiny", "xavier", "he"}
    assert "Tiny becomes fragile first" in items["Next Probe"].sentence


def test_evidence_flipped_record_follows_the_data():
    training = syn.set_runs(syn.training_table(), {"init": "large", "depth": 2}, diverged=True, end_loss=np.nan)
    training = syn.set_runs(training, {"init": "he", "depth": 2}, start_loss=5.0)
    training = syn.set_runs(training, {"init": "zeros", "depth": 2}, end_loss=0.05, val_acc=0.97)
    items = {item.label: item for item in answers.evidence_to_keep(training).items}
    assert items["Bad Start"].inits == ("large",)
    assert items["Warning Start"].inits == ("he",)
    assert "zeros" in items["Usable Start"].inits
    assert "diverged in 3/3 seeds" in items["Bad Start"].sentence


def test_failure_counts_say_out_of_how_many_seeds():
    assert runs.failure_counts(pd.Series(["diverged", "diverged", ""])) == "diverged in 2/3 seeds"
    assert runs.failure_counts(pd.Series(["diverged", "stuck", "diverged", "diverged"])) == (
        "diverged in 3/4 seeds, stuck in 1/4 seeds"
    )
    assert runs.failure_counts(pd.Series(["", ""])) == "—"


# --------------------------------------------------------------------------
# Lesson reproduction
# --------------------------------------------------------------------------


def test_lab_mismatches_are_sized_in_resolution_steps():
    reproduction = answers.lab_reproduction(syn.lab_reproduction_table())
    rows = reproduction.table.set_index(["row", "metric"])
    assert rows.loc[("xavier", "end_loss"), "steps_off"] == 1
    assert rows.loc[("xavier", "end_loss"), "resolution"] == pytest.approx(0.001)
    assert rows.loc[("xavier", "val_acc"), "steps_off"] == 1  # 0.980 vs 0.973 is one of 150 examples
    assert rows.loc[("xavier", "val_acc"), "difference"] == "one resolution step"
    assert rows.loc[("large", "start_loss"), "resolution"] == pytest.approx(0.001)  # "20.040" keeps its digits
    assert (reproduction.matched, reproduction.total) == (32, 34)
    assert reproduction.sentence.startswith("Lab 1: 16 of 16; Lab 2: 16 of 18. The 2 that differ are Lab 2's Xavier")
    assert "Each is one resolution step" in reproduction.sentence and "library build" in reproduction.sentence
    assert "validation accuracy (0.980 printed, 0.973 measured: one validation example)" in reproduction.sentence


def test_lab_real_difference_and_full_match_read_differently():
    real = answers.lab_reproduction(syn.lab_reproduction_table({("lab2", "he", "end_loss"): "0.100"}))
    assert "It is a real difference: the behaviour differs" in real.sentence and "library build" not in real.sentence
    assert "Lab 2's He end loss (0.053 printed, 0.100 measured: 47 units of the last printed digit)" in real.sentence
    drift = answers.lab_reproduction(syn.lab_reproduction_table({("lab2", "he", "val_acc"): "0.967"}))
    assert "It is a few steps: numeric drift" in drift.sentence and "measured: 2 validation examples)" in drift.sentence
    clean = answers.lab_reproduction(syn.lab_reproduction_table({}))
    assert clean.sentence.startswith("Every value matches the lesson")


# --------------------------------------------------------------------------
# One seed
# --------------------------------------------------------------------------


def test_single_seed_answers_do_not_crash():
    probe, training = syn.signal_probe_table(seeds=[0]), syn.training_table(seeds=[0])
    results = [
        answers.exercise_1(probe),
        answers.exercise_2(training),
        answers.exercise_3(training),
        answers.next_probe(training),
    ]
    assert all(r.seeds_total == 1 for r in results)
    assert [r.verdict for r in results[1:]] == ["yes", "large", "tiny (from depth 8)"]
    assert answers.evidence_to_keep(training).items[0].inits == ("zeros",)
