"""Inspect your own model: the lesson's signal probe and debugging checklist on any ``nn.Module``.

:func:`inspect` runs one forward and one backward pass through a user's model with forward
hooks on its leaf modules (tensor hooks on their outputs catch the backward signal) and returns
one row per leaf-module call with the statistics of ``signal_probe.csv``, judged by the study's
own failure criteria (``initlab.engine.health``), plus:

- the lesson's quick debugging probe on the model's output (mean, std, all finite);
- an *init check* for every Linear/Conv layer whose next leaf module is an activation: the
  measured ``sigma_w2 = Var(w) * fan_in`` against the critical value the mean-field theory asks
  for that activation (``initlab.engine.theory``), the predicted gain per layer, and the
  registry scheme that would fit. A normalization layer right after resets the scale, so no
  gain is predicted through it.

The user's model is left as it was: hooks are removed, parameters' ``.grad`` and every buffer
(BatchNorm running statistics) are restored, torch's global RNG (dropout draws from it) is put
back, and train/eval mode is not touched. Plain dataclasses out, no pandas: the report stage
turns them into tables, pages and figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from initlab.engine import health, theory
from initlab.engine.activations import ACTIVATIONS
from initlab.engine.health import EXPLODED_STD
from initlab.engine.inits import INITS
from initlab.engine.probe import tensor_stats  # the probe's statistics, one implementation
from initlab.engine.seeding import derive_seed, generator

#: The probe loss's direction r is drawn from ``derive_seed(seed, LOSS_LABEL)``.
LOSS_LABEL = "inspect-direction"
#: The study's deepest probe network (config ``probe.depths`` ends at 50).
DEEPEST_PROBE = 50
#: Per-layer gain beyond which an init check says "shrinks"/"grows": the gain at which a stack
#: as deep as the study's deepest probe crosses EXPLODED_STD (or, inverted, VANISHED_STD) from
#: unit scale: 1000 ** (1/50) = 1.148. Closer to 1 than this, depth alone cannot break the
#: signal within the study's range.
GAIN_TOLERANCE = EXPLODED_STD ** (1 / DEEPEST_PROBE)
#: Who asks for each activation's critical sigma_w2 (the name in the init-check sentence).
CRITICAL_NAMES: dict[str, str] = {
    "relu": "He",
    "leaky_relu": "He",
    "gelu": "criticality",
    "tanh": "LeCun",
    "selu": "LeCun",
    "sigmoid": "criticality",
}

#: Module class -> activation registry name (the activations the theory knows).
ACTIVATION_OF_MODULE: dict[type[nn.Module], str] = {a.module: a.name for a in ACTIVATIONS.values()}
#: Layers that rescale their input to unit scale: no gain is predicted through them.
NORMALIZATIONS: tuple[type[nn.Module], ...] = tuple(
    cls
    for cls in (
        nn.modules.batchnorm._NormBase,  # BatchNorm*, InstanceNorm*, SyncBatchNorm
        nn.LayerNorm,
        nn.GroupNorm,
        getattr(nn, "RMSNorm", None),
        nn.LocalResponseNorm,
    )
    if cls is not None
)

Loss = Callable[[object], torch.Tensor]


def activation_name(module: nn.Module) -> str | None:
    """The registry name of ``module``'s activation (subclasses count), None if it is none of them."""
    return next((ACTIVATION_OF_MODULE[c] for c in type(module).__mro__ if c in ACTIVATION_OF_MODULE), None)


class InspectError(ValueError):
    """A user's mistake (a model that cannot run, no layers to hook): one line, no traceback."""


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerRow:
    """One call of one leaf module: its output's statistics and gradients, and the verdict.

    ``grad_norm`` is ||dL/dW|| of the module's own ``weight`` (summed over every call of a
    module used more than once); ``act_grad_norm`` is ||dL/dh|| of this call's output h.
    """

    call: int
    path: str
    type: str
    activation: str  # registry name when the module is a known activation, else ""
    shape: str
    mean: float
    std: float
    zero_ratio: float
    saturated_ratio: float
    nonfinite_ratio: float
    grad_norm: float
    act_grad_norm: float
    failures: tuple[str, ...]

    @property
    def verdict(self) -> str:
        return ", ".join(self.failures) if self.failures else "ok"

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["failures"] = list(self.failures)
        d["verdict"] = self.verdict
        return d


@dataclass(frozen=True)
class InitCheck:
    """A Linear/Conv layer followed by an activation (or a normalization), against the theory.

    ``sigma_w2`` = measured Var(w) * fan_in; ``sigma_b2`` = measured Var(b); ``critical`` = the
    activation's critical sigma_w2; ``gain`` = sqrt(sigma_w2 / critical), the small-signal
    forward gain per layer of a stack of such layers; ``gain_at_q`` = ``theory.layer_gain`` at
    this layer's measured pre-activation variance ``q`` (with the measured bias). ``status`` is
    ok / shrinks / grows / normalized; ``suggestion`` a registry scheme name or "".
    """

    path: str
    type: str
    fan_in: int
    fan_out: int
    next_path: str
    next_type: str
    activation: str
    sigma_w2: float
    sigma_b2: float
    critical: float
    gain: float
    q: float
    gain_at_q: float
    status: str
    suggestion: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class OutputStats:
    """The lesson's quick debugging probe on one model output (plus the study's criteria)."""

    name: str
    shape: str
    mean: float
    std: float
    all_finite: bool
    failures: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["failures"] = list(self.failures)
        return d


@dataclass(frozen=True)
class Inspection:
    """What :func:`inspect` found: per-layer rows, init checks, outputs and the model's verdict."""

    rows: list[LayerRow]
    checks: list[InitCheck]
    outputs: list[OutputStats]
    gradient_ratio: float
    failures: tuple[str, ...]
    loss: str
    notes: list[str] = field(default_factory=list)

    @property
    def failing_rows(self) -> list[LayerRow]:
        return [r for r in self.rows if r.failures]

    @property
    def healthy(self) -> bool:
        return not self.failures and not self.failing_rows

    @property
    def verdict(self) -> str:
        return "healthy" if self.healthy else "problems found"

    def summary(self) -> str:
        """One sentence: the model's verdict and where the first problem is."""
        bad = self.failing_rows
        parts = []
        if self.healthy:
            parts.append("no layer vanished, exploded, saturated, went non-finite or lost its gradient")
        if self.failures:
            parts.append("model: " + ", ".join(self.failures))
        if bad:
            first = bad[0]
            parts.append(f"{len(bad)} of {len(self.rows)} layer calls fail, first {first.path} ({first.verdict})")
        off = [c for c in self.checks if c.status in ("shrinks", "grows")]
        if off:
            fixes = sorted({c.suggestion for c in off if c.suggestion})
            hint = f" (try {', '.join(f'`{f}`' for f in fixes)})" if fixes else ""
            parts.append(f"the init of {len(off)} of {len(self.checks)} checked layers is off criticality{hint}")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "healthy": self.healthy,
            "verdict": self.verdict,
            "summary": self.summary(),
            "failures": list(self.failures),
            "gradient_ratio": self.gradient_ratio,
            "loss": self.loss,
            "outputs": [o.as_dict() for o in self.outputs],
            "layers": [r.as_dict() for r in self.rows],
            "init_checks": [c.as_dict() for c in self.checks],
            "notes": list(self.notes),
        }


#: Columns of the per-layer table (CSV, HTML), in order.
LAYER_COLUMNS = [
    "call", "path", "type", "activation", "shape", "mean", "std", "zero_ratio", "saturated_ratio", "nonfinite_ratio",
    "grad_norm", "act_grad_norm", "verdict",
]


# --------------------------------------------------------------------------------------------
# Statistics and criteria
# --------------------------------------------------------------------------------------------


def signal_failures(stats: dict[str, float], activation: str | None) -> tuple[str, ...]:
    """The study's forward failure rules (``initlab.engine.health.FAILURE_RULES``) on one output.

    Unlike the study, which stops at the first match, every failing rule is named. No gradient
    ratio is given, so "gradient vanished" is not asked here: see :func:`gradient_failures`.
    """
    return health.failures(
        std=stats["std"],
        nonfinite_ratio=stats["nonfinite_ratio"],
        saturated_ratio=stats["saturated_ratio"],
        activation=activation,
    )


def gradient_failures(grad_norm: float, top: float) -> tuple[str, ...]:
    """The backward rule on ``grad_norm`` / ``top`` (||dL/dh|| here over the top's): ("gradient vanished",) or ().

    With no gradient at the top (0, or NaN: no backward pass) the ratio is NaN, which the rule
    does not count as vanished: there is no signal entering that could have been lost.
    """
    return health.failures(grad_ratio=_ratio(grad_norm, top))


def _ratio(num: float, den: float) -> float:
    """num / den where den > 0, else NaN (Python floats raise on / 0)."""
    return num / den if den > 0 else math.nan


def _shape(t: torch.Tensor) -> str:
    return "x".join(str(s) for s in t.shape) or "scalar"


def _tensors(value: object, name: str = "output") -> Iterator[tuple[str, torch.Tensor]]:
    """Every floating tensor in a (nested) tuple, list or dict output, with a readable name."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point():
            yield name, value
    elif isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            yield from _tensors(v, f"{name}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _tensors(v, f"{name}[{k!r}]")


def probe_loss(output: object, seed: int = 0) -> torch.Tensor:
    """The study's probe loss: sum over the outputs of mean over the batch of <output, r>, r ~ N(0, 1).

    A unit-scale gradient enters every output whatever its own scale (``engine.probe``); r is
    drawn from a generator seeded with ``derive_seed(seed, LOSS_LABEL)``, one output after another.
    """
    gen = generator(derive_seed(seed, LOSS_LABEL))
    total = None
    for _, out in _tensors(output):
        direction = torch.randn(out.shape, generator=gen, dtype=out.dtype).to(out.device)
        term = (out * direction).sum() / (out.shape[0] if out.dim() else 1)
        total = term if total is None else total + term
    if total is None:
        raise InspectError("the model's output holds no floating-point tensor to put a loss on")
    return total


# --------------------------------------------------------------------------------------------
# Init check
# --------------------------------------------------------------------------------------------


def _is_weighted(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or (
        isinstance(module, nn.modules.conv._ConvNd) and not module.transposed
    )


def fans(weight: torch.Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) as torch's init functions count them (conv: channels x kernel size)."""
    return nn.init._calculate_fan_in_and_fan_out(weight)


def fitting_scheme(fan_in: int, fan_out: int, activation: str) -> tuple[str, float]:
    """The registry scheme whose sigma_w2 is closest (in log scale) to the activation's critical value
    for this layer's fans, and its small-signal gain; ("", nan) when no scheme has one.

    Asks each scheme's ``InitScheme.weight_variance`` (contract A), so custom schemes count too;
    the first in registry order wins a tie (``he`` before ``he_uniform``).
    """
    critical = theory.critical_sigma_w2(activation)
    best, best_gain = "", math.nan
    for name, scheme in INITS.items():
        var = scheme.weight_variance(fan_in, fan_out, ACTIVATIONS[activation])  # contract A
        if var is None or var <= 0:
            continue
        gain = math.sqrt(var * fan_in / critical)
        if not best or abs(math.log(gain)) < abs(math.log(best_gain)) - 1e-12:
            best, best_gain = name, gain
    return best, best_gain


def _variance(t: torch.Tensor | None) -> float:
    if t is None or t.numel() < 2:
        return 0.0
    with torch.no_grad():
        return t.detach().double().var(unbiased=False).item()


def init_check(
    path: str, module: nn.Module, q: float, next_path: str, next_module: nn.Module
) -> InitCheck | None:
    """The init check of one Linear/Conv layer given its next leaf module (None: nothing to check)."""
    activation = activation_name(next_module)
    normalized = isinstance(next_module, NORMALIZATIONS)
    if activation is None and not normalized:
        return None
    fan_in, fan_out = fans(module.weight)
    sigma_w2 = _variance(module.weight) * fan_in
    sigma_b2 = _variance(getattr(module, "bias", None))
    kind = type(module).__name__
    width = (
        f"{module.in_features}→{module.out_features}"
        if isinstance(module, nn.Linear)
        else f"{module.in_channels}→{module.out_channels}"
    )
    head = f"{path}: {kind} {width} then {type(next_module).__name__}: Var(w)·fan_in = {sigma_w2:.2g}"
    nan = math.nan
    if normalized:
        return InitCheck(
            path, kind, fan_in, fan_out, next_path, type(next_module).__name__, "", sigma_w2, sigma_b2,
            nan, nan, q, nan, "normalized", "",
            f"{head}: the normalization resets the scale, so the init sets no per-layer gain here",
        )
    critical = theory.critical_sigma_w2(activation)
    gain = math.sqrt(sigma_w2 / critical)
    gain_at_q = theory.layer_gain(activation, sigma_w2, sigma_b2, q) if q > 0 and math.isfinite(q) else nan
    who = CRITICAL_NAMES.get(activation, "criticality")
    head += f", {who} asks {critical:.2g}"
    if gain == 0:
        status, verb = "shrinks", "the signal is cut to 0 in every layer"
    elif gain < 1 / GAIN_TOLERANCE:
        status, verb = "shrinks", f"the signal shrinks ×{gain:.2g} per layer"
    elif gain > GAIN_TOLERANCE:
        status, verb = "grows", f"the signal grows ×{gain:.2g} per layer"
    else:
        status, verb = "ok", f"gain ×{gain:.2g} per layer, fine"
    suggestion, fit_gain = ("", nan)
    if status != "ok":
        suggestion, fit_gain = fitting_scheme(fan_in, fan_out, activation)
        if suggestion and abs(math.log(fit_gain)) <= math.log(GAIN_TOLERANCE):
            verb += f"; try `{suggestion}`"
        else:
            std = math.sqrt(critical / fan_in)
            verb += f"; no registry scheme fits, draw w with std {std:.2g} (= sqrt({critical:.2g}/fan_in))"
            suggestion = ""
    return InitCheck(
        path, kind, fan_in, fan_out, next_path, type(next_module).__name__, activation, sigma_w2, sigma_b2,
        critical, gain, q, gain_at_q, status, suggestion, f"{head}: {verb}",
    )


# --------------------------------------------------------------------------------------------
# The pass
# --------------------------------------------------------------------------------------------


def leaf_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules without children, by path; the root itself counts only if it is one of torch's layers."""
    leaves = [(name, m) for name, m in model.named_modules() if name and not any(True for _ in m.children())]
    if not leaves and type(model).__module__.startswith("torch.nn"):
        leaves = [(type(model).__name__, model)]
    return leaves


@dataclass
class _Call:
    path: str
    module: nn.Module
    shape: str
    stats: dict[str, float]
    grad_norm: float = math.nan


def _as_args(inputs: torch.Tensor | Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    return (inputs,) if isinstance(inputs, torch.Tensor) else tuple(inputs)


def _shapes(args: tuple[torch.Tensor, ...]) -> str:
    return ", ".join(_shape(a) if isinstance(a, torch.Tensor) else type(a).__name__ for a in args)


def inspect(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    loss: Loss | None = None,
    seed: int = 0,
) -> Inspection:
    """One forward and one backward pass of ``model(*inputs)``, hooked at every leaf module.

    ``loss`` maps the model's output to a scalar; without one, :func:`probe_loss` (the study's
    fixed random projection, seeded by ``seed``). Raises :class:`InspectError` for a model with
    no leaf modules and for inputs the model rejects (quoting its error).
    """
    leaves = leaf_modules(model)
    if not leaves:
        raise InspectError(
            f"the model ({type(model).__name__}) has no leaf modules to hook: build it from torch.nn layers "
            "(nn.Linear, nn.Conv2d, nn.ReLU, ...) rather than functional calls on raw parameters"
        )
    args = _as_args(inputs)
    calls: list[_Call] = []
    seen: dict[str, int] = {}

    def forward_hook(path: str) -> Callable:
        def hook(module: nn.Module, _inputs: tuple, output: object) -> None:
            first = next(_tensors(output), None)
            if first is None:
                return
            seen[path] = seen.get(path, 0) + 1
            name = path if seen[path] == 1 else f"{path}#{seen[path]}"
            call = _Call(name, module, _shape(first[1]), tensor_stats(first[1]))
            calls.append(call)
            if first[1].requires_grad:
                def grad_hook(grad: torch.Tensor, call: _Call = call) -> None:
                    call.grad_norm = grad.norm().item()

                # Removed afterwards too: an output can be a tensor the user keeps (nn.Identity on an input).
                handles.append(first[1].register_hook(grad_hook))

        return hook

    # Parameters and any input that collects a gradient: their .grad is put back afterwards.
    params = list(model.parameters()) + [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad and a.is_leaf]
    saved_grads = [p.grad for p in params]
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
    handles: list[torch.utils.hooks.RemovableHandle] = []
    handles += [m.register_forward_hook(forward_hook(path)) for path, m in leaves]
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    notes: list[str] = []
    try:
        with torch.random.fork_rng(devices=devices), torch.enable_grad():
            for p in params:
                p.grad = None
            try:
                output = model(*args)
            except Exception as err:  # the model's own error, quoted
                raise InspectError(
                    f"the model rejected inputs of shape {_shapes(args)}: {type(err).__name__}: {_first_line(err)}"
                ) from None
            if not calls:
                raise InspectError(
                    f"none of the model's {len(leaves)} leaf modules ran in the forward pass: nothing to inspect"
                )
            value = probe_loss(output, seed) if loss is None else _user_loss(loss, output)
            if value.requires_grad:
                value.backward()
            else:
                notes.append("the loss does not depend on any parameter: no backward pass, gradient columns empty")
            weight_grads = {
                id(m): m.weight.grad.norm().item()
                for _, m in leaves
                if isinstance(getattr(m, "weight", None), torch.Tensor) and m.weight.grad is not None
            }
            outputs = [_output_stats(name, out) for name, out in _tensors(output)]
    finally:
        for h in handles:
            h.remove()
        with torch.no_grad():
            for p, g in zip(params, saved_grads, strict=True):
                p.grad = g
            for b, copy in saved_buffers:
                b.copy_(copy)
    rows = _rows(calls, weight_grads)
    checks = _checks(calls)
    ratio = _gradient_ratio(calls)
    failures = tuple(dict.fromkeys(f for o in outputs for f in o.failures)) + health.failures(grad_ratio=ratio)
    return Inspection(
        rows=rows,
        checks=checks,
        outputs=outputs,
        gradient_ratio=ratio,
        failures=failures,
        loss=f"the probe loss, a fixed random projection of the output, seed {seed}" if loss is None else "user's loss",
        notes=notes,
    )


def _user_loss(loss: Loss, output: object) -> torch.Tensor:
    """``loss(output)``, which must be a scalar tensor; its own error quoted otherwise."""
    try:
        value = loss(output)
    except Exception as err:
        raise InspectError(f"the loss raised {type(err).__name__}: {_first_line(err)}") from None
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        got = f"a tensor of shape {_shape(value)}" if isinstance(value, torch.Tensor) else type(value).__name__
        raise InspectError(f"the loss must return a scalar tensor, got {got}")
    return value.reshape(())


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else "(no message)"


def _output_stats(name: str, out: torch.Tensor) -> OutputStats:
    with torch.no_grad():
        stats = tensor_stats(out.detach())
        all_finite = bool(torch.isfinite(out).all().item())
    return OutputStats(name, _shape(out), stats["mean"], stats["std"], all_finite, signal_failures(stats, None))


def _top_grad(calls: list[_Call]) -> float:
    """||dL/dh|| of the last call's output: the gradient that enters the top of the network."""
    return calls[-1].grad_norm if calls else math.nan


def _gradient_ratio(calls: list[_Call]) -> float:
    """First call's ||dL/dh|| over the last call's (the study's first/last-layer gradient ratio)."""
    top = _top_grad(calls)
    return _ratio(calls[0].grad_norm, top) if calls else math.nan


def _rows(calls: list[_Call], weight_grads: dict[int, float]) -> list[LayerRow]:
    top = _top_grad(calls)
    rows = []
    for i, c in enumerate(calls, start=1):
        failures = signal_failures(c.stats, activation_name(c.module)) + gradient_failures(c.grad_norm, top)
        rows.append(
            LayerRow(
                call=i,
                path=c.path,
                type=type(c.module).__name__,
                activation=activation_name(c.module) or "",
                shape=c.shape,
                **c.stats,
                grad_norm=weight_grads.get(id(c.module), math.nan),
                act_grad_norm=c.grad_norm,
                failures=failures,
            )
        )
    return rows


def _checks(calls: list[_Call]) -> list[InitCheck]:
    checks = []
    for c, nxt in zip(calls, calls[1:], strict=False):
        if _is_weighted(c.module):
            # q: the pre-activation's second moment, the mean-field theory's variance of a unit.
            q = c.stats["mean"] ** 2 + c.stats["std"] ** 2
            check = init_check(c.path, c.module, q, nxt.path, nxt.module)
            if check is not None:
                checks.append(check)
    return checks
