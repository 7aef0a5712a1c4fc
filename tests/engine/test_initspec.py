"""Init specs as data: parsing a config's custom_inits (one-line errors) and the variance formulas."""

import math

import pytest

from initlab.engine.initspec import (
    BUILTIN_SPECS,
    KINDS,
    describe,
    parse_custom_init,
    parse_custom_inits,
    spec,
    weight_variance,
)


class Gain:
    def __init__(self, g: float) -> None:
        self.g = g

    def gain(self) -> float:
        return self.g


RELU = Gain(math.sqrt(2))


def test_every_builtin_is_an_instance_of_a_registered_kind():
    assert set(BUILTIN_SPECS) == {
        "default",
        "zeros",
        "tiny",
        "large",
        "xavier",
        "he",
        "xavier_uniform",
        "he_uniform",
        "lecun",
        "orthogonal",
        "lsuv",
    }
    assert all(s.kind in KINDS for s in BUILTIN_SPECS.values())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("default", 1 / (3 * 400)),
        ("zeros", 0.0),
        ("tiny", 1e-4),
        ("large", 1.0),
        ("xavier", 2 / 700),
        ("xavier_uniform", 2 / 700),
        ("he", 2 / 400),
        ("he_uniform", 2 / 400),
        ("lecun", 1 / 400),
        ("orthogonal", 2 / 400),  # gain^2 / max(fan_in, fan_out), relu gain sqrt(2)
        ("lsuv", None),
    ],
)
def test_builtin_weight_variances_follow_the_contract(name, expected):
    got = weight_variance(BUILTIN_SPECS[name], 400, 300, RELU)
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"kind": "normal", "std": 0.05}, 0.0025),
        ({"kind": "uniform", "bound": 0.3}, 0.03),
        ({"kind": "fan_in", "scale": 3}, 3 / 400),
        ({"kind": "fan_out", "scale": 3, "distribution": "uniform"}, 3 / 300),
        ({"kind": "fan_avg", "scale": 3}, 3 / 350),
        ({"kind": "orthogonal", "gain": 1.5}, 1.5**2 / 400),
        ({"kind": "scaled", "base": "he", "factor": 0.7}, 0.49 * 2 / 400),
    ],
)
def test_custom_variances(definition, expected):
    s = parse_custom_init("mine", definition)
    assert weight_variance(s, 400, 300, RELU) == pytest.approx(expected)
    assert describe(s)


@pytest.mark.parametrize(
    ("name", "definition", "message"),
    [
        ("tiny", {"kind": "normal", "std": 0.05}, "custom_inits.tiny: the name 'tiny' is a built-in init"),
        (
            "x",
            {"kind": "cauchy", "std": 1},
            "custom_inits.x.kind = 'cauchy' is not allowed; expected one of normal, uniform",
        ),
        ("x", {"kind": "lsuv"}, "custom_inits.x.kind = 'lsuv' is not allowed"),
        ("x", {"kind": "normal", "std": 0}, "custom_inits.x.std = 0 is not allowed; expected a number > 0"),
        ("x", {"kind": "normal", "std": -1.0}, "custom_inits.x.std = -1.0 is not allowed; expected a number > 0"),
        ("x", {"kind": "scaled", "base": "he", "factor": -0.5}, "custom_inits.x.factor = -0.5 is not allowed"),
        ("x", {"kind": "scaled", "base": "lsuv", "factor": 2}, "custom_inits.x.base = 'lsuv' is not allowed"),
        ("x", {"kind": "fan_in", "scale": 2, "distribution": "cauchy"}, "custom_inits.x.distribution = 'cauchy'"),
        ("x", {"kind": "normal"}, "custom_inits.x: kind normal needs std; 'std' is missing"),
        ("x", {"kind": "normal", "std": 1, "bound": 2}, "unknown key(s) 'bound' in custom_inits.x"),
        ("x", {"std": 1}, "custom_inits.x = {'std': 1} is not allowed; expected a mapping with a 'kind'"),
        ("x", {"kind": "normal", "std": True}, "custom_inits.x.std = True is not allowed"),
    ],
)
def test_bad_custom_inits_are_refused_with_one_line(name, definition, message):
    with pytest.raises(ValueError) as err:
        parse_custom_init(name, definition)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_definitions_parse_to_their_specs():
    defs = {"b": {"std": 0.05, "kind": "normal"}, "a": {"kind": "scaled", "base": "he", "factor": 0.7}}
    assert parse_custom_inits(defs)["b"] == spec("normal", std=0.05)
