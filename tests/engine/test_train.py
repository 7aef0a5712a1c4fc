import math

import pytest
import torch

from initlab.engine.inits import INITS
from initlab.engine.train import TrainSpec, train_cell, train_one, train_stacked


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _assert_agree(lone, stacked):
    for a, b in zip(lone, stacked, strict=True):
        assert (a.init, a.seed) == (b.init, b.seed)
        for field in ("start_loss", "end_loss", "val_acc"):
            x, y = getattr(a, field), getattr(b, field)
            # The issue asks for 1e-5; the stacked trainer is written to agree to the bit.
            assert _same(x, y), (a.init, field, x, y)
        assert (a.diverged, a.diverged_step) == (b.diverged, b.diverged_step)
        assert all(_same(p[1], q[1]) for p, q in zip(a.curve, b.curve, strict=True))


@pytest.mark.parametrize("optimizer, lr", [("adam", 0.01), ("sgd", 0.1)])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_stacked_equals_one_at_a_time_for_every_init(moons, optimizer, lr, activation):
    spec = TrainSpec(depth=2, width=16, activation=activation, optimizer=optimizer, lr=lr, steps=40)
    runs = [(init, 5) for init in INITS]
    lone = [train_one(moons, spec, init, seed) for init, seed in runs]
    _assert_agree(lone, train_stacked(moons, spec, runs))


@pytest.mark.parametrize("activation", ["sigmoid", "leaky_relu", "gelu"])
def test_both_training_paths_equal_the_lone_loop(moons, activation):
    # sigmoid takes the hand-written pass (it has a grad_from_output), leaky_relu and gelu the
    # autograd one: both agree with the lesson's loop to the bit.
    spec = TrainSpec(depth=3, width=16, activation=activation, optimizer="adam", lr=0.01, steps=30)
    runs = [("he", 3), ("xavier", 3), ("large", 4)]
    _assert_agree([train_one(moons, spec, *r) for r in runs], train_stacked(moons, spec, runs))


def test_stacked_equals_one_at_a_time_when_deep(moons):
    # Depth is where Adam would amplify last-bit differences: still equal.
    spec = TrainSpec(depth=6, width=32, activation="relu", optimizer="adam", lr=0.01, steps=60)
    runs = [("he", 1), ("xavier", 1), ("default", 2)]
    _assert_agree([train_one(moons, spec, *r) for r in runs], train_stacked(moons, spec, runs))


def test_a_model_does_not_depend_on_its_stack_mates(moons):
    spec = TrainSpec(depth=3, width=16, steps=30)
    alone = train_stacked(moons, spec, [("he", 7)])
    crowd = train_stacked(moons, spec, [("large", 1), ("he", 7), ("zeros", 2)])
    _assert_agree(alone, crowd[1:2])


def test_divergence_is_recorded_and_isolated(moons):
    spec = TrainSpec(depth=3, width=32, activation="relu", optimizer="sgd", lr=1.0, steps=30)
    runs = [("large", 0), ("zeros", 0), ("he", 0)]
    results = train_stacked(moons, spec, runs)
    large = results[0]
    assert large.diverged and large.diverged_step is not None
    assert not math.isfinite(large.end_loss) and math.isnan(large.val_acc)
    assert not math.isfinite(large.curve[-1][1])
    assert all(math.isfinite(loss) for step, loss in large.curve if step < large.diverged_step)
    # the others train exactly as they would alone
    for result, run in zip(results[1:], runs[1:], strict=True):
        _assert_agree([train_one(moons, spec, *run)], [result])
        assert not result.diverged and result.diverged_step is None


def test_zeros_stays_stuck_at_chance(moons):
    r = train_one(moons, TrainSpec(steps=30), "zeros", 0)
    assert r.start_loss == pytest.approx(math.log(2), abs=1e-6)
    assert r.end_loss == pytest.approx(math.log(2), abs=1e-6)
    assert r.val_acc == pytest.approx(0.5)


def test_debug_probe_and_curve_stride(moons):
    spec = TrainSpec(steps=10, curve_stride=4)
    r = train_one(moons, spec, "large", 0)
    assert [s for s, _ in r.curve] == [0, 4, 8, 10]
    assert r.curve[0][1] == r.start_loss and r.curve[-1][1] == r.end_loss
    assert r.probe_all_finite and r.probe_out_std > 1.0  # large init: big outputs at the start


def test_results_are_a_function_of_the_configuration(moons):
    spec = TrainSpec(steps=20)
    first = train_one(moons, spec, "orthogonal", 4)
    torch.manual_seed(99)
    torch.randn(1000)
    train_one(moons, TrainSpec(steps=5, activation="tanh"), "he", 1)
    again = train_one(moons, spec, "orthogonal", 4)
    assert first == again


def test_train_cell_rows(moons):
    spec = TrainSpec(depth=2, width=8, steps=6, curve_stride=3)
    rows, curves = train_cell(moons, spec, ["he", "zeros"], [0, 1])
    assert len(rows) == 4 and len(curves) == 4 * 3
    assert {(r["init"], r["seed"]) for r in rows} == {("he", 0), ("zeros", 0), ("he", 1), ("zeros", 1)}
    assert rows[0]["optimizer"] == "adam" and rows[0]["steps"] == 6


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(depth=0), "depth"),
        (dict(width=0), "width"),
        (dict(steps=0), "steps"),
        (dict(lr=-0.1), "lr"),
        (dict(lr=0), "lr"),
        (dict(lr=float("nan")), "lr"),
        (dict(curve_stride=0), "curve_stride"),
        (dict(optimizer="rmsprop"), "optimizer 'rmsprop'; valid optimizers: adam, sgd"),
        (dict(activation="swish"), "activation 'swish'"),
    ],
)
def test_bad_spec_gives_clear_error(moons, kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_one(moons, TrainSpec(**kwargs), "he", 0)


def test_empty_stack_rejected(moons):
    with pytest.raises(ValueError, match="at least one"):
        train_stacked(moons, TrainSpec(), [])


def test_train_cell_chunking_changes_nothing(moons, monkeypatch):
    import initlab.engine.train as train

    spec = TrainSpec(depth=2, width=8, steps=8, curve_stride=4)
    whole = train_cell(moons, spec, ["he", "zeros", "large"], [0, 1])
    monkeypatch.setattr(train, "stack_size", lambda depth, width, samples: 2)
    assert train_cell(moons, spec, ["he", "zeros", "large"], [0, 1]) == whole
