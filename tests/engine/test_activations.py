import pytest
import torch

from initlab.engine.activations import ACTIVATIONS, get_activation


def test_registry_has_the_issue_activations():
    assert set(ACTIVATIONS) == {"relu", "tanh", "sigmoid", "leaky_relu", "gelu", "selu"}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_module_and_function_agree(name):
    act = get_activation(name)
    x = torch.linspace(-4, 4, 101)
    assert torch.equal(act.module()(x), act.fn(x))


@pytest.mark.parametrize(
    "name, x, expected",
    [("relu", -1.0, 0.0), ("relu", 2.0, 2.0), ("tanh", 0.0, 0.0), ("sigmoid", 0.0, 0.5), ("leaky_relu", -1.0, -0.01)],
)
def test_known_values(name, x, expected):
    assert get_activation(name).fn(torch.tensor(x)).item() == pytest.approx(expected)


def test_unknown_activation_error_lists_valid_names():
    with pytest.raises(
        ValueError, match=r"unknown activation 'swish'; valid activations: gelu, leaky_relu, relu, selu, sigmoid, tanh"
    ):
        get_activation("swish")
