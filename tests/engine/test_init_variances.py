"""Each init scheme's stated weight and bias variance (contract A) matches what it draws."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from initlab.engine.activations import get_activation
from initlab.engine.inits import INITS, default_linear_init, get_init
from initlab.engine.seeding import generator


@pytest.mark.parametrize("name", [n for n, s in INITS.items() if not s.data_dependent])
@pytest.mark.parametrize(("fan_in", "fan_out"), [(300, 500), (600, 200)])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_stated_variance_is_drawn(name: str, fan_in: int, fan_out: int, activation: str) -> None:
    scheme, act = get_init(name), get_activation(activation)
    gen = generator(3)
    layer = nn.Linear(fan_in, fan_out)
    with torch.no_grad():
        default_linear_init(layer, gen)
    scheme.apply(nn.Sequential(layer), act, gen)
    # Mean square, not var(): the schemes draw zero-mean entries, and orthogonal's are not independent.
    w2 = layer.weight.double().pow(2).mean().item()
    b2 = layer.bias.double().pow(2).mean().item()
    assert w2 == pytest.approx(scheme.weight_variance(fan_in, fan_out, act), rel=0.03, abs=1e-12)
    assert b2 == pytest.approx(scheme.bias_variance(fan_in, fan_out), rel=0.2, abs=1e-12)


def test_data_dependent_scheme_has_no_stated_variance() -> None:
    lsuv = get_init("lsuv")
    assert lsuv.weight_variance(32, 128, get_activation("relu")) is None
    assert lsuv.bias_variance(32, 128) == 0.0
    assert get_init("default").bias_variance(32, 128) == pytest.approx(1 / 96)
