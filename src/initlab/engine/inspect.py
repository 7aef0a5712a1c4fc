"""Inspect your own model: the lesson's signal probe and debugging checklist on any ``nn.Module``.

:func:`inspect` runs one forward and one backward pass through a user's model with forward
hooks on every module that computes (a leaf, or a module with parameters of its own such as
``nn.MultiheadAttention``; tensor hooks on their outputs catch the backward signal) and returns
one row per such call with the statistics of ``signal_probe.csv``, judged by the study's own
failure criteria (``initlab.engine.health``), plus:

- the lesson's quick debugging probe on the model's output (mean, std, all finite);
- an *init check* for every Linear/Conv layer whose next module is an activation: the
  measured ``sigma_w2 = Var(w) * fan_in`` against the critical value the mean-field theory asks
  for that activation (``initlab.engine.theory``), the predicted gain per layer, and the
  registry scheme that would fit. A normalization layer right after resets the scale, so no
  gain is predicted through it;
- the residual stream (``initlab.engine.residual``): the blocks found from the model, the
  stream's std per block, its growth and the depth where the criteria would trip at that rate.
  A zero-initialised branch's rows are not failures (no gradient at step 0 is by design), and
  the init check of a layer on a normalized branch says what the branch's scale does instead of
  giving plain-stack gain advice;
- attention (``initlab.engine.attention``): each ``nn.MultiheadAttention`` call's projections
  and the scale of its logits.

Containers (blocks, Sequential) are summarised by their output (``Inspection.containers``).
The user's model is left as it was: hooks are removed, parameters' ``.grad`` and every buffer
(BatchNorm running statistics) are restored, torch's global RNG (dropout draws from it) is put
back, and train/eval mode is not touched. Plain dataclasses out, no pandas: the report stage
turns them into tables, pages and figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from initlab.engine import attention, health, residual, theory
from initlab.engine.activations import ACTIVATIONS
from initlab.engine.attention import AttentionCheck
from initlab.engine.depth import DEEPEST_PROBE, GAIN_TOLERANCE  # noqa: F401  (re-exported)
from initlab.engine.inits import INITS
from initlab.engine.modules import (  # noqa: F401  (re-exported)
    ACTIVATION_OF_MODULE,
    NORMALIZATIONS,
    activation_name,
    computes,
    own_parameters,
)
from initlab.engine.probe import (
    tensor_stats,  # the probe's statistics, one implementation
)
from initlab.engine.residual import ResidualBlock, Stack
from initlab.engine.seeding import derive_seed, generator

#: The probe loss's direction r is drawn from ``derive_seed(seed, LOSS_LABEL)``.
LOSS_LABEL = "inspect-direction"
#: Who asks for each activation's critical sigma_w2 (the name in the init-check sentence).
CRITICAL_NAMES: dict[str, str] = {
    "relu": "He",
    "leaky_relu": "He",
    "gelu": "criticality",
    "tanh": "LeCun",
    "selu": "LeCun",
    "sigmoid": "criticality",
}

Loss = Callable[[object], torch.Tensor]


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
    note: str = ""  # why a criterion that tripped is not a failure here (a zero residual branch)

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
    ok / shrinks / grows / normalized, or, for a layer on a residual branch, branch (a
    normalization keeps the branch's scale from compounding: ``block`` names it, ``scale`` is its
    branch-to-stream scale) / zero branch (the branch's last layer, zero at init);
    ``suggestion`` a registry scheme name or "".
    """

    path: str
    type: str
    width: str
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
    block: str = ""
    normalized: str = ""
    scale: float = math.nan

    @property
    def message(self) -> str:
        return describe([self])

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["message"] = self.message
        return d


#: What an init check's sentence says after its numbers, by status.
_SAYS: dict[str, str] = {
    "normalized": "the normalization resets the scale, so the init sets no per-layer gain here",
    "branch": "on residual branch {block}, normalized {normalized}: its gain does not compound over the blocks; "
    "it sets how much the branch adds, ×{scale} of the stream's std here",
    "zero branch": "the last layer of residual branch {block}, zero at init as Fixup prescribes: the branch starts "
    "at 0 and training moves this layer first",
}


def _span(values: Sequence[float], fmt: str = ".2g") -> str:
    """One number, or the range "lo–hi" where the values print differently."""
    texts = [format(v, fmt) for v in values]
    lo, hi = format(min(values), fmt), format(max(values), fmt)
    return texts[0] if len(set(texts)) == 1 else f"{lo}–{hi}"


def group_key(check: InitCheck) -> tuple:
    """Checks with the same key say the same thing and print as one line with their layer range."""
    return (check.type, check.width, check.fan_in, check.next_type, check.activation, check.status, check.suggestion)


def describe(checks: Sequence[InitCheck]) -> str:
    """The sentence of one init check, or of a group of checks with one :func:`group_key`:
    "layers 0–58 (30 × Linear 256→256 then ReLU): ...", with each number's range."""
    c = checks[0]
    what = f"{c.type} {c.width} then {c.next_type}"
    label = f"{c.path}: {what}" if len(checks) == 1 else f"layers {c.path}–{checks[-1].path} ({len(checks)} × {what})"
    head = f"{label}: Var(w)·fan_in = {_span([k.sigma_w2 for k in checks])}"
    if c.status in _SAYS:
        blocks = [k.block for k in checks]
        block = blocks[0] if len(set(blocks)) == 1 else f"{blocks[0]} … {blocks[-1]}"
        scales = [k.scale for k in checks if k.scale == k.scale]
        return f"{head}: " + _SAYS[c.status].format(
            block=block, normalized=c.normalized, scale=_span(scales) if scales else "-"
        )
    head += f", {CRITICAL_NAMES.get(c.activation, 'criticality')} asks {c.critical:.2g}"
    gain = _span([k.gain for k in checks])
    if all(k.gain == 0 for k in checks):
        verb = "the signal is cut to 0 in every layer"
    elif c.status == "shrinks":
        verb = f"the signal shrinks ×{gain} per layer"
    elif c.status == "grows":
        verb = f"the signal grows ×{gain} per layer"
    else:
        verb = f"gain ×{gain} per layer, fine"
    if c.status != "ok":
        if c.suggestion:
            verb += f"; try `{c.suggestion}`"
        else:
            std = math.sqrt(c.critical / c.fan_in)
            verb += f"; no registry scheme fits, draw w with std {std:.2g} (= sqrt({c.critical:.2g}/fan_in))"
    return f"{head}: {verb}"


def grouped(checks: Sequence[InitCheck]) -> list[list[InitCheck]]:
    """The checks in groups of one :func:`group_key`, in the order each group first appears."""
    groups: dict[tuple, list[InitCheck]] = {}
    for c in checks:
        groups.setdefault(group_key(c), []).append(c)
    return list(groups.values())


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
class ContainerRow:
    """One call of a module that only calls others (a block, a Sequential): its output, summarised."""

    path: str
    type: str
    shape: str
    mean: float
    std: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Inspection:
    """What :func:`inspect` found: per-layer rows, init checks, outputs and the model's verdict,
    the residual stream (``residual``, None without residual blocks) and the attention checks."""

    rows: list[LayerRow]
    checks: list[InitCheck]
    outputs: list[OutputStats]
    gradient_ratio: float
    failures: tuple[str, ...]
    loss: str
    notes: list[str] = field(default_factory=list)
    residual: Stack | None = None
    attention: list[AttentionCheck] = field(default_factory=list)
    containers: list[ContainerRow] = field(default_factory=list)

    @property
    def failing_rows(self) -> list[LayerRow]:
        return [r for r in self.rows if r.failures]

    @property
    def risks(self) -> list[str]:
        """What is measured healthy at this depth but breaks the criteria soon: a residual stream
        that trips them within DEEPEST_PROBE blocks, a saturated attention softmax."""
        risks = []
        if self.residual is not None and self.residual.status == "grows":
            r = self.residual
            risks.append(
                f"the residual stream grows ×{r.growth:.3g} per block ({r.trip_failure} at block {r.trip_depth} "
                f"at this rate; try zero-init of each branch's last layer as Fixup does)"
            )
        saturated = [a for a in self.attention if a.saturated]
        if saturated:
            risks.append(f"{len(saturated)} of {len(self.attention)} attention calls have a saturated softmax")
        return risks

    @property
    def healthy(self) -> bool:
        return not self.failures and not self.failing_rows and not self.risks

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
        parts += self.risks
        if self.healthy and self.residual is not None:
            parts.append(f"residual stream ×{self.residual.growth:.3g} per block")
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
            "residual": None if self.residual is None else self.residual.as_dict(),
            "attention": [a.as_dict() for a in self.attention],
            "containers": [c.as_dict() for c in self.containers],
            "notes": list(self.notes),
        }


#: Columns of the per-layer table (CSV, HTML), in order.
LAYER_COLUMNS = [
    "call",
    "path",
    "type",
    "activation",
    "shape",
    "mean",
    "std",
    "zero_ratio",
    "saturated_ratio",
    "nonfinite_ratio",
    "grad_norm",
    "act_grad_norm",
    "verdict",
    "note",
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
    return isinstance(module, nn.Linear) or (isinstance(module, nn.modules.conv._ConvNd) and not module.transposed)


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


def init_check(path: str, module: nn.Module, q: float, next_path: str, next_module: nn.Module) -> InitCheck | None:
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
    nan = math.nan
    # what the layer is, whatever the check finds
    layer = {
        "path": path,
        "type": kind,
        "width": width,
        "fan_in": fan_in,
        "fan_out": fan_out,
        "next_path": next_path,
        "next_type": type(next_module).__name__,
        "sigma_w2": sigma_w2,
        "sigma_b2": sigma_b2,
        "q": q,
    }
    if normalized:
        return InitCheck(
            **layer,
            activation="",
            critical=nan,
            gain=nan,
            gain_at_q=nan,
            status="normalized",
            suggestion="",
        )
    critical = theory.critical_sigma_w2(activation)
    gain = math.sqrt(sigma_w2 / critical)
    gain_at_q = theory.layer_gain(activation, sigma_w2, sigma_b2, q) if q > 0 and math.isfinite(q) else nan
    if gain == 0 or gain < 1 / GAIN_TOLERANCE:
        status = "shrinks"
    elif gain > GAIN_TOLERANCE:
        status = "grows"
    else:
        status = "ok"
    suggestion = ""
    if status != "ok":
        suggestion, fit_gain = fitting_scheme(fan_in, fan_out, activation)
        if not (suggestion and abs(math.log(fit_gain)) <= math.log(GAIN_TOLERANCE)):
            suggestion = ""
    return InitCheck(
        **layer,
        activation=activation,
        critical=critical,
        gain=gain,
        gain_at_q=gain_at_q,
        status=status,
        suggestion=suggestion,
    )


# --------------------------------------------------------------------------------------------
# The pass
# --------------------------------------------------------------------------------------------


def leaf_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules that get a row, by path: leaves and modules with parameters of their own
    (``modules.computes``). The root counts if it computes and holds parameters or is one of
    torch's layers (a bare ``nn.Linear``), under its type's name."""
    rows = [(name, m) for name, m in model.named_modules() if name and computes(m)]
    if computes(model) and (own_parameters(model) or type(model).__module__.startswith("torch.nn")):
        rows.insert(0, (type(model).__name__, model))
    return rows


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


def _weight_grad(m: nn.Module) -> float | None:
    """||dL/dW|| of the module's ``weight``, or of all its own parameters where it has no ``weight``."""
    w = getattr(m, "weight", None)
    if isinstance(w, torch.Tensor):
        return w.grad.norm().item() if w.grad is not None else None
    grads = [p.grad for p in own_parameters(m) if p.grad is not None]
    return torch.cat([g.reshape(-1) for g in grads]).norm().item() if grads else None


def inspect(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    loss: Loss | None = None,
    seed: int = 0,
) -> Inspection:
    """One forward and one backward pass of ``model(*inputs)``, hooked at every module that computes.

    ``loss`` maps the model's output to a scalar; without one, :func:`probe_loss` (the study's
    fixed random projection, seeded by ``seed``). After the pass, the residual scan
    (``engine.residual``) reads the model's residual blocks, from the same RNG state and without
    gradients. Raises :class:`InspectError` for a model with nothing to hook and for inputs the
    model rejects (quoting its error).
    """
    leaves = leaf_modules(model)
    if not leaves:
        raise InspectError(
            f"the model ({type(model).__name__}) has no modules to hook: no leaf modules and no parameters; "
            "build it from torch.nn layers (nn.Linear, nn.Conv2d, nn.ReLU, ...) or nn.Parameter"
        )
    args = _as_args(inputs)
    calls: list[_Call] = []
    seen: dict[str, int] = {}
    containers: list[ContainerRow] = []
    attention_inputs: list[tuple[str, nn.MultiheadAttention, torch.Tensor, torch.Tensor]] = []
    recording = [True]  # off while the residual scan runs the model again

    def forward_hook(path: str) -> Callable:
        def hook(module: nn.Module, _inputs: tuple, output: object) -> None:
            first = next(_tensors(output), None)
            if first is None or not recording[0]:
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

    def container_hook(path: str) -> Callable:
        def hook(module: nn.Module, _inputs: tuple, output: object) -> None:
            first = next(_tensors(output), None)
            if first is not None and recording[0]:
                with torch.no_grad():
                    t = first[1].detach()
                    std = t.std().item() if t.numel() > 1 else math.nan
                    containers.append(ContainerRow(path, type(module).__name__, _shape(t), t.mean().item(), std))

        return hook

    def attention_hook(path: str) -> Callable:
        def hook(module: nn.Module, hook_args: tuple, kwargs: dict) -> None:
            query = hook_args[0] if hook_args else kwargs.get("query")
            key = hook_args[1] if len(hook_args) > 1 else kwargs.get("key")
            if recording[0] and isinstance(query, torch.Tensor) and isinstance(key, torch.Tensor):
                attention_inputs.append((path, module, query.detach().clone(), key.detach().clone()))

        return hook

    # Parameters and any input that collects a gradient: their .grad is put back afterwards.
    params = list(model.parameters()) + [
        a for a in args if isinstance(a, torch.Tensor) and a.requires_grad and a.is_leaf
    ]
    saved_grads = [p.grad for p in params]
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
    handles: list[torch.utils.hooks.RemovableHandle] = []
    handles += [m.register_forward_hook(forward_hook(path)) for path, m in leaves]
    row_ids = {id(m) for _, m in leaves}
    handles += [
        m.register_forward_hook(container_hook(path))
        for path, m in model.named_modules()
        if path and id(m) not in row_ids
    ]
    handles += [
        m.register_forward_pre_hook(attention_hook(path), with_kwargs=True)
        for path, m in model.named_modules()
        if isinstance(m, nn.MultiheadAttention)
    ]
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    notes: list[str] = []
    stack = None
    try:
        with torch.random.fork_rng(devices=devices), torch.enable_grad():
            rng_state = torch.get_rng_state()
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
            weight_grads = {id(m): g for _, m in leaves if (g := _weight_grad(m)) is not None}
            outputs = [_output_stats(name, out) for name, out in _tensors(output)]
            recording[0] = False
            try:
                stack = residual.stack(residual.scan(model, args, rng_state))
            except Exception as err:  # noqa: BLE001  (the scan only reads: a model it cannot read keeps its rows)
                notes.append(
                    f"the residual scan failed ({type(err).__name__}: {_first_line(err)}): no residual verdict"
                )
    finally:
        for h in handles:
            h.remove()
        with torch.no_grad():
            for p, g in zip(params, saved_grads, strict=True):
                p.grad = g
            for b, copy in saved_buffers:
                b.copy_(copy)
    rows = _excused(_rows(calls, weight_grads), stack)
    checks = _in_context(_checks(calls), stack)
    # A zero branch's first layer gets no gradient by design: the model's ratio starts after it.
    by_design = {r.path for r in rows if r.note}
    ratio = _gradient_ratio([c for c in calls if c.path not in by_design])
    failures = tuple(dict.fromkeys(f for o in outputs for f in o.failures)) + health.failures(grad_ratio=ratio)
    return Inspection(
        rows=rows,
        checks=checks,
        outputs=outputs,
        gradient_ratio=ratio,
        failures=failures,
        loss=f"the probe loss, a fixed random projection of the output, seed {seed}" if loss is None else "user's loss",
        notes=notes,
        residual=stack,
        attention=[attention.check(path, m, q, k) for path, m, q, k in attention_inputs],
        containers=containers,
    )


#: Failure rules a zero-initialised residual branch trips by design: its zero layer's output is
#: constant (std 0: "vanished") and no gradient reaches the layers before it ("gradient vanished").
ZERO_BRANCH_BY_DESIGN = ("vanished", "gradient vanished")


def _excused(rows: list[LayerRow], stack: Stack | None) -> list[LayerRow]:
    """Rows on a zero-initialised residual branch: the failures that branch trips by design are
    not failures; the row says why in ``note``."""
    if stack is None:
        return rows
    block_of = {name: b for b in stack.zero for name in b.branch_rows}
    out = []
    for r in rows:
        b = block_of.get(r.path)
        if b is not None and any(f in ZERO_BRANCH_BY_DESIGN for f in r.failures):
            kept = tuple(f for f in r.failures if f not in ZERO_BRANCH_BY_DESIGN)
            excused = ", ".join(f for f in r.failures if f not in kept)
            note = f"on zero-initialised residual branch {b.name}: {excused} by design"
            r = replace(r, failures=kept, note=note)
        out.append(r)
    return out


def _in_context(checks: list[InitCheck], stack: Stack | None) -> list[InitCheck]:
    """Init checks of layers on a residual branch: the zero branch's last layer is zero by design;
    on a branch a normalization keeps from compounding, plain-stack gain advice does not apply."""
    if stack is None:
        return checks
    block_of: dict[str, ResidualBlock] = {name: b for b in stack.blocks for name in b.branch_rows}
    out = []
    for c in checks:
        b = block_of.get(c.path)
        if b is not None and b.zero_branch and c.path == b.branch_last:
            c = replace(c, status="zero branch", suggestion="", block=b.name)
        elif b is not None and b.normalized:
            c = replace(c, status="branch", suggestion="", block=b.name, normalized=b.normalized, scale=b.scale)
        out.append(c)
    return out


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


#: Modules that pass their input on unchanged at init (or, for dropout, only rescaled): the init
#: check looks past them to the module that follows.
PASS_THROUGH: tuple[type[nn.Module], ...] = (nn.Identity, nn.modules.dropout._DropoutNd)


def _checks(calls: list[_Call]) -> list[InitCheck]:
    checks = []
    calls = [c for c in calls if not isinstance(c.module, PASS_THROUGH)]
    for c, nxt in zip(calls, calls[1:], strict=False):
        if _is_weighted(c.module):
            # q: the pre-activation's second moment, the mean-field theory's variance of a unit.
            q = c.stats["mean"] ** 2 + c.stats["std"] ** 2
            check = init_check(c.path, c.module, q, nxt.path, nxt.module)
            if check is not None:
                checks.append(check)
    return checks
