import math

import pytest
import torch
from torch import nn

from initlab.engine.probe import probe_config, probe_grid, probe_network, tensor_stats


def _hand_model() -> nn.Sequential:
    layer = nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(2))
        layer.bias.zero_()
    return nn.Sequential(layer, nn.ReLU())


def test_statistics_on_a_hand_computed_case():
    x = torch.tensor([[1.0, -1.0], [2.0, 0.5]])
    model = _hand_model()
    (stats,) = probe_network(model, x, direction=torch.ones(2, 2))
    # h = relu(x) = [[1, 0], [2, 0.5]]
    values = [1.0, 0.0, 2.0, 0.5]
    mean = sum(values) / 4
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)  # torch.std is unbiased
    assert stats.layer == 1
    assert stats.mean == pytest.approx(mean)
    assert stats.std == pytest.approx(std)
    assert stats.zero_ratio == pytest.approx(0.25)
    assert stats.saturated_ratio == pytest.approx(0.5)  # 1.0 and 2.0 exceed 0.98
    assert stats.nonfinite_ratio == 0.0
    # L = sum(h * 1) / 2  ->  dL/dh = 0.5 everywhere; dL/dz = 0.5 * (z > 0)
    assert stats.act_grad_norm == pytest.approx(1.0)
    # dL/dW = dz^T x = [[1.5, -0.25], [1.0, 0.25]]
    assert stats.grad_norm == pytest.approx(math.sqrt(1.5**2 + 0.25**2 + 1.0 + 0.25**2))


def test_nonfinite_values_are_counted_not_raised():
    model = _hand_model()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1e10, 0.0], [0.0, 1.0]]))
    x = torch.tensor([[1e30, 1.0], [1.0, 1.0]])  # 1e30 * 1e10 overflows float32: one inf of four
    (stats,) = probe_network(model, x, direction=torch.ones(2, 2))
    assert stats.nonfinite_ratio == pytest.approx(0.25)
    assert math.isnan(stats.std)


def test_one_row_per_layer_and_grid_columns():
    rows = probe_grid([0, 1], "tanh", ["xavier", "large"], [2, 5], 16)
    assert len(rows) == 2 * 2 * (2 + 5)
    assert {r["layer"] for r in rows if r["depth"] == 5} == {1, 2, 3, 4, 5}


def test_tiny_relu_signal_vanishes_and_he_survives():
    tiny = probe_config(0, "relu", "tiny", 8, 128)
    he = probe_config(0, "relu", "he", 8, 128)
    assert tiny[-1].std < 1e-6 < 0.1 < he[-1].std
    # the backward signal fades with the forward one: the first layer's weight gradient is tiny too
    assert tiny[0].grad_norm < 1e-6 * he[0].grad_norm


def test_large_tanh_saturates():
    last = probe_config(0, "tanh", "large", 8, 128)[-1]
    assert last.saturated_ratio > 0.5


def test_probe_is_a_function_of_its_configuration():
    first = probe_config(3, "relu", "lsuv", 4, 32)
    torch.manual_seed(123)
    probe_config(4, "tanh", "large", 6, 32)  # unrelated work in between
    assert probe_config(3, "relu", "lsuv", 4, 32) == first


@pytest.mark.parametrize("kwargs", [dict(depth=0), dict(width=0), dict(activation="nope"), dict(init="nope")])
def test_bad_arguments(kwargs):
    args = dict(seed=0, activation="relu", init="he", depth=2, width=8) | kwargs
    with pytest.raises(ValueError):
        probe_config(**args)


def _torch_ratios(h: torch.Tensor) -> dict[str, float]:
    """The ratios as the probe computed them before numpy counted them (its numbers are the contract)."""
    return {
        "zero_ratio": (h == 0).float().mean().item(),
        "saturated_ratio": (h.abs() > 0.98).float().mean().item(),
        "nonfinite_ratio": (~torch.isfinite(h)).float().mean().item(),
    }


@pytest.mark.parametrize("shape", [(512, 128), (512, 100), (7, 13), (450, 3, 5)])
def test_numpy_counted_ratios_equal_torch_to_the_bit(shape):
    gen = torch.Generator().manual_seed(sum(shape))
    h = torch.randn(shape, generator=gen)
    flat = h.view(-1)
    n = flat.numel()
    # the edge cases of each criterion: zeros of both signs, the threshold itself and its
    # float32 neighbours, NaN (not zero, not saturated, non-finite) and both infinities
    edges = torch.tensor([0.0, -0.0, 0.98, -0.98, 0.9800001, 0.97999996, float("nan"), float("inf"), float("-inf")])
    flat[: len(edges)] = edges
    idx = torch.randperm(n, generator=gen)[: n // 3]
    flat[idx] = 0.0  # a ratio that is not a power of two
    for tensor in (h, h.transpose(0, -1)):  # contiguous and not
        stats = tensor_stats(tensor)
        for key, expected in _torch_ratios(tensor).items():
            assert stats[key] == expected, (key, stats[key], expected)
        assert stats["mean"] == tensor.mean().item() or math.isnan(stats["mean"])


def test_ratios_of_other_dtypes_fall_back_to_torch():
    h = torch.tensor([[0.0, 1.0], [0.5, float("inf")]], dtype=torch.float64)
    stats = tensor_stats(h)
    assert stats["zero_ratio"] == 0.25 and stats["saturated_ratio"] == 0.5 and stats["nonfinite_ratio"] == 0.25
