import math

import pytest
import torch
from torch import nn

from initlab.engine.activations import get_activation
from initlab.engine.inits import INITS, LSUV_TOLERANCE, default_linear_init, get_init, linear_layers
from initlab.engine.models import build_probe_net
from initlab.engine.seeding import generator

FAN_IN, FAN_OUT = 400, 300


def _weight(init: str, activation: str = "relu", seed: int = 0) -> torch.Tensor:
    layer = nn.Linear(FAN_IN, FAN_OUT)
    get_init(init).apply(nn.Sequential(layer), get_activation(activation), generator(seed))
    return layer.weight.detach()


# Expected weight variance of each scheme for a (FAN_OUT, FAN_IN) layer, from its formula.
EXPECTED_VAR = {
    "zeros": 0.0,
    "tiny": 0.01**2,
    "large": 1.0,
    "xavier": 2.0 / (FAN_IN + FAN_OUT),
    "xavier_uniform": 2.0 / (FAN_IN + FAN_OUT),  # U(+-a), a = sqrt(6/(in+out)): var a^2/3
    "he": 2.0 / FAN_IN,
    "he_uniform": 2.0 / FAN_IN,
    "lecun": 1.0 / FAN_IN,
    "default": 1.0 / (3 * FAN_IN),  # kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in))
}


@pytest.mark.parametrize("init", sorted(EXPECTED_VAR))
def test_weight_variance_matches_formula(init):
    w = _weight(init)
    expected = EXPECTED_VAR[init]
    if expected == 0.0:
        assert torch.count_nonzero(w) == 0
        return
    # 120,000 draws: the sample variance is within ~1% of the true one; 5% leaves no flakiness.
    assert w.var().item() == pytest.approx(expected, rel=0.05)
    assert abs(w.mean().item()) < 4 * math.sqrt(expected / w.numel())


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "selu"])
def test_orthogonal_rows_are_orthonormal_times_gain(activation):
    layer = nn.Linear(FAN_OUT, FAN_OUT)
    act = get_activation(activation)
    get_init("orthogonal").apply(nn.Sequential(layer), act, generator(1))
    w = layer.weight.detach().double()
    gain = nn.init.calculate_gain(activation)
    assert torch.allclose(w @ w.t(), gain**2 * torch.eye(FAN_OUT, dtype=torch.double), atol=1e-4)


def test_gelu_orthogonal_borrows_relu_gain():
    assert get_activation("gelu").gain() == pytest.approx(math.sqrt(2))


def test_biases_zero_except_default():
    for name in INITS:
        layer = nn.Linear(8, 8)
        nn.init.constant_(layer.bias, 3.0)
        get_init(name).apply(nn.Sequential(layer, nn.ReLU()), get_activation("relu"), generator(0), torch.randn(16, 8))
        if name == "default":
            assert torch.all(layer.bias == 3.0)
        else:
            assert torch.count_nonzero(layer.bias) == 0


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_lsuv_reaches_unit_variance_per_layer(activation):
    gen = generator(3)
    model = build_probe_net(6, 64, activation, gen)
    batch = torch.randn(512, 32, generator=generator(4)) * 7.0  # badly scaled input on purpose
    get_init("lsuv").apply(model, get_activation(activation), gen, batch)
    h = batch
    with torch.no_grad():
        for module in model:
            h = module(h)
            if isinstance(module, nn.Linear):
                assert abs(h.var().item() - 1.0) < LSUV_TOLERANCE


def test_lsuv_needs_a_batch():
    with pytest.raises(ValueError, match="lsuv"):
        get_init("lsuv").apply(nn.Sequential(nn.Linear(2, 2)), get_activation("relu"), generator(0))


def test_default_init_equals_pytorch_global_rng_draw():
    torch.manual_seed(11)
    reference = nn.Linear(20, 30)
    layer = nn.utils.skip_init(nn.Linear, 20, 30)
    with torch.no_grad():
        default_linear_init(layer, generator(11))
    assert torch.equal(layer.weight, reference.weight) and torch.equal(layer.bias, reference.bias)


def test_inits_never_touch_global_rng():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    for name in INITS:
        model = build_probe_net(3, 16, "tanh", generator(0))
        get_init(name).apply(model, get_activation("tanh"), generator(0), torch.randn(8, 32, generator=generator(1)))
    assert torch.equal(torch.get_rng_state(), before)


def test_unknown_init_names_the_value_and_the_valid_ones():
    with pytest.raises(ValueError) as err:
        get_init("glorot")
    assert "'glorot'" in str(err.value)
    for name in INITS:
        assert name in str(err.value)


def test_linear_layers_in_forward_order():
    model = build_probe_net(3, 5, "relu", generator(0))
    assert [layer.in_features for layer in linear_layers(model)] == [32, 5, 5]


# ---- parametric kinds and custom inits -----------------------------------------------------

from initlab.engine.inits import custom_inits  # noqa: E402

# A config-defined scheme equal to a built-in must draw bit-identical weights: one code path.
SAME_AS_BUILTIN = {
    "tiny": {"kind": "normal", "std": 0.01},
    "large": {"kind": "normal", "std": 1},
    "lecun": {"kind": "fan_in", "scale": 1},
    "he": {"kind": "fan_in", "scale": 2, "distribution": "normal"},
    "he_uniform": {"kind": "fan_in", "scale": 2, "distribution": "uniform"},
    "xavier": {"kind": "fan_avg", "scale": 1},
    "xavier_uniform": {"kind": "fan_avg", "scale": 1, "distribution": "uniform"},
    "orthogonal": {"kind": "scaled", "base": "orthogonal", "factor": 1},
}


@pytest.mark.parametrize("builtin", sorted(SAME_AS_BUILTIN))
def test_custom_init_equal_to_a_builtin_draws_bit_identical_weights(builtin):
    with custom_inits({"mine": SAME_AS_BUILTIN[builtin]}):
        for activation in ("relu", "tanh"):
            mine, theirs = _weight("mine", activation, 4), _weight(builtin, activation, 4)
            assert torch.equal(mine, theirs)
    assert "mine" not in INITS  # the registry is restored after the block


def test_builtins_equal_direct_nn_init_calls():
    """The parametric kinds reproduce the direct torch calls the built-ins used to make."""
    direct = {
        "tiny": lambda w, g: nn.init.normal_(w, 0.0, 0.01, generator=g),
        "he": lambda w, g: nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu", generator=g),
        "he_uniform": lambda w, g: nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu", generator=g),
        "xavier": lambda w, g: nn.init.xavier_normal_(w, generator=g),
        "xavier_uniform": lambda w, g: nn.init.xavier_uniform_(w, generator=g),
        "lecun": lambda w, g: nn.init.normal_(w, 0.0, 1.0 / math.sqrt(w.shape[1]), generator=g),
    }
    for name, call in direct.items():
        w = torch.empty(FAN_OUT, FAN_IN)
        call(w, generator(4))
        assert torch.equal(_weight(name, "relu", 4), w), name


def test_scaled_init_multiplies_the_base_draw_and_json_reaches_the_registry():
    with custom_inits('{"he07": {"kind": "scaled", "base": "he", "factor": 0.7}}') as schemes:
        assert [s.name for s in schemes] == ["he07"]
        assert torch.equal(_weight("he07"), _weight("he") * 0.7)
        assert get_init("he07").weight_variance(FAN_IN, FAN_OUT, get_activation("relu")) == pytest.approx(
            0.49 * 2 / FAN_IN
        )


@pytest.mark.parametrize(
    "definition",
    [
        {"kind": "normal", "std": 0.05},
        {"kind": "uniform", "bound": 0.1},
        {"kind": "fan_out", "scale": 2.0},
        {"kind": "fan_avg", "scale": 3.0, "distribution": "uniform"},
        {"kind": "orthogonal", "gain": 1.5},
    ],
)
def test_custom_init_variance_method_matches_its_draw(definition):
    with custom_inits({"mine": definition}):
        scheme = get_init("mine")
        expected = scheme.weight_variance(FAN_IN, FAN_OUT, get_activation("relu"))
        assert _weight("mine").var().item() == pytest.approx(expected, rel=0.05)
        assert scheme.bias_variance(FAN_IN, FAN_OUT) == 0.0


def test_every_builtin_has_the_variance_methods():
    act = get_activation("tanh")
    for name, scheme in INITS.items():
        v = scheme.weight_variance(FAN_IN, FAN_OUT, act)
        assert (v is None) == (name == "lsuv")
        assert scheme.bias_variance(FAN_IN, FAN_OUT) == (pytest.approx(1 / (3 * FAN_IN)) if name == "default" else 0.0)
    assert INITS["orthogonal"].weight_variance(FAN_IN, FAN_OUT, act) == pytest.approx(act.gain() ** 2 / FAN_IN)


def test_custom_init_with_a_builtin_name_is_refused():
    with pytest.raises(ValueError, match="'tiny' is a built-in init"):
        with custom_inits({"tiny": {"kind": "normal", "std": 0.05}}):
            pass
    assert INITS["tiny"].spec.kind == "normal"


# ---- any model: convolutions, nested modules ------------------------------------------------

from initlab.engine.inits import LSUV_FORWARD_SEED, lsuv_rescale, weighted_layers  # noqa: E402

# Direct torch calls on a conv weight: torch's fan rule (channels / groups x kernel size).
CONV_DIRECT = {
    "he": lambda w, g: nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu", generator=g),
    "he_uniform": lambda w, g: nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu", generator=g),
    "xavier": lambda w, g: nn.init.xavier_normal_(w, generator=g),
    "xavier_uniform": lambda w, g: nn.init.xavier_uniform_(w, generator=g),
    "orthogonal": lambda w, g: nn.init.orthogonal_(w, gain=math.sqrt(2), generator=g),
}


@pytest.mark.parametrize("conv", [nn.Conv1d(4, 6, 5), nn.Conv2d(4, 8, 3, groups=2), nn.Conv3d(2, 3, (1, 2, 3))])
@pytest.mark.parametrize("name", sorted(CONV_DIRECT))
def test_schemes_draw_a_convolution_by_its_fans_as_torch_does(conv, name):
    get_init(name).apply(nn.Sequential(conv), get_activation("relu"), generator(6))
    expected = torch.empty_like(conv.weight)
    CONV_DIRECT[name](expected, generator(6))
    assert torch.equal(conv.weight, expected)
    assert torch.count_nonzero(conv.bias) == 0


def test_conv_variance_is_the_formula_at_torchs_fans():
    # torch's rule: fan_in = in_channels/groups * 9 = 36; fan_out = out_channels * 9 = 288 (torch
    # does not divide fan_out by the groups: the weight is (32, 4, 3, 3) and it reads size(0)).
    conv = nn.Conv2d(16, 32, 3, groups=4)
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(conv.weight)
    assert (fan_in, fan_out) == (36, 288)
    for name in ("he", "lecun", "xavier"):
        get_init(name).apply(conv, get_activation("relu"), generator(2))
        expected = get_init(name).weight_variance(fan_in, fan_out, get_activation("relu"))
        assert conv.weight.var().item() == pytest.approx(expected, rel=0.1), name


def test_default_keeps_pytorchs_own_conv_init_and_bias_free_layers_are_fine():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 3))
    before = [p.detach().clone() for p in model.parameters()]
    get_init("default").apply(model, get_activation("relu"), generator(0))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    get_init("he").apply(model, get_activation("relu"), generator(0))
    assert model[0].bias is None and not torch.equal(before[0], model[0].weight)


class _Nested(nn.Module):
    """A CNN that is not one flat Sequential, with dropout and batch norm: LSUV's hooked path."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Conv2d(6, 8, 3, padding=1),
            nn.ReLU(),
        )
        self.head = nn.Linear(8 * 8 * 8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


def test_weighted_layers_are_linear_and_convs_in_module_order():
    assert [type(m).__name__ for m in weighted_layers(_Nested())] == ["Conv2d", "Conv2d", "Linear"]
    assert weighted_layers(nn.Sequential(nn.ConvTranspose2d(2, 2, 3), nn.Linear(2, 2)))[0].__class__ is nn.Linear


def test_lsuv_on_a_nested_model_reaches_unit_variance_keeps_buffers_and_the_global_rng():
    torch.manual_seed(1)
    model = _Nested()
    batch = torch.rand(64, 1, 8, 8, generator=generator(2)) * 5
    buffers = [b.clone() for b in model.buffers()]
    state = torch.get_rng_state()
    get_init("lsuv").apply(model, get_activation("relu"), generator(3), batch)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(a, b) for a, b in zip(buffers, model.buffers(), strict=True))
    outputs = []
    hooks = [m.register_forward_hook(lambda m, i, o: outputs.append(o.var().item())) for m in weighted_layers(model)]
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(LSUV_FORWARD_SEED)
        model(batch)
    for h in hooks:
        h.remove()
    # The last layer is measured with the earlier ones final, in the same pass: all within tolerance.
    assert all(abs(v - 1.0) < LSUV_TOLERANCE for v in outputs), outputs


def test_lsuv_walk_and_hooks_agree_to_the_bit_on_a_sequential():
    def cnn() -> nn.Sequential:
        torch.manual_seed(4)
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 36, 10))

    batch = torch.randn(32, 1, 8, 8, generator=generator(5)) * 3
    walked, hooked = cnn(), cnn()
    wrapped = nn.ModuleDict({"net": hooked})  # not a Sequential: the hooked path
    wrapped.forward = lambda x: hooked(x)  # type: ignore[method-assign]
    a = lsuv_rescale(walked, batch)
    b = lsuv_rescale(wrapped, batch)
    assert a == b
    assert all(torch.equal(p, q) for p, q in zip(walked.parameters(), hooked.parameters(), strict=True))
