"""Activation registry: one entry per activation name the study accepts.

Each entry carries the three faces an activation has in this project: the ``nn.Module`` class
used by the lesson-style models, the plain function used by the stacked trainer, and the
``nn.init.calculate_gain`` name used by gain-aware schemes (``orthogonal``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    # The backward of ``fn_inplace`` from its output, written into the gradient's own memory:
    # ``grad_from_output(grad, output)``, the very aten kernel autograd calls for it (so the
    # hand-written pass of ``initlab.engine.train`` rounds exactly as autograd does), without
    # the fresh tensor autograd allocates per layer and step. None: the trainer uses autograd.
    grad_from_output: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None

    def gain(self) -> float:
        """The recommended std multiplier for this activation (``nn.init.calculate_gain``)."""
        return nn.init.calculate_gain(self.gain_name)


def _relu_grad(grad: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """ReluBackward0: threshold_backward(grad, result, 0)."""
    return torch.ops.aten.threshold_backward.grad_input(grad, output, 0, grad_input=grad)


def _tanh_grad(grad: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """TanhBackward0: tanh_backward(grad, result)."""
    return torch.ops.aten.tanh_backward.grad_input(grad, output, grad_input=grad)


def _sigmoid_grad(grad: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """SigmoidBackward0: sigmoid_backward(grad, result)."""
    return torch.ops.aten.sigmoid_backward.grad_input(grad, output, grad_input=grad)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", nn.ReLU, torch.relu, "relu", torch.relu_, _relu_grad),
        Activation("tanh", nn.Tanh, torch.tanh, "tanh", torch.tanh_, _tanh_grad),
        Activation("sigmoid", nn.Sigmoid, torch.sigmoid, "sigmoid", torch.sigmoid_, _sigmoid_grad),
        Activation("leaky_relu", nn.LeakyReLU, F.leaky_relu, "leaky_relu"),
        Activation("gelu", nn.GELU, F.gelu, "relu"),
        Activation("selu", nn.SELU, F.selu, "selu"),
    )
}


def get_activation(name: str) -> Activation:
    """Return the registered activation ``name``; unknown names raise a ``ValueError`` listing the valid ones."""
    return lookup(ACTIVATIONS, name, "activation")
