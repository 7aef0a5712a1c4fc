"""Initialization-scheme registry.

Every scheme rewrites the ``nn.Linear`` layers of a model in place, drawing only from the
``torch.Generator`` it is handed (never from torch's global RNG), layer by layer in model order.
That rule is what makes a stacked run draw exactly the same weights as a lone run, and what lets
the study seed every configuration on its own (see ``initlab.engine.seeding``).

Biases are zeroed by every scheme except ``default``, as in the lesson.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from initlab.engine.activations import Activation
from initlab.engine.registry import lookup

LayerInit = Callable[[torch.Tensor, Activation, torch.Generator], None]
#: Var of one weight entry as a scheme draws it, from (fan_in, fan_out, activation); None when
#: the scheme is data-dependent. Read by the theory (``initlab.engine.theory``).
WeightVariance = Callable[[int, int, Activation], "float | None"]

# LSUV (Mishkin & Matas 2015): stop rescaling a layer once its output variance is this close to 1 ...
LSUV_TOLERANCE = 0.1
# ... or after this many rescaling tries.
LSUV_MAX_TRIES = 10


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The model's ``nn.Linear`` layers in forward order."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def default_linear_init(layer: nn.Linear, generator: torch.Generator) -> None:
    """PyTorch's own ``nn.Linear.reset_parameters`` (torch 2.13), drawing from ``generator``.

    Same calls in the same order as the library's, so a generator seeded like the global RNG
    reproduces ``torch.manual_seed(s); nn.Linear(...)`` bit for bit.
    """
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    fan_in = layer.weight.shape[1]
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def _zeros(w: torch.Tensor, act: Activation, g: torch.Generator) -> None:
    nn.init.zeros_(w)


def _tiny(w: torch.Tensor, act: Activation, g: torch.Generator) -> None:
    nn.init.normal_(w, 0.0, 0.01, generator=g)


def _large(w: torch.Tensor, act: Activation, g: torch.Generator) -> None:
    nn.init.normal_(w, 0.0, 1.0, generator=g)


def _xavier(w: torch.Tensor, act: Activation, g: torch.Generator) -> None:
    nn.init.xavier_normal_(w, generator=g)


def _xavier_uniform(w: torch.Tensor, act: Activation, g: torch.Generator) -> None:
    nn.init.xavier_uniform_(w, generator=g)


def _he(w: torch.Tensor, act: Activation, g: torch.Generator) -> None:
    # The lesson's call: He/Kaiming for ReLU whatever the activation, which is the point of Exercise 2.
    nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu", generator=g)


def _he_uniform(w: torch.Tensor, act: Activation, g: torch.Generator) -> None:
    nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu", generator=g)


def _lecun(w: torch.Tensor, act: Activation, g: torch.Generator) -> None:
    nn.init.normal_(w, 0.0, 1.0 / math.sqrt(w.shape[1]), generator=g)


def _orthogonal(w: torch.Tensor, act: Activation, g: torch.Generator) -> None:
    nn.init.orthogonal_(w, gain=act.gain(), generator=g)


def _orthonormal(w: torch.Tensor, act: Activation, g: torch.Generator) -> None:
    nn.init.orthogonal_(w, gain=1.0, generator=g)


def lsuv_rescale(model: nn.Sequential, batch: torch.Tensor) -> list[float]:
    """Rescale each Linear layer, in order, until its output variance on ``batch`` is within
    ``LSUV_TOLERANCE`` of 1 (at most ``LSUV_MAX_TRIES`` tries per layer).

    Walks the ``nn.Sequential`` once, carrying the batch forward, so the cost is one forward
    pass plus the retries, not one forward pass per layer. Returns each layer's final variance.
    """
    variances = []
    h = batch
    with torch.no_grad():
        for module in model:
            out = module(h)
            if isinstance(module, nn.Linear):
                for _ in range(LSUV_MAX_TRIES):
                    var = out.var().item()
                    if not math.isfinite(var) or var == 0.0 or abs(var - 1.0) < LSUV_TOLERANCE:
                        break
                    module.weight.div_(math.sqrt(var))
                    out = module(h)
                variances.append(out.var().item())
            h = out
    return variances


@dataclass(frozen=True)
class InitScheme:
    """A named initialization: how each Linear weight is drawn, and whether data rescales it after."""

    name: str
    description: str
    weight_init: LayerInit | None  # None: keep PyTorch's default draw (weights and biases)
    data_dependent: bool = False  # True: rescaled on a data batch after the weight draw (LSUV)
    # Var of one weight entry; stated next to each definition below so theory and draw agree.
    weight_var: WeightVariance = lambda fan_in, fan_out, act: None

    def weight_variance(self, fan_in: int, fan_out: int, activation: Activation) -> float | None:
        """Var of one weight entry as this scheme draws it; None when data decide it (LSUV)."""
        return None if self.data_dependent else self.weight_var(fan_in, fan_out, activation)

    def bias_variance(self, fan_in: int, fan_out: int) -> float:
        """Var of one bias entry: PyTorch's default draws U(+-1/sqrt(fan_in)); every other scheme zeroes biases."""
        return 1.0 / (3.0 * fan_in) if self.weight_init is None else 0.0

    def apply(
        self,
        model: nn.Sequential,
        activation: Activation,
        generator: torch.Generator,
        batch: torch.Tensor | None = None,
    ) -> None:
        """Initialize ``model`` in place (weights in layer order, then biases zeroed)."""
        if self.weight_init is None:
            return
        if self.data_dependent and batch is None:
            raise ValueError(f"init {self.name!r} needs a data batch")
        with torch.no_grad():
            for layer in linear_layers(model):
                self.weight_init(layer.weight, activation, generator)
                nn.init.zeros_(layer.bias)
        if self.data_dependent:
            lsuv_rescale(model, batch)


INITS: dict[str, InitScheme] = {
    s.name: s
    for s in (
        # U(+-b) has variance b^2/3; kaiming_uniform(a=sqrt(5)) has b = 1/sqrt(fan_in).
        InitScheme(
            "default",
            "PyTorch's nn.Linear default (kaiming_uniform a=sqrt(5), uniform bias)",
            None,
            weight_var=lambda fi, fo, act: 1.0 / (3.0 * fi),
        ),
        InitScheme("zeros", "all weights 0", _zeros, weight_var=lambda fi, fo, act: 0.0),
        InitScheme("tiny", "N(0, 0.01^2)", _tiny, weight_var=lambda fi, fo, act: 1e-4),
        InitScheme("large", "N(0, 1)", _large, weight_var=lambda fi, fo, act: 1.0),
        InitScheme(
            "xavier",
            "xavier_normal_: N(0, 2/(fan_in+fan_out))",
            _xavier,
            weight_var=lambda fi, fo, act: 2.0 / (fi + fo),
        ),
        InitScheme("he", "kaiming_normal_(fan_in, relu): N(0, 2/fan_in)", _he, weight_var=lambda fi, fo, act: 2.0 / fi),
        InitScheme(
            "xavier_uniform",
            "xavier_uniform_: U(+-sqrt(6/(fan_in+fan_out)))",
            _xavier_uniform,
            weight_var=lambda fi, fo, act: 2.0 / (fi + fo),
        ),
        InitScheme(
            "he_uniform",
            "kaiming_uniform_(fan_in, relu): U(+-sqrt(6/fan_in))",
            _he_uniform,
            weight_var=lambda fi, fo, act: 2.0 / fi,
        ),
        InitScheme("lecun", "N(0, 1/fan_in)", _lecun, weight_var=lambda fi, fo, act: 1.0 / fi),
        # A (fan_out x fan_in) matrix with orthonormal rows or columns, times the gain: its
        # fan_in * fan_out squared entries sum to gain^2 * min(fan_in, fan_out).
        InitScheme(
            "orthogonal",
            "orthogonal_ with gain calculate_gain(activation)",
            _orthogonal,
            weight_var=lambda fi, fo, act: act.gain() ** 2 / max(fi, fo),
        ),
        InitScheme(
            "lsuv",
            "LSUV: orthonormal, then each layer rescaled to unit output variance on a data batch",
            _orthonormal,
            data_dependent=True,
        ),
    )
}


def get_init(name: str) -> InitScheme:
    """Return the registered scheme ``name``; unknown names raise a ``ValueError`` listing the valid ones."""
    return lookup(INITS, name, "init")
