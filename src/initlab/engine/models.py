"""The lesson's two networks, parameterised by depth, width and activation.

Both are plain ``nn.Sequential`` stacks of ``nn.Linear`` and activation modules, as in the lesson,
built without touching torch's global RNG: each Linear is allocated uninitialised and then given
PyTorch's default init from the caller's generator, in construction order.
"""

from __future__ import annotations

import torch
from torch import nn

from initlab.engine.activations import get_activation
from initlab.engine.cells import check_positive_int
from initlab.engine.inits import default_linear_init

#: Lab 2's MoonMLP: make_moons points (2 features) -> 2 class logits. Theory reads them too.
MOON_IN_FEATURES = 2
MOON_CLASSES = 2


class SeededLinear(nn.Linear):
    """An ``nn.Linear`` that leaves its parameters to the caller's generator.

    Not ``nn.utils.skip_init``: that goes through the meta device, whose first use imports
    sympy (~0.4 s of every job's start-up) for nothing.
    """

    def reset_parameters(self) -> None:
        """Nothing: ``_linear`` draws PyTorch's default init from an explicit generator."""


def _linear(in_features: int, out_features: int, generator: torch.Generator) -> nn.Linear:
    layer = SeededLinear(in_features, out_features)
    with torch.no_grad():
        default_linear_init(layer, generator)
    return layer


def _hidden_stack(
    in_features: int, depth: int, width: int, activation: str, generator: torch.Generator
) -> list[nn.Module]:
    """``depth`` x (Linear -> activation), in_features -> width -> ... -> width."""
    check_positive_int(depth, "depth")
    check_positive_int(width, "width")
    act = get_activation(activation)
    layers: list[nn.Module] = []
    fan_in = in_features
    for _ in range(depth):
        layers += [_linear(fan_in, width, generator), act.module()]
        fan_in = width
    return layers


def build_probe_net(
    depth: int, width: int, activation: str, generator: torch.Generator, in_features: int = 32
) -> nn.Sequential:
    """Lab 1's probe: ``depth`` x (Linear -> activation), in_features -> width -> ... -> width."""
    return nn.Sequential(*_hidden_stack(in_features, depth, width, activation, generator))


def build_moon_mlp(
    depth: int,
    width: int,
    activation: str,
    generator: torch.Generator,
    in_features: int = MOON_IN_FEATURES,
    classes: int = MOON_CLASSES,
) -> nn.Sequential:
    """Lab 2's ``MoonMLP``: ``depth`` hidden layers of ``width`` with the activation between, then a
    Linear to ``classes`` logits. The lesson's network is depth 2, width 64, ReLU."""
    layers = _hidden_stack(in_features, depth, width, activation, generator)
    return nn.Sequential(*layers, _linear(width, classes, generator))
