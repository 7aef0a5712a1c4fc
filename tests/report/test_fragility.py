"""The fragility map's table and sentences, computed from synthetic sweeps where they must flip."""

import math

from initlab.report.answers.fragility import (
    first_failure_table,
    fragility_cells,
    fragility_table,
    init_sentence,
    swept_cells,
)
from tests.synthetic import set_runs, sweep_training_table, training_table


def _cell(cells, activation, optimizer):
    return next(c for c in cells if (c.activation, c.optimizer) == (activation, optimizer))


def test_no_map_without_two_learning_rates():
    training = training_table()
    assert swept_cells(training) == []
    assert fragility_table(training).empty and fragility_cells(training) == []
    assert first_failure_table([]).empty


def test_map_counts_failures_per_init_and_lr_at_the_lesson_point():
    table = fragility_table(sweep_training_table())
    assert set(table["lr"][table["optimizer"] == "adam"]) == {0.001, 0.01, 0.1, 1.0}
    large = table[(table["activation"] == "relu") & (table["optimizer"] == "adam") & (table["init"] == "large")]
    assert list(large["failure_rate"]) == [0.0, 0.0, 1.0, 1.0]
    assert list(large["mode"]) == ["", "", "diverged", "diverged"]
    assert set(table["lesson_lr"][table["optimizer"] == "sgd"]) == {0.1}
    zeros = table[(table["init"] == "zeros")]
    assert (zeros["mode"] == "no clear improvement").all() and (zeros["failure_rate"] == 1.0).all()


def test_sentence_names_the_largest_training_lr_and_the_first_failure():
    cells = fragility_cells(sweep_training_table())
    adam = _cell(cells, "relu", "adam")
    assert adam.sentences["large"] == (
        "Large trains in every seed up to lr 0.01 and first fails at lr 0.1 (diverged in 3/3 seeds)."
    )
    assert adam.first_failure["large"] == 0.1
    assert adam.sentences["he"] == "He trains in every seed up to the largest learning rate tried, lr 1."
    assert math.isnan(adam.first_failure["he"])
    assert adam.sentences["zeros"].startswith(
        "Zeros fails at every learning rate tried, already at lr 0.001 (no clear improvement"
    )
    assert "depth 2, width 64, 120 steps; the lesson's lr 0.01" == adam.point
    assert _cell(cells, "relu", "sgd").first_failure["he"] == 1.0


def test_sentence_flips_when_the_data_flip():
    """He made to break at adam lr 0.01 in one seed: its sentence and first failure move down."""
    training = sweep_training_table()
    flipped = set_runs(
        training,
        {"optimizer": "adam", "init": "he", "lr": 0.01, "seed": 1, "activation": "relu"},
        end_loss=0.9,
        start_loss=0.92,
        val_acc=0.52,
    )
    he = _cell(fragility_cells(flipped), "relu", "adam")
    assert he.sentences["he"] == (
        "He trains in every seed up to lr 0.001 and first fails at lr 0.01 "
        "(no clear improvement in 1/3 seeds); it trains in every seed again at lr 0.1, lr 1."
    )
    assert he.first_failure["he"] == 0.01
    # large no longer breaks at all: it now trains at every lr
    calm = sweep_training_table(breaks={})
    assert (
        _cell(fragility_cells(calm), "relu", "adam")
        .sentences["large"]
        .startswith("Large trains in every seed up to the largest")
    )


def test_failure_below_the_largest_training_lr_is_reported():
    import pandas as pd

    curve = pd.DataFrame(
        {
            "lr": [0.001, 0.01, 0.1],
            "failure_rate": [1.0, 0.0, 0.0],
            "failing": [3, 0, 0],
            "seeds": [3, 3, 3],
            "mode": ["no clear improvement", "", ""],
        }
    )
    text, first = init_sentence("tiny", curve)
    assert text == (
        "Tiny trains in every seed from lr 0.01 up to the largest learning rate tried, lr 0.1; below that it "
        "fails at lr 0.001 (no clear improvement in 3/3 seeds)."
    )
    assert math.isnan(first)
    only = curve.assign(failure_rate=[1.0, 0.0, 1.0], failing=[3, 0, 2], mode=["no clear improvement", "", "diverged"])
    text, first = init_sentence("tiny", only)
    assert text == (
        "Tiny trains in every seed only at lr 0.01 and first fails at lr 0.1 (diverged in 2/3 seeds); "
        "below that it fails at lr 0.001 (no clear improvement in 3/3 seeds)."
    )
    assert first == 0.1


def test_first_failure_table_is_init_by_cell():
    table = first_failure_table(fragility_cells(sweep_training_table()))
    assert list(table.columns) == ["init", "relu adam", "relu sgd", "tanh adam", "tanh sgd"]
    row = table.set_index("init").loc["large"]
    assert row["relu adam"] == 0.1
    assert row["tanh sgd"] == 0.01  # the synthetic world: large diverges under SGD at every lr
