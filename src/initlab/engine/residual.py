"""Residual structure of a user's model, found from the model itself.

A residual block is a sum ``shortcut + branch`` where the branch is computed from the shortcut's
source (the *stream*): the shortcut is the stream itself (identity) or a projection of it (a 1×1
conv, pooling), and the block's output is the sum or an activation or normalization of it.

Two ways to find them, the first that works wins:

- **traced graph**: ``torch.fx`` traces the model; every add whose operands are a tensor and a
  tensor computed from it (or two tensors computed from one source) is a block. A second pass
  through the graph, without gradients and from the same RNG state, measures each operand.
- **hook values**, where fx cannot trace (data-dependent control flow): every container's call is
  hooked; its output is checked against ``input + child output`` (or a child's output plus
  another's, for a projection), before or after a final activation.

Either way each block is named by the modules it holds and knows which rows of the per-layer
table lie on its branch, so the verdicts can read the branch's layers in their residual context.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import fx, nn

from initlab.engine import depth
from initlab.engine.activations import ACTIVATIONS
from initlab.engine.depth import DEEPEST_PROBE
from initlab.engine.modules import activation_name, computes, is_normalization

#: Functions and methods that add two tensors in a traced graph.
ADD_FUNCTIONS = frozenset({operator.add, operator.iadd, torch.add})
ADD_METHODS = frozenset({"add", "add_", "__add__", "__iadd__"})
#: Functional activations a block may end with (``F.relu(x + out)``), by function and method name.
ACTIVATION_FUNCTIONS: dict[object, str] = {
    **{a.fn: a.name for a in ACTIVATIONS.values()},
    F.relu: "relu",
    torch.relu: "relu",
    F.gelu: "gelu",
    torch.tanh: "tanh",
    torch.sigmoid: "sigmoid",
}
ACTIVATION_METHODS: dict[str, str] = {"relu": "relu", "relu_": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}
#: Relative tolerance of "the output equals input + branch" in the hook-value scan: float32
#: rounding of one add and one activation stays far below it, an unrelated tensor far above.
MATCH_RTOL = 1e-4


@dataclass(frozen=True)
class ResidualBlock:
    """One residual sum, measured at init.

    ``stream_std``: std of the block's input (the stream the branch reads); ``shortcut_std``: std
    of what is added to the branch (the stream, or its projection); ``branch_std``: std of the
    branch's output; ``output_std``: std of the block's output (after ``after``, the activation
    or normalization that follows the sum, if any). ``branch_rows``/``shortcut_rows``: names of
    the per-layer rows on each path; ``branch_last``: the last row with parameters on the branch;
    ``branch_norm``: the type of the first normalization on the branch ("" if none).
    """

    name: str
    shortcut: str  # "identity" or "projection"
    after: str
    after_is_norm: bool
    stream_std: float
    shortcut_std: float
    branch_std: float
    output_std: float
    branch_rows: tuple[str, ...]
    shortcut_rows: tuple[str, ...]
    branch_last: str
    branch_norm: str

    @property
    def scale(self) -> float:
        """Branch-to-stream scale: std(branch) / std(shortcut)."""
        return self.branch_std / self.shortcut_std if self.shortcut_std > 0 else float("nan")

    @property
    def growth(self) -> float:
        """The stream's std after the block over before it."""
        return self.output_std / self.stream_std if self.stream_std > 0 else float("nan")

    @property
    def zero_branch(self) -> bool:
        """The branch is constant at init (a zeroed last layer, a zero scalar): it passes no
        gradient to its earlier layers at step 0, and training moves its last layer first."""
        return self.branch_std == 0

    @property
    def normalized(self) -> str:
        """Where a normalization resets the scale: on the branch, after the sum, or "" (nowhere)."""
        if self.after_is_norm:
            return f"after the sum ({self.after})"
        return f"on the branch ({self.branch_norm})" if self.branch_norm else ""

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d.update(scale=self.scale, growth=self.growth, zero_branch=self.zero_branch, normalized=self.normalized)
        d["branch_rows"], d["shortcut_rows"] = list(self.branch_rows), list(self.shortcut_rows)
        return d


@dataclass(frozen=True)
class Scan:
    """The blocks found and how: ``method`` is "torch.fx graph" or "hook values (why fx failed)"."""

    blocks: list[ResidualBlock]
    method: str


def _std(t: torch.Tensor) -> float:
    return t.detach().std().item() if t.numel() > 1 else 0.0


def _call_names(order: Sequence[str]) -> list[str]:
    """Row names as the per-layer table writes them: a module's k-th call is ``path#k`` (k > 1)."""
    seen: dict[str, int] = {}
    names = []
    for path in order:
        seen[path] = seen.get(path, 0) + 1
        names.append(path if seen[path] == 1 else f"{path}#{seen[path]}")
    return names


def _common_prefix(paths: Sequence[str]) -> str:
    parts = [p.split(".") for p in paths]
    prefix: list[str] = []
    for group in zip(*parts, strict=False):  # paths of different lengths: up to the shortest
        if len(set(group)) != 1:
            break
        prefix.append(group[0])
    return ".".join(prefix)


def _label(blocks_paths: list[list[str]]) -> list[str]:
    """Each block named by the modules its branch holds: their common prefix, and where two blocks
    share one (a transformer block's attention and MLP), the branch's own first part after it."""
    prefixes = [_common_prefix(p) if p else "" for p in blocks_paths]
    names = []
    for paths, prefix in zip(blocks_paths, prefixes, strict=True):
        name = prefix or "(model)"
        if prefixes.count(prefix) > 1 and paths:
            rest = paths[-1][len(prefix) :].lstrip(".").split(".")[0]
            if rest:
                name = f"{name} ({rest})"
        names.append(name)
    return names


# --------------------------------------------------------------------------------------------
# Traced graph
# --------------------------------------------------------------------------------------------


class _Recorder(fx.Interpreter):
    """Runs the traced graph and keeps, for every floating-tensor node, its shape and std."""

    def __init__(self, gm: fx.GraphModule) -> None:
        super().__init__(gm)
        self.facts: dict[fx.Node, tuple[tuple[int, ...], float]] = {}
        self.data: set[fx.Node] = set()  # nodes whose value holds tensors (not a size or a shape)

    def run_node(self, n: fx.Node) -> object:
        out = super().run_node(n)
        if isinstance(out, torch.Tensor) and out.is_floating_point():
            self.facts[n] = (tuple(out.shape), _std(out))
        elif isinstance(out, torch.Tensor):
            self.facts[n] = (tuple(out.shape), float("nan"))
        if isinstance(out, torch.Tensor) or _first_tensor(out) is not None:
            self.data.add(n)
        return out


def _is_add(n: fx.Node) -> bool:
    return (n.op == "call_function" and n.target in ADD_FUNCTIONS) or (
        n.op == "call_method" and n.target in ADD_METHODS
    )


def _after(gm: fx.GraphModule, n: fx.Node) -> tuple[fx.Node, str, bool]:
    """The node the sum's only use is, when it is an activation or a normalization (else the sum)."""
    users = list(n.users)
    if len(users) != 1:
        return n, "", False
    u = users[0]
    if u.op == "call_module":
        module = gm.get_submodule(u.target)
        if activation_name(module) or is_normalization(module):
            return u, type(module).__name__, is_normalization(module)
    if u.op == "call_function" and u.target in ACTIVATION_FUNCTIONS:
        return u, ACTIVATION_FUNCTIONS[u.target], False
    if u.op == "call_method" and u.target in ACTIVATION_METHODS:
        return u, ACTIVATION_METHODS[u.target], False
    return n, "", False


def traced_blocks(model: nn.Module, args: tuple, rng_state: torch.Tensor) -> list[ResidualBlock]:
    """Blocks from the fx graph; raises whatever fx raises where the model does not trace."""
    gm = fx.symbolic_trace(model)
    nodes = list(gm.graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    recorder = _Recorder(gm)
    torch.set_rng_state(rng_state)
    with torch.no_grad():
        recorder.run(*args)
    facts = recorder.facts
    # Ancestors along tensor data (a size or shape read is not data), as bit masks by node index.
    anc: dict[fx.Node, int] = {}
    for n in nodes:
        mask = 1 << index[n]
        for p in n.all_input_nodes:
            if p in recorder.data:
                mask |= anc.get(p, 0)
        anc[n] = mask
    module_nodes = [n for n in nodes if n.op == "call_module"]
    row_name = dict(zip(module_nodes, _call_names([n.target for n in module_nodes]), strict=True))

    def modules_in(mask: int) -> list[fx.Node]:
        return [n for n in module_nodes if mask >> index[n] & 1]

    found = []
    for n in nodes:
        if not _is_add(n) or n not in facts:
            continue
        operands = [a for a in n.args[:2] if isinstance(a, fx.Node)]
        if len(operands) != 2 or any(a not in facts or facts[a][0] != facts[n][0] for a in operands):
            continue
        a, b = operands
        if not all(facts[x][1] == facts[x][1] for x in (a, b)):  # integer tensors (NaN std): not a stream
            continue
        if anc[b] >> index[a] & 1:
            stream, shortcut, branch = a, a, b
        elif anc[a] >> index[b] & 1:
            stream, shortcut, branch = b, b, a
        else:
            common = anc[a] & anc[b]
            if not common:
                continue
            stream = nodes[common.bit_length() - 1]
            if stream not in facts or facts[stream][1] != facts[stream][1]:
                continue
            sides = sorted((a, b), key=lambda x: len(modules_in(anc[x] & ~anc[stream])))
            shortcut, branch = sides
        branch_nodes = modules_in(anc[branch] & ~anc[stream])
        shortcut_nodes = modules_in(anc[shortcut] & ~anc[stream]) if shortcut is not stream else []
        out, after, after_is_norm = _after(gm, n)
        branch_modules = [gm.get_submodule(m.target) for m in branch_nodes]
        norm = next((type(m).__name__ for m in branch_modules if is_normalization(m)), "")
        weighted = [
            row_name[m]
            for m, mod in zip(branch_nodes, branch_modules, strict=True)
            if any(True for _ in mod.parameters())
        ]
        own = anc[branch] & ~anc[stream]
        params = [p.target for p in nodes if p.op == "get_attr" and own >> index[p] & 1]
        found.append(
            (
                params + [m.target for m in branch_nodes],
                {
                    "shortcut": "identity" if shortcut is stream else "projection",
                    "after": after,
                    "after_is_norm": after_is_norm,
                    "stream_std": facts[stream][1],
                    "shortcut_std": facts[shortcut][1],
                    "branch_std": facts[branch][1],
                    "output_std": facts[out][1],
                    "branch_rows": tuple(row_name[m] for m in branch_nodes),
                    "shortcut_rows": tuple(row_name[m] for m in shortcut_nodes),
                    "branch_last": weighted[-1] if weighted else "",
                    "branch_norm": norm,
                },
            )
        )
    names = _label([paths for paths, _ in found])
    return [ResidualBlock(name=name, **fields) for name, (_, fields) in zip(names, found, strict=True)]


# --------------------------------------------------------------------------------------------
# Hook values
# --------------------------------------------------------------------------------------------


@dataclass
class _Seen:
    path: str
    module: nn.Module
    depth: int
    start: int
    end: int = -1
    input: torch.Tensor | None = None
    output: torch.Tensor | None = None


def _first_tensor(value: object) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value if value.is_floating_point() else None
    if isinstance(value, (tuple, list)):
        return next((t for t in map(_first_tensor, value) if t is not None), None)
    return None


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(
        a, b, rtol=MATCH_RTOL, atol=MATCH_RTOL * (b.abs().max().item() + 1e-30)
    )


def value_blocks(model: nn.Module, args: tuple, rng_state: torch.Tensor) -> list[ResidualBlock]:
    """Blocks found by comparing every container's output with its input plus a child's output."""
    calls: list[_Seen] = []
    stack: list[_Seen] = []
    handles = []

    def pre(path: str) -> Callable:
        def hook(module: nn.Module, inputs: tuple) -> None:
            t = _first_tensor(inputs)
            seen = _Seen(path, module, len(stack), len(calls), input=None if t is None else t.detach().clone())
            calls.append(seen)
            stack.append(seen)

        return hook

    def post(module: nn.Module, _inputs: tuple, output: object) -> None:
        seen = stack.pop()
        seen.end = len(calls)
        t = _first_tensor(output)
        seen.output = None if t is None else t.detach().clone()

    for path, m in model.named_modules():
        handles.append(m.register_forward_pre_hook(pre(path)))
        handles.append(m.register_forward_hook(post))
    try:
        torch.set_rng_state(rng_state)
        with torch.no_grad():
            model(*args)
    finally:
        for h in handles:
            h.remove()
    row_calls = [c for c in calls if computes(c.module)]
    names = dict(zip(map(id, row_calls), _call_names([c.path for c in row_calls]), strict=True))
    found = []
    for c in calls:
        if not any(True for _ in c.module.children()) or c.input is None or c.output is None:
            continue
        inner = calls[c.start + 1 : c.end]
        children = [d for d in inner if d.depth == c.depth + 1 and d.output is not None]
        match = _match(c, children)
        if match is None:
            continue
        shortcut, branch, after = match
        skip = range(shortcut.start, shortcut.end) if shortcut is not c else range(0)
        branch_calls = [d for d in inner if d.start < branch.end and d.start not in skip and id(d) in names]
        shortcut_calls = [d for d in inner if d.start in skip and id(d) in names]
        norm = next((type(d.module).__name__ for d in branch_calls if is_normalization(d.module)), "")
        weighted = [names[id(d)] for d in branch_calls if any(True for _ in d.module.parameters())]
        found.append(
            (
                [d.path for d in branch_calls],
                {
                    "shortcut": "identity" if shortcut is c else "projection",
                    "after": type(after.module).__name__ if isinstance(after, _Seen) else after,
                    "after_is_norm": isinstance(after, _Seen) and is_normalization(after.module),
                    "stream_std": _std(c.input),
                    "shortcut_std": _std(c.input if shortcut is c else shortcut.output),
                    "branch_std": _std(branch.output),
                    "output_std": _std(c.output),
                    "branch_rows": tuple(names[id(d)] for d in branch_calls),
                    "shortcut_rows": tuple(names[id(d)] for d in shortcut_calls),
                    "branch_last": weighted[-1] if weighted else "",
                    "branch_norm": norm,
                },
            )
        )
    labels = _label([paths or [c.path] for paths, _ in found])
    return [ResidualBlock(name=name, **fields) for name, (_, fields) in zip(labels, found, strict=True)]


def _match(c: _Seen, children: list[_Seen]) -> tuple[_Seen, _Seen, object] | None:
    """(shortcut, branch, after) where the container's output is shortcut + branch, or an
    activation of it, or the input of its last child that is an activation or a normalization."""
    y = c.output
    last = children[-1] if children else None
    targets: list[tuple[torch.Tensor, object]] = [(y, "")]
    if (
        last is not None
        and last.input is not None
        and last.output is not None
        and _close(last.output, y)
        and (activation_name(last.module) or is_normalization(last.module))
    ):
        targets.insert(0, (last.input, last))
    # A child whose output is the block's output (the final activation) is neither path.
    paths = [d for d in children if not _close(d.output, y)]
    pairs = [(c, b) for b in reversed(paths)] + [(s, b) for b in reversed(paths) for s in paths if s is not b]
    for shortcut, branch in pairs:
        s = c.input if shortcut is c else shortcut.output
        if s is None or branch.output.shape != y.shape or s.shape != y.shape:
            continue
        total = s + branch.output
        for target, after in targets:
            if _close(total, target):
                return shortcut, branch, after
        for act in ACTIVATIONS.values():
            if _close(act.fn(total), y):
                return shortcut, branch, act.name
    return None


def scan(model: nn.Module, args: tuple, rng_state: torch.Tensor) -> Scan:
    """The model's residual blocks: from the traced graph where fx traces, else from hook values."""
    try:
        return Scan(traced_blocks(model, args, rng_state), "torch.fx graph")
    except Exception as err:  # noqa: BLE001  (fx fails in many ways on models it cannot trace: fall back)
        reason = f"{type(err).__name__}"
    return Scan(value_blocks(model, args, rng_state), f"hook values (torch.fx could not trace the model: {reason})")


# --------------------------------------------------------------------------------------------
# The residual stack's verdict
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Remedy:
    """A published way to keep a residual stream at its scale at init."""

    name: str
    source: str
    how: str  # a sentence with {last} (the branch's last layer) and {n}/{factor} (GPT-2's scaling)


#: The remedies a growing residual stream is told about, in the order they are offered.
REMEDIES: tuple[Remedy, ...] = (
    Remedy("Fixup", "Zhang, Dauphin & Ma 2019", "zero-init each branch's last layer ({last})"),
    Remedy(
        "SkipInit / ReZero",
        "De & Smith 2020; Bachlechner et al. 2020",
        "multiply each branch by a learnable scalar that starts at 0",
    ),
    Remedy(
        "GPT-2",
        "Radford et al. 2019",
        (
            "scale each branch's last layer by 1/√N, N = {n} residual branches (1/√(2·blocks) for "
            "a transformer's two per block): ×{factor:.3g}"
        ),
    ),
    Remedy(
        "normalization",
        "Ioffe & Szegedy 2015; Ba, Kiros & Hinton 2016",
        "put a BatchNorm or LayerNorm on each branch (after its last layer, or before its first as pre-LN does)",
    ),
)


@dataclass(frozen=True)
class Stack:
    """The residual blocks read as one stream: its growth per block and where the criteria trip.

    ``growth`` is the geometric mean of the blocks' growth (the layers between blocks, a stem or
    a downsampling, left out). Where every non-zero branch is normalized, the branch adds a fixed
    variance rather than a multiple of the stream's, so the stream is projected by addition
    (``mode`` "additive"); else by the measured rate ("geometric"). ``trip_depth`` is the block at
    which the projected std trips a failure rule (0: not within ``depth.MAX_DEPTH``).
    """

    blocks: list[ResidualBlock]
    method: str
    mode: str
    growth: float
    trip_depth: int
    trip_failure: str

    @property
    def zero(self) -> list[ResidualBlock]:
        return [b for b in self.blocks if b.zero_branch]

    @property
    def status(self) -> str:
        """zero (every branch 0 at init) / grows (trips within DEEPEST_PROBE blocks) / ok."""
        if len(self.zero) == len(self.blocks):
            return "zero"
        if self.trip_depth and self.trip_depth <= DEEPEST_PROBE:
            return "grows"
        return "ok"

    def remedies(self) -> list[str]:
        last = [b.branch_last for b in self.blocks if b.branch_last]
        layers = _range(last) if last else "the last layer with weights"
        n = len(self.blocks)
        return [f"{r.how.format(last=layers, n=n, factor=n**-0.5)} ({r.name}: {r.source})" for r in REMEDIES]

    def sentences(self) -> list[str]:
        """The verdict on the stream, then (for a growing one) the remedies, one sentence each."""
        b0, bn = self.blocks[0], self.blocks[-1]
        n = len(self.blocks)
        kinds = sorted({b.shortcut for b in self.blocks})
        scales = [b.scale for b in self.blocks if b.scale == b.scale]
        head = (
            f"Residual stream: {n} block{'s' if n > 1 else ''} ({' and '.join(kinds)} shortcuts, found from the "
            f"{self.method}), {b0.name} to {bn.name}: std {b0.stream_std:.3g} before the first, "
            f"{bn.output_std:.3g} after the last, ×{self.growth:.3g} per block"
        )
        scale = f"branch-to-stream scale {_span(scales)}" if scales else ""
        if self.status == "zero":
            zero = (
                f"{head}. Every branch is 0 at init (its last layer {_range([b.branch_last for b in self.blocks])} "
                "is zero): the stream passes unchanged, the start Fixup prescribes (SkipInit and ReZero get it "
                "with a zero scalar). Healthy by design: a zero branch passes no gradient to its earlier layers "
                "at step 0, and training moves its last layer first, so those layers are not failures."
            )
            return [zero]
        norm = sorted({b.normalized for b in self.blocks if b.normalized})
        if self.trip_depth:
            at = f"at this rate the failure criteria trip ({self.trip_failure}) at block {self.trip_depth}"
        else:
            at = "at this rate the failure criteria do not trip within a million blocks"
        how = "by addition (normalized branches add a fixed variance)" if self.mode == "additive" else "by its rate"
        lines = [f"{head}; {scale}; projected {how}, {at}."]
        if norm:
            lines.append(
                f"Normalization {', '.join(norm)} keeps the branches' scale fixed: their per-layer gain "
                "does not compound over the blocks, it sets how much each branch adds."
            )
        if self.zero:
            lines.append(
                f"{len(self.zero)} of {n} branches are 0 at init (healthy by design; no gradient at step 0 "
                "for their earlier layers is not a failure)."
            )
        if self.status == "grows":
            lines.append(
                f"The stream grows ×{self.growth:.3g} per block and would break a {DEEPEST_PROBE}-block "
                "stack. Remedies: " + "; ".join(self.remedies()) + "."
            )
        return lines

    def as_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "mode": self.mode,
            "growth": self.growth,
            "trip_depth": self.trip_depth,
            "trip_failure": self.trip_failure,
            "status": self.status,
            "sentences": self.sentences(),
            "remedies": self.remedies() if self.status == "grows" else [],
            "blocks": [b.as_dict() for b in self.blocks],
        }


def _span(values: list[float]) -> str:
    lo, hi = f"{min(values):.2g}", f"{max(values):.2g}"
    return lo if lo == hi else f"{lo}–{hi}"


def _range(names: list[str]) -> str:
    names = [n for n in names if n]
    if not names:
        return ""
    return names[0] if len(names) == 1 else f"{names[0]} … {names[-1]}"


def stack(found: Scan) -> Stack | None:
    """The stream's verdict from the blocks found (None: no residual block)."""
    blocks = found.blocks
    if not blocks:
        return None
    rates = [b.growth for b in blocks if b.growth > 0 and math.isfinite(b.growth)]
    growth = math.exp(sum(map(math.log, rates)) / len(rates)) if rates else math.nan
    live = [b for b in blocks if not b.zero_branch]
    additive = bool(live) and all(b.normalized for b in live)
    start = blocks[0].stream_std
    if additive:
        increments = [b.output_std**2 - b.stream_std**2 for b in blocks]
        std_at = depth.additive(start, sum(increments) / len(increments))
    else:
        std_at = depth.geometric(start, 1.0 if math.isnan(growth) else growth)
    trip, failure = depth.trip_depth(std_at)
    return Stack(blocks, found.method, "additive" if additive else "geometric", growth, trip, failure)
