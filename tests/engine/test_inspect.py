"""initlab.engine.inspect on the models a user brings: the lesson's probe net (to the bit against
the study's probe), an MLP with BatchNorm, a small CNN, a residual block, a NaN-making init and a
two-output model. Each verdict is checked in the world where it holds and in one where it flips."""

from __future__ import annotations

import copy
import importlib.util
import math

import pytest
import torch
from torch import nn

from initlab.engine.activations import get_activation
from initlab.engine.inits import get_init
from initlab.engine.inspect import (
    GAIN_TOLERANCE,
    InspectError,
    LayerRow,
    fitting_scheme,
    inspect,
    leaf_modules,
    probe_loss,
)
from initlab.engine.models import build_probe_net
from initlab.engine.probe import BATCH_SIZE, IN_FEATURES, probe_config
from initlab.engine.seeding import derive_seed, generator
from tests.harness import REPO

STATS = ["mean", "std", "zero_ratio", "saturated_ratio", "nonfinite_ratio", "act_grad_norm"]


def _same(a: float, b: float) -> bool:
    """Equal to the bit (NaN equals NaN)."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def _study_net(seed: int, activation: str, init: str, depth: int, width: int):
    """The probe net, batch and loss direction exactly as ``engine.probe.probe_config`` makes them."""
    data_gen = generator(derive_seed(seed, "probe-input"))
    x = torch.randn(BATCH_SIZE, IN_FEATURES, generator=data_gen)
    direction = torch.randn(BATCH_SIZE, width, generator=data_gen)
    weight_gen = generator(seed)
    model = build_probe_net(depth, width, activation, weight_gen, IN_FEATURES)
    get_init(init).apply(model, get_activation(activation), weight_gen, batch=x)
    return model, x, direction


@pytest.mark.parametrize(
    "seed, activation, init, depth",
    [
        (0, "relu", "default", 8),
        (3, "tanh", "xavier", 6),
        (1, "sigmoid", "large", 5),
        (2, "relu", "lsuv", 4),
        (0, "tanh", "zeros", 3),
    ],
)
def test_probe_net_gives_the_study_probe_numbers_to_the_bit(seed, activation, init, depth):
    width = 128
    study = probe_config(seed, activation, init, depth, width)
    model, x, direction = _study_net(seed, activation, init, depth, width)
    found = inspect(model, x, loss=lambda out: (out * direction).sum() / out.shape[0])
    linears = [r for r in found.rows if r.type == "SeededLinear"]
    acts = [r for r in found.rows if r.type != "SeededLinear"]
    assert len(linears) == len(acts) == depth
    for layer, lin, act in zip(study, linears, acts, strict=True):
        for column in STATS:
            assert _same(getattr(act, column), getattr(layer, column)), (layer.layer, column)
        assert _same(lin.grad_norm, layer.grad_norm), layer.layer


def test_default_loss_is_the_seeded_projection():
    model, x, _ = _study_net(0, "relu", "he", 3, 16)
    out = model(x)
    direction = torch.randn(out.shape, generator=generator(derive_seed(5, "inspect-direction")))
    assert probe_loss(out, seed=5).item() == ((out * direction).sum() / out.shape[0]).item()
    a = inspect(model, x, seed=5)
    b = inspect(model, x, loss=lambda o: (o * direction).sum() / o.shape[0])
    assert [r.act_grad_norm for r in a.rows] == [r.act_grad_norm for r in b.rows]
    assert [r.act_grad_norm for r in inspect(model, x, seed=6).rows] != [r.act_grad_norm for r in a.rows]


def _row(found, path: str) -> LayerRow:
    return next(r for r in found.rows if r.path == path)


# ---- verdicts flip with the data -------------------------------------------------------------


def test_study_failures_are_found_where_the_study_finds_them():
    tanh_large, x, _ = _study_net(0, "tanh", "large", 8, 128)
    found = inspect(tanh_large, x)
    assert "saturated" in found.rows[-1].failures and not found.healthy
    tanh_xavier, x, _ = _study_net(0, "tanh", "xavier", 8, 128)
    assert inspect(tanh_xavier, x).healthy

    relu_tiny, x, _ = _study_net(0, "relu", "tiny", 8, 128)
    found = inspect(relu_tiny, x)
    assert "vanished" in found.rows[-1].failures and "vanished" in found.failures

    relu_large, x, _ = _study_net(0, "relu", "large", 8, 128)
    assert "exploded" in inspect(relu_large, x).failures

    sigmoid, x, _ = _study_net(0, "sigmoid", "default", 20, 128)
    found = inspect(sigmoid, x)
    assert found.gradient_ratio < 1e-3 and "gradient vanished" in found.failures
    assert "gradient vanished" in found.rows[0].failures and not found.rows[-1].failures
    relu_he, x, _ = _study_net(0, "relu", "he", 20, 128)
    assert "gradient vanished" not in inspect(relu_he, x).failures


def _mlp(init_nan: bool) -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 20), nn.Tanh(), nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 3))
    if init_nan:
        with torch.no_grad():  # a "unit-norm rows" init applied to a zero-initialised layer: 0 / 0
            model[2].weight.zero_()
            model[2].weight.div_(model[2].weight.norm(dim=1, keepdim=True))
    return model


def test_nan_making_init_is_non_finite_from_its_layer_on():
    x = torch.randn(32, 10, generator=generator(1))
    found = inspect(_mlp(True), x)
    assert [r.path for r in found.rows if "non-finite" in r.failures] == ["2", "3", "4"]
    assert found.outputs[0].all_finite is False and "non-finite" in found.failures
    assert found.summary().endswith("first 2 (non-finite)") or "first 2 (non-finite" in found.summary()
    healthy = inspect(_mlp(False), x)
    assert healthy.healthy and healthy.outputs[0].all_finite


# ---- model shapes ---------------------------------------------------------------------------


def _bn_mlp(scale: float) -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(16, 64),
        nn.BatchNorm1d(64),
        nn.ReLU(),
        nn.Linear(64, 64),
        nn.BatchNorm1d(64),
        nn.ReLU(),
        nn.Linear(64, 64),
        nn.ReLU(),
        nn.Linear(64, 4),
    )
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                m.weight.mul_(scale)
                m.bias.zero_()
    return model


def test_batchnorm_resets_the_scale_and_the_init_check_says_so():
    x = torch.randn(128, 16, generator=generator(0))
    found = inspect(_bn_mlp(0.05), x)
    by_path = {c.path: c for c in found.checks}
    assert by_path["0"].status == "normalized" and "resets the scale" in by_path["0"].message
    assert math.isnan(by_path["0"].gain) and by_path["0"].suggestion == ""
    # The small Linear outputs are rescaled to unit std by BatchNorm (train mode: batch statistics) ...
    assert _row(found, "0").std < 0.1 and _row(found, "1").std == pytest.approx(1.0, abs=0.02)
    # ... but the Linear that no normalization follows shrinks the signal, and the check says so.
    assert by_path["6"].status == "shrinks" and by_path["6"].suggestion == "he"
    assert by_path["6"].gain == pytest.approx(0.05 / math.sqrt(6), rel=0.1)
    assert by_path["6"].message.startswith("6: Linear 64→64 then ReLU: Var(w)·fan_in = ")
    fine = inspect(_bn_mlp(math.sqrt(6)), x)  # default's 1/3 times 6 = He's 2
    assert {c.path: c.status for c in fine.checks} == {"0": "normalized", "3": "normalized", "6": "ok"}


def _load_example():
    spec = importlib.util.spec_from_file_location("small_cnn", REPO / "examples/small_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_small_cnn_default_init_shrinks_and_he_fits():
    example = _load_example()
    x = torch.randn(16, 3, 32, 32, generator=generator(0))
    torch.manual_seed(0)
    found = inspect(example.build(), x)
    assert [r.type for r in found.rows][:2] == ["Conv2d", "ReLU"] and found.rows[0].shape == "16x32x32x32"
    shrinking = [c for c in found.checks if c.status == "shrinks"]
    assert [c.path for c in shrinking] == ["0", "2", "4"]
    for c in shrinking:  # PyTorch's default: Var(w)·fan_in = 1/3, gain sqrt(1/6) = 0.41 under He's 2
        assert c.critical == pytest.approx(2.0, rel=1e-6)
        assert c.gain == pytest.approx(math.sqrt(1 / 6), rel=0.1)
        assert c.suggestion == "he" and c.message.endswith("try `he`")
    assert shrinking[1].message.startswith(
        "2: Conv2d 32→64 then ReLU: Var(w)·fan_in = 0.33, He asks 2: the signal shrinks ×0.41"
    )
    assert found.checks[-1].status == "normalized"
    torch.manual_seed(0)
    he = inspect(example.build_he(), x)
    assert [c.status for c in he.checks] == ["ok", "ok", "ok", "normalized"]
    assert all(c.suggestion == "" for c in he.checks)


def test_fitting_scheme_follows_the_activation():
    assert fitting_scheme(64, 64, "relu") == ("he", pytest.approx(1.0, rel=1e-6))
    name, gain = fitting_scheme(64, 64, "tanh")
    assert name in ("xavier", "lecun") and abs(math.log(gain)) < math.log(GAIN_TOLERANCE)


class Residual(nn.Module):
    """x + conv(relu(conv(x))), then relu: one in-place ReLU module used twice."""

    def __init__(self, channels: int = 8) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(x + self.conv2(self.relu(self.conv1(x))))


def test_residual_block_with_a_reused_inplace_relu():
    torch.manual_seed(0)
    block = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), Residual(), Residual())
    x = torch.randn(4, 3, 16, 16, generator=generator(0))
    found = inspect(block, x)
    assert [r.path for r in found.rows] == [
        "0",
        "1.conv1",
        "1.relu",
        "1.conv2",
        "1.relu#2",
        "2.conv1",
        "2.relu",
        "2.conv2",
        "2.relu#2",
    ]
    assert all(math.isfinite(r.act_grad_norm) and r.act_grad_norm > 0 for r in found.rows)
    # The hook on conv1's output (later overwritten in place by relu) sees the gradient of conv1's own
    # output: compare with a manual pass where the ReLU is not in place.
    manual = copy.deepcopy(block)
    for m in manual.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    h = manual[0](x)
    z = manual[1].conv1(h)
    z.retain_grad()
    out = manual[2](manual[1].relu(h + manual[1].conv2(manual[1].relu(z))))
    probe_loss(out, 0).backward()
    assert _row(found, "1.conv1").act_grad_norm == pytest.approx(z.grad.norm().item(), rel=1e-5)
    assert _row(found, "1.relu").zero_ratio > 0.3 and _row(found, "1.conv1").zero_ratio == 0


class TwoHeads(nn.Module):
    def __init__(self, scale_b: float = 1.0) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 32), nn.ReLU())
        self.a = nn.Linear(32, 3)
        self.b = nn.Linear(32, 2)
        with torch.no_grad():
            self.b.weight.mul_(scale_b)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.a(h), self.b(h)


def test_two_output_model_probes_both_outputs():
    torch.manual_seed(0)
    x = torch.randn(64, 8, generator=generator(0))
    found = inspect(TwoHeads(), x)
    assert [o.name for o in found.outputs] == ["output[0]", "output[1]"]
    assert [o.shape for o in found.outputs] == ["64x3", "64x2"]
    assert found.healthy and all(math.isfinite(r.grad_norm) for r in found.rows if r.type == "Linear")
    torch.manual_seed(0)
    loud = inspect(TwoHeads(scale_b=1e5), x)
    assert loud.outputs[1].failures == ("exploded",) and not loud.outputs[0].failures
    assert "exploded" in loud.failures and "exploded" in _row(loud, "b").failures
    torch.manual_seed(0)
    only_a = inspect(TwoHeads(), x, loss=lambda out: out[0].pow(2).mean())
    assert math.isnan(_row(only_a, "b").act_grad_norm) or _row(only_a, "b").act_grad_norm == 0
    assert only_a.loss == "user's loss"


# ---- the model is left as it was ------------------------------------------------------------


def test_hooks_leave_no_trace():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
    sentinel = torch.full_like(model[0].weight, 7.0)
    model[0].weight.grad = sentinel
    before = copy.deepcopy(model.state_dict())
    rng = torch.get_rng_state()
    x = torch.randn(32, 8, generator=generator(0))
    found = inspect(model, x)
    assert len(found.rows) == 5
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks
        assert not m._backward_hooks and not m._backward_pre_hooks
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and BatchNorm's running stats
    assert model[0].weight.grad is sentinel and model[4].weight.grad is None
    assert torch.equal(torch.get_rng_state(), rng)  # Dropout drew from the global RNG inside
    assert model.training
    assert x.grad is None and not x.requires_grad


# ---- errors ----------------------------------------------------------------------------------


class Functional(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(4, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w


class Nothing(nn.Module):
    """No parameters, no children: nothing of its own computes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * x


def test_a_module_with_its_own_parameters_is_a_row_and_a_model_with_none_is_one_clear_error():
    found = inspect(Functional(), torch.ones(2, 4))
    assert [r.path for r in found.rows] == ["Functional"] and found.rows[0].grad_norm > 0
    with pytest.raises(InspectError) as err:
        inspect(Nothing(), torch.ones(2, 4))
    assert str(err.value) == (
        "the model (Nothing) has no modules to hook: no leaf modules and no parameters; "
        "build it from torch.nn layers (nn.Linear, nn.Conv2d, nn.ReLU, ...) or nn.Parameter"
    )
    assert leaf_modules(nn.Linear(2, 2))[0][0] == "Linear"  # a bare torch layer is its own leaf


def test_inputs_the_model_rejects_quote_its_error_and_the_shape():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    with pytest.raises(InspectError) as err:
        inspect(model, torch.ones(64, 5))
    assert str(err.value) == (
        "the model rejected inputs of shape 64x5: RuntimeError: mat1 and mat2 shapes cannot be multiplied "
        "(64x5 and 3x4)"
    )
    assert not model[0]._forward_hooks


def test_initlab_inspect_is_the_library_function():
    import initlab

    assert initlab.inspect is inspect


def test_a_bad_loss_is_one_clear_error_and_hooks_go_even_on_user_tensors():
    model = nn.Sequential(nn.Identity(), nn.Linear(3, 2))
    x = torch.ones(4, 3, requires_grad=True)
    with pytest.raises(InspectError) as err:
        inspect(model, x, loss=lambda out: out)
    assert str(err.value) == "the loss must return a scalar tensor, got a tensor of shape 4x2"
    with pytest.raises(InspectError) as err:
        inspect(model, x, loss=lambda out: out.logits)
    assert str(err.value) == "the loss raised AttributeError: 'Tensor' object has no attribute 'logits'"
    found = inspect(model, x)
    assert found.rows[0].act_grad_norm > 0  # the Identity's output is the user's own x ...
    assert not x._backward_hooks and x.grad is None  # ... whose hook is gone, and x gets no gradient kept
