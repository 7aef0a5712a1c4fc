"""Initialization-scheme registry.

Every scheme rewrites the weighted layers of a model in place (every ``nn.Linear`` and
``nn.Conv1d/2d/3d``, :func:`weighted_layers`), drawing only from the ``torch.Generator`` it is
handed (never from torch's global RNG), layer by layer in model order. A layer's fans are torch's
own (``nn.init._calculate_fan_in_and_fan_out``): for a Linear (out, in) they are in and out; for a
convolution fan_in = in_channels/groups x kernel size and fan_out = out_channels x kernel size
(torch reads the weight (out, in/groups, *kernel) and does not divide fan_out by the groups;
the same fans as ``kaiming_normal_`` and ``xavier_normal_`` use, so the built-ins draw what those
calls draw). Other parameters (normalization layers, embeddings) keep PyTorch's init.
That rule is what makes a stacked run draw exactly the same weights as a lone run, and what lets
the study seed every configuration on its own (see ``initlab.engine.seeding``).

Biases are zeroed by every scheme except ``default``, as in the lesson (a layer built with
``bias=False`` has none to zero).

Every scheme is an instance of a parametric *kind* (``initlab.engine.initspec``): ``tiny`` is
``normal`` with std 0.01, ``he`` is ``fan_in`` with variance 2/fan_in, and so on. Built-in and
config-defined (``custom_inits``) schemes take one code path, :data:`KIND_DRAWS`; the built-ins'
weights are bit-identical to the direct ``nn.init`` calls they replaced (tests/engine/test_inits.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from initlab.engine import initspec
from initlab.engine.activations import Activation
from initlab.engine.initspec import BUILTIN_SPECS, InitSpec, parse_custom_init
from initlab.engine.registry import lookup

#: One kind's draw: (weight, activation, generator, the spec's parameters) -> None, in place.
KindDraw = Callable[[torch.Tensor, Activation, torch.Generator, Mapping[str, Any]], None]

# LSUV (Mishkin & Matas 2015): stop rescaling a layer once its output variance is this close to 1 ...
LSUV_TOLERANCE = 0.1
# ... or after this many rescaling tries.
LSUV_MAX_TRIES = 10


#: Layers a scheme draws: Linear and the (non-transposed) convolutions, whose weight is
#: (out, in / groups, *kernel) so torch's fan rule reads it right. A transposed convolution's
#: weight is (in, out / groups, *kernel): torch's fan rule swaps its fans, so it keeps its own init.
WEIGHTED_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)

#: The forward RNG of LSUV's measuring passes through a user's model (dropout draws from torch's
#: global RNG): seeded with this inside ``torch.random.fork_rng``, so the rescaling does not depend
#: on, nor change, the process's global RNG.
LSUV_FORWARD_SEED = 0


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The model's ``nn.Linear`` layers in forward order."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def weighted_layers(model: nn.Module) -> list[nn.Module]:
    """The layers every scheme draws (:data:`WEIGHTED_LAYERS`), in module order (the order they
    were assigned, which for ``nn.Sequential`` and most models is forward order)."""
    return [m for m in model.modules() if isinstance(m, WEIGHTED_LAYERS)]


def default_linear_init(layer: nn.Linear, generator: torch.Generator) -> None:
    """PyTorch's own ``nn.Linear.reset_parameters`` (torch 2.13), drawing from ``generator``.

    Same calls in the same order as the library's, so a generator seeded like the global RNG
    reproduces ``torch.manual_seed(s); nn.Linear(...)`` bit for bit.
    """
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    fan_in = layer.weight.shape[1]
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def _fan_std(w: torch.Tensor, mode: str, scale: float) -> float:
    """Std of variance ``scale / fan``, computed exactly as torch's xavier/kaiming calls compute it.

    The arithmetic (not just the value) matches: ``he`` = ``kaiming_normal_``'s
    ``sqrt(2) / sqrt(fan_in)``, ``xavier`` = ``xavier_normal_``'s ``1.0 * sqrt(2 / (fan_in + fan_out))``,
    ``lecun`` = ``1 / sqrt(fan_in)``; so the built-ins defined through this kind draw bit-identical weights.
    """
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(w)  # a Linear's (out, in): in, out
    if mode == "fan_avg":
        return math.sqrt(scale) * math.sqrt(2.0 / float(fan_in + fan_out))
    return math.sqrt(scale) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def _draw_fan(mode: str) -> KindDraw:
    def draw(w: torch.Tensor, act: Activation, g: torch.Generator, p: Mapping[str, Any]) -> None:
        std = _fan_std(w, mode, p["scale"])
        if p.get("distribution", "normal") == "uniform":
            bound = math.sqrt(3.0) * std  # U(+-sqrt(3) std) has variance std^2 (torch's own formula)
            nn.init.uniform_(w, -bound, bound, generator=g)
        else:
            nn.init.normal_(w, 0.0, std, generator=g)

    return draw


def _draw_scaled(w: torch.Tensor, act: Activation, g: torch.Generator, p: Mapping[str, Any]) -> None:
    base = BUILTIN_SPECS[p["base"]]
    KIND_DRAWS[base.kind](w, act, g, base.p)
    w.mul_(p["factor"])


#: How each kind of ``initlab.engine.initspec.KINDS`` draws one weight matrix (in place, from ``g``).
#: ``default`` has none (PyTorch's own draw is kept); ``lsuv`` draws orthonormal, then rescales on data.
KIND_DRAWS: dict[str, KindDraw] = {
    "zeros": lambda w, act, g, p: nn.init.zeros_(w),
    "normal": lambda w, act, g, p: nn.init.normal_(w, 0.0, p["std"], generator=g),
    "uniform": lambda w, act, g, p: nn.init.uniform_(w, -p["bound"], p["bound"], generator=g),
    **{mode: _draw_fan(mode) for mode in ("fan_in", "fan_out", "fan_avg")},
    "orthogonal": lambda w, act, g, p: nn.init.orthogonal_(w, gain=p.get("gain", act.gain()), generator=g),
    "scaled": _draw_scaled,
    "lsuv": lambda w, act, g, p: nn.init.orthogonal_(w, gain=1.0, generator=g),
}


def lsuv_rescale(model: nn.Module, batch: torch.Tensor) -> list[float]:
    """Rescale each weighted layer (:func:`weighted_layers`), in order, until its output variance
    on ``batch`` is within ``LSUV_TOLERANCE`` of 1 (at most ``LSUV_MAX_TRIES`` tries per layer).

    A layer's output variance is that of every element of its output on the batch (for a
    convolution: over samples, channels and positions), with the layers before it already
    rescaled. Returns each layer's final variance.

    An ``nn.Sequential`` whose weighted layers are all its own children (the lesson's networks,
    a plain CNN) is walked once, carrying the batch forward: one forward pass plus the retries.
    Any other model is measured through a forward hook on the layer, one forward pass per try,
    stopped at that layer: the same operations on the same operands, so the same numbers on a
    Sequential. The measuring passes run inside ``torch.random.fork_rng`` seeded with
    :data:`LSUV_FORWARD_SEED`, and the model's buffers (BatchNorm's running statistics) are
    put back afterwards, so LSUV changes only the weights.
    """
    layers = weighted_layers(model)
    direct = isinstance(model, nn.Sequential) and all(any(m is c for c in model.children()) for m in layers)
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(LSUV_FORWARD_SEED)
            return _lsuv_walk(model, batch) if direct else [_lsuv_hooked(model, layer, batch) for layer in layers]
    finally:
        with torch.no_grad():
            for b, copy in saved_buffers:
                b.copy_(copy)


def _lsuv_done(var: float) -> bool:
    return not math.isfinite(var) or var == 0.0 or abs(var - 1.0) < LSUV_TOLERANCE


def _lsuv_walk(model: nn.Sequential, batch: torch.Tensor) -> list[float]:
    variances = []
    h = batch
    for module in model:
        out = module(h)
        if isinstance(module, WEIGHTED_LAYERS):
            for _ in range(LSUV_MAX_TRIES):
                var = out.var().item()
                if _lsuv_done(var):
                    break
                module.weight.div_(math.sqrt(var))
                out = module(h)
            variances.append(out.var().item())
        h = out
    return variances


class _Reached(Exception):
    """Raised by LSUV's hook once the measured layer has run: the rest of the pass is not needed."""


def _output_variance(model: nn.Module, layer: nn.Module, batch: torch.Tensor) -> float:
    """Variance of ``layer``'s output (its first call) in a forward pass of ``model`` on ``batch``."""
    seen: list[float] = []

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        seen.append(output.var().item())
        raise _Reached

    handle = layer.register_forward_hook(hook)
    try:
        model(batch)
    except _Reached:
        pass
    finally:
        handle.remove()
    if not seen:
        raise ValueError(f"lsuv: the layer {layer} did not run in the model's forward pass")
    return seen[0]


def _lsuv_hooked(model: nn.Module, layer: nn.Module, batch: torch.Tensor) -> float:
    var = _output_variance(model, layer, batch)
    for _ in range(LSUV_MAX_TRIES):
        if _lsuv_done(var):
            break
        layer.weight.div_(math.sqrt(var))
        var = _output_variance(model, layer, batch)
    return var


@dataclass(frozen=True)
class InitScheme:
    """A named initialization: an :class:`~initlab.engine.initspec.InitSpec` (kind + parameters).

    Built-in and config-defined (``custom_inits``) schemes are the same thing and take the same
    code path: the kind's draw from :data:`KIND_DRAWS`, biases zeroed (except ``default``), and
    for ``lsuv`` the data rescaling after.
    """

    name: str
    description: str
    spec: InitSpec

    @property
    def data_dependent(self) -> bool:
        """True: rescaled on a data batch after the weight draw (LSUV)."""
        return self.spec.kind == "lsuv"

    def weight_variance(self, fan_in: int, fan_out: int, activation: Activation) -> float | None:
        """Var of one weight entry as the scheme draws it; None when data-dependent (lsuv)."""
        return initspec.weight_variance(self.spec, fan_in, fan_out, activation)

    def bias_variance(self, fan_in: int, fan_out: int) -> float:
        """Var of one bias entry: 1/(3 fan_in) for ``default`` (PyTorch's U(+-1/sqrt(fan_in))), else 0."""
        return initspec.bias_variance(self.spec, fan_in, fan_out)

    def apply(
        self,
        model: nn.Module,
        activation: Activation,
        generator: torch.Generator,
        batch: torch.Tensor | None = None,
    ) -> None:
        """Initialize ``model`` in place: each weighted layer's weight drawn, in layer order, and its
        bias zeroed; for ``lsuv`` the data rescaling after (:func:`lsuv_rescale`)."""
        if self.spec.kind == "default":
            return  # keep PyTorch's default draw (weights and biases)
        if self.data_dependent and batch is None:
            raise ValueError(f"init {self.name!r} needs a data batch")
        draw, params = KIND_DRAWS[self.spec.kind], self.spec.p
        with torch.no_grad():
            for layer in weighted_layers(model):
                draw(layer.weight, activation, generator, params)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
        if self.data_dependent:
            lsuv_rescale(model, batch)


_DESCRIPTIONS = {
    "default": "PyTorch's nn.Linear default (kaiming_uniform a=sqrt(5), uniform bias)",
    "zeros": "all weights 0",
    "tiny": "N(0, 0.01^2)",
    "large": "N(0, 1)",
    "xavier": "xavier_normal_: N(0, 2/(fan_in+fan_out))",
    "he": "kaiming_normal_(fan_in, relu): N(0, 2/fan_in)",
    "xavier_uniform": "xavier_uniform_: U(+-sqrt(6/(fan_in+fan_out)))",
    "he_uniform": "kaiming_uniform_(fan_in, relu): U(+-sqrt(6/fan_in))",
    "lecun": "N(0, 1/fan_in)",
    "orthogonal": "orthogonal_ with gain calculate_gain(activation)",
    "lsuv": "LSUV: orthonormal, then each layer rescaled to unit output variance on a data batch",
}

INITS: dict[str, InitScheme] = {name: InitScheme(name, _DESCRIPTIONS[name], s) for name, s in BUILTIN_SPECS.items()}


def get_init(name: str) -> InitScheme:
    """Return the registered scheme ``name``; unknown names raise a ``ValueError`` listing the valid ones."""
    return lookup(INITS, name, "init")


def custom_scheme(name: str, definition: Mapping[str, Any]) -> InitScheme:
    """A config-defined scheme (checked by :func:`initlab.engine.initspec.parse_custom_init`)."""
    s = parse_custom_init(name, definition)
    return InitScheme(name, initspec.describe(s), s)


@contextmanager
def custom_inits(definitions: Mapping[str, Any] | str | None) -> Iterator[list[InitScheme]]:
    """Register a config's ``custom_inits`` (a mapping, or its JSON) in :data:`INITS` for the block.

    A job gets them with its job description (``initlab job --job``) and resolves every init by
    name as usual inside this block; the registry is restored after, so tests stay independent.
    """
    if isinstance(definitions, str):
        definitions = json.loads(definitions) if definitions.strip() else {}
    schemes = [custom_scheme(name, d) for name, d in (definitions or {}).items()]
    added = [s.name for s in schemes]
    INITS.update({s.name: s for s in schemes})
    try:
        yield schemes
    finally:
        for name in added:
            INITS.pop(name, None)
