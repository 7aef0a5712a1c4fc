"""Training a configured model: the seeding rule, divergence as data, inspect's verdict before training."""

import math

import pytest
import torch

from initlab.engine.cells import ModelCell
from initlab.engine.modeltrain import (
    ModelError,
    build_model,
    probe_verdict,
    train_model_cell,
)

MODEL_FILE = """
from torch import nn

def build(hidden=16):
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))
"""


@pytest.fixture
def cell(tmp_path):
    (tmp_path / "mlp.py").write_text(MODEL_FILE)
    return ModelCell("mlp", f"{tmp_path}/mlp.py:build", "moons", "adam", 0.01, steps=12, curve_stride=4)


def _by_init(rows):
    return {r["init"]: r for r in rows}


def test_a_rows_numbers_depend_on_its_configuration_alone(moons, cell):
    torch.manual_seed(1)
    rows, curves = train_model_cell(moons, cell, ["default", "he", "lsuv"], [3])
    torch.manual_seed(2)
    torch.rand(5)
    alone, _ = train_model_cell(moons, cell, ["he"], [3])
    assert _by_init(rows)["he"] == alone[0]  # whatever ran before and beside it
    assert len(curves) == 3 * len(cell.curve_steps())
    assert rows[0]["batch_size"] == len(moons.x_train)


def test_the_default_init_is_the_seeds_pytorch_draw_as_inspect_builds_it(cell):
    from initlab.engine.usermodel import build_model as inspect_build

    state = torch.get_rng_state()
    ours = build_model(cell, 5)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is put back
    theirs = inspect_build(cell.factory, 5)
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters(), strict=True))


def test_minibatches_are_seeded_and_the_same_for_every_init(moons, cell):
    small = ModelCell(**(cell.to_dict() | {"batch_size": 32}))
    a, _ = train_model_cell(moons, small, ["he", "xavier"], [0])
    b, _ = train_model_cell(moons, small, ["he"], [0])
    full, _ = train_model_cell(moons, cell, ["he"], [0])
    assert a[0] == b[0] and a[0]["batch_size"] == 32
    assert a[0]["start_loss"] == full[0]["start_loss"] and a[0]["end_loss"] != full[0]["end_loss"]


def test_a_diverging_model_is_data(moons, cell):
    wild = ModelCell(**(cell.to_dict() | {"optimizer": "sgd", "lr": 1e30}))
    rows, curves = train_model_cell(moons, wild, ["large"], [0])
    row = rows[0]
    assert row["diverged"] and row["diverged_step"] is not None and math.isnan(row["val_acc"])
    assert any(math.isnan(c["loss"]) for c in curves)


def test_the_probe_before_training_names_the_failure_and_its_layer(moons, cell):
    rows, _ = train_model_cell(moons, cell, ["zeros", "he"], [0])
    zeros, he = _by_init(rows)["zeros"], _by_init(rows)["he"]
    assert (zeros["probe_verdict"], zeros["probe_failure"], zeros["probe_layer"]) == ("problems found", "vanished", "0")
    assert (he["probe_verdict"], he["probe_failure"], he["probe_layer"]) == ("healthy", "", "")
    model = build_model(cell, 0)
    assert probe_verdict(model, torch.from_numpy(moons.x_train[:64]), 0)["probe_verdict"] == "healthy"


def test_a_factory_that_raises_is_one_line(cell):
    bad = ModelCell(**(cell.to_dict() | {"kwargs": {"depth": 3}}))
    with pytest.raises(ModelError, match=r"^model 'mlp': .*mlp.py:build\(\*\*\{'depth': 3\}\) raised TypeError: "):
        build_model(bad, 0)
