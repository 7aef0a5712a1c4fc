"""Activation registry: one entry per activation name the study accepts.

Each entry carries the three faces an activation has in this project: the ``nn.Module`` class
used by the lesson-style models, the plain function used by the stacked trainer, and the
``nn.init.calculate_gain`` name used by gain-aware schemes (``orthogonal``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from initlab.engine.registry import lookup


@dataclass(frozen=True)
class Activation:
    """One activation: its module class, its functional form and its gain for init formulas."""

    name: str
    module: type[nn.Module]
    fn: Callable[[torch.Tensor], torch.Tensor]
    # calculate_gain knows no GELU; GELU behaves like ReLU for large |x|, so it borrows ReLU's gain.
    gain_name: str
    # In-place form, only where autograd differentiates it through the output exactly as it does
    # the out-of-place form (so the stacked trainer stays bit-identical to the lone loop); it
    # saves the stacked trainer a memory pass and an allocation per layer and step.
    fn_inplace: Callable[[torch.Tensor], torch.Tensor] | None = None

    def gain(self) -> float:
        """The recommended std multiplier for this activation (``nn.init.calculate_gain``)."""
        return nn.init.calculate_gain(self.gain_name)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", nn.ReLU, torch.relu, "relu", torch.relu_),
        Activation("tanh", nn.Tanh, torch.tanh, "tanh", torch.tanh_),
        Activation("sigmoid", nn.Sigmoid, torch.sigmoid, "sigmoid", torch.sigmoid_),
        Activation("leaky_relu", nn.LeakyReLU, F.leaky_relu, "leaky_relu"),
        Activation("gelu", nn.GELU, F.gelu, "relu"),
        Activation("selu", nn.SELU, F.selu, "selu"),
    )
}


def get_activation(name: str) -> Activation:
    """Return the registered activation ``name``; unknown names raise a ``ValueError`` listing the valid ones."""
    return lookup(ACTIVATIONS, name, "activation")
