"""Training probe (Lab 2, extended): the lesson's one-model loop and the stacked trainer.

``train_one`` is the lesson's loop for one model (full batch, CrossEntropyLoss, Adam or SGD).
``train_stacked`` trains K such models as one: every weight becomes a (K, in, out) tensor, every
layer one ``baddbmm``, the loss the sum of the K per-model mean losses, and one optimizer steps
all stacked tensors. Adam and SGD update each element from that element's own gradient and
state, and the summed loss gives each model exactly its own gradient, so this is the same
mathematics as K separate runs; the models' starting weights are drawn by building each lone
model and copying its parameters in, so both paths start from identical weights.

A diverging model is data: its loss turns non-finite, ``diverged`` and ``diverged_step`` record
when, and because no operation mixes models, its NaNs never reach the other K-1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from initlab.engine import optim
from initlab.engine.activations import Activation, get_activation
from initlab.engine.cells import TrainSpec
from initlab.engine.data import Split
from initlab.engine.inits import get_init, linear_layers
from initlab.engine.models import build_moon_mlp
from initlab.engine.registry import lookup
from initlab.engine.seeding import generator

# The lesson's quick debugging probe looks at the first 32 training samples.
DEBUG_PROBE_SAMPLES = 32
# Models per stack: initlab.engine.stacking says how many and why (the config check reads it too).
from initlab.engine.stacking import stack_size  # noqa: E402

OptimizerFactory = Callable[[Iterable[torch.Tensor], float], "optim.Adam | optim.SGD"]

# initlab.engine.optim, not torch.optim: same arithmetic, without torch.optim's ~1 s import of torch._dynamo.
OPTIMIZERS: dict[str, OptimizerFactory] = {
    "adam": optim.Adam,
    "sgd": optim.SGD,
}


def get_optimizer(name: str) -> OptimizerFactory:
    """Return the optimizer factory ``name``; unknown names raise a ``ValueError`` listing the valid ones."""
    return lookup(OPTIMIZERS, name, "optimizer")


def check_spec(spec: TrainSpec) -> TrainSpec:
    """``spec``'s activation and optimizer are registered ones (``ValueError`` naming the valid ones).

    The cell checks its numbers itself; its names are checked here, by the registries, because
    ``initlab.engine.cells`` stays free of torch for the workflow's DAG.
    """
    get_activation(spec.activation)
    get_optimizer(spec.optimizer)
    return spec


@dataclass
class TrainResult:
    """What one trained model leaves behind."""

    init: str
    seed: int
    start_loss: float
    end_loss: float
    val_acc: float  # NaN when the validation logits are not finite: such predictions mean nothing
    diverged: bool
    diverged_step: int | None  # first step whose loss was non-finite (``steps`` = the end loss)
    probe_out_mean: float
    probe_out_std: float
    probe_all_finite: bool
    curve: list[tuple[int, float]] = field(repr=False)


def build_initialized(spec: TrainSpec, init: str, seed: int, x_train: torch.Tensor) -> nn.Sequential:
    """Build and initialize one MoonMLP by the seeding rule (``initlab.engine.seeding``)."""
    check_spec(spec)
    scheme = get_init(init)
    gen = generator(seed)
    model = build_moon_mlp(spec.depth, spec.width, spec.activation, gen)
    scheme.apply(model, get_activation(spec.activation), gen, batch=x_train)
    return model


def _tensors(split: Split) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.from_numpy(split.x_train),
        torch.from_numpy(split.y_train),
        torch.from_numpy(split.x_val),
        torch.from_numpy(split.y_val),
    )


def _divergence(losses: Sequence[float]) -> int | None:
    """Index of the first non-finite loss, or None."""
    return next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)


def _accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Accuracy over the last-but-one axis; NaN where a model's logits are not all finite."""
    acc = (logits.argmax(dim=-1) == y).float().mean(dim=-1)
    finite = torch.isfinite(logits).flatten(start_dim=-2).all(dim=-1)
    return torch.where(finite, acc, torch.full_like(acc, float("nan")))


def train_one(split: Split, spec: TrainSpec, init: str, seed: int) -> TrainResult:
    """The lesson's training loop for one model (``nn.Sequential``, CrossEntropyLoss, full batch)."""
    x_train, y_train, x_val, y_val = _tensors(split)
    model = build_initialized(spec, init, seed, x_train)
    optimizer = get_optimizer(spec.optimizer)(model.parameters(), spec.lr)
    loss_fn = nn.CrossEntropyLoss()
    with torch.no_grad():
        out = model(x_train[:DEBUG_PROBE_SAMPLES])
        probe = (out.mean().item(), out.std().item(), bool(torch.isfinite(out).all().item()))
    start_loss = loss_fn(model(x_train), y_train).item()
    losses = []
    for _ in range(spec.steps):
        loss = loss_fn(model(x_train), y_train)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        end_loss = loss_fn(model(x_train), y_train).item()
        val_acc = _accuracy(model(x_val), y_val).item()
    losses.append(end_loss)
    step = _divergence(losses)
    return TrainResult(
        init=init,
        seed=seed,
        start_loss=start_loss,
        end_loss=end_loss,
        val_acc=val_acc,
        diverged=step is not None,
        diverged_step=step,
        probe_out_mean=probe[0],
        probe_out_std=probe[1],
        probe_all_finite=probe[2],
        curve=[(s, losses[s]) for s in spec.curve_steps()],
    )


class StackedMLP:
    """K MoonMLPs of one shape as stacked tensors: weights (K, out, in), biases (K, 1, out).

    Weights keep ``nn.Linear``'s (out, in) layout and each layer multiplies by a transposed view,
    as ``F.linear`` does: with that layout the batched matmul rounds exactly like the lone one.
    """

    def __init__(self, models: Sequence[nn.Sequential], activation: Activation) -> None:
        layers = [linear_layers(m) for m in models]
        self.k = len(models)
        self.act = activation.fn_inplace or activation.fn
        with torch.no_grad():
            self.weights = [
                torch.stack([ls[i].weight for ls in layers]).requires_grad_() for i in range(len(layers[0]))
            ]
            self.biases = [
                torch.stack([ls[i].bias for ls in layers]).unsqueeze(1).requires_grad_() for i in range(len(layers[0]))
            ]

    def parameters(self) -> list[torch.Tensor]:
        return self.weights + self.biases

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (K, N, classes) for a shared input ``x`` (N, in)."""
        h = x.expand(self.k, *x.shape)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = StackedLinear.apply(h, w, b)
            if i < last:
                h = self.act(h)
        return h


class StackedPass:
    """One training step's forward and backward through a ``StackedMLP``, written out by hand
    over a fixed batch, into buffers allocated once per run.

    Why: under autograd every layer and step allocates fresh (K, N, width) tensors (the
    layer's output, the activation's gradient, the products; 1.8 MB each for a stack of 16 at
    width 64), which glibc hands back to the kernel and page-faults in again, so the
    elementwise work ran several times slower than its own arithmetic (the bias copy into a
    fresh output: 1.2 ms in the step, 63 us on a reused buffer). Measured with
    ``bench_train``'s depth-16 cell and 16 models, same process, interleaved: 1.13-1.29x faster.
    Here each product goes into its buffer with ``out=``, the activation's backward overwrites
    the gradient in place, and two gradient buffers alternate down the layers.

    Each operation is the one autograd runs for ``StackedMLP`` (``StackedLinear``'s forward and
    backward, the activation's ``grad_from_output``), on the same operands, so the numbers are
    the same to the bit; the loss head (log-softmax and the losses) still runs under autograd
    and hands in the logits' gradient. Only for activations with a ``grad_from_output``.
    """

    def __init__(self, net: StackedMLP, x: torch.Tensor, grad_from_output: Callable) -> None:
        self.net = net
        self.grad_from_output = grad_from_output
        k, n = net.k, x.shape[0]
        self.input = x.expand(k, *x.shape)
        self.weights_t = [w.transpose(1, 2) for w in net.weights]
        self.outputs = [torch.empty(k, n, w.shape[1]) for w in net.weights]
        # parameters' gradients: fixed buffers the optimizer reads as ``.grad``, rewritten each step
        for p in net.parameters():
            p.grad = torch.empty_like(p)
        # the gradient of a hidden layer's output, (K, N, width): two, written alternately
        width = net.weights[1].shape[2]
        self.grad_buffers = [torch.empty(k, n, width), torch.empty(k, n, width)]

    @torch.no_grad()
    def forward(self) -> torch.Tensor:
        """Logits (K, N, classes) of the fixed batch; every layer's output kept for ``backward``."""
        h = self.input
        last = len(self.outputs) - 1
        for i, (w_t, b, out) in enumerate(zip(self.weights_t, self.net.biases, self.outputs, strict=True)):
            h = torch.baddbmm(b, h, w_t, out=out)
            if i < last:
                self.net.act(h)
        return h

    @torch.no_grad()
    def backward(self, grad: torch.Tensor) -> None:
        """From the logits' gradient, every parameter's ``.grad`` (``StackedLinear.backward``)."""
        net = self.net
        for i in range(len(net.weights) - 1, -1, -1):
            h = self.outputs[i - 1] if i > 0 else self.input
            torch.bmm(grad.transpose(1, 2), h, out=net.weights[i].grad)
            torch.sum(grad, dim=1, keepdim=True, out=net.biases[i].grad)
            if i > 0:
                grad_h = torch.bmm(grad, net.weights[i], out=self.grad_buffers[i % 2])
                grad = self.grad_from_output(grad_h, h)


class StackedLinear(torch.autograd.Function):
    """K Linear layers at once: h (K, N, in), w (K, out, in), b (K, 1, out) -> (K, N, out).

    The backward is written out so that each model's gradients are the very products the lone
    ``F.linear`` computes (grad_W = grad^T @ h in (out, in) layout, grad_h = grad @ W, grad_b a
    sum over the batch): autograd's own ``baddbmm`` backward computes h^T @ grad instead, which
    rounds differently, and Adam amplifies such last-bit differences into visibly different
    models within a hundred steps.
    """

    @staticmethod
    def forward(ctx, h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(h, w)
        return torch.baddbmm(b, h, w.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:  # type: ignore[override]
        h, w = ctx.saved_tensors
        grad_h = torch.bmm(grad, w) if ctx.needs_input_grad[0] else None
        return grad_h, torch.bmm(grad.transpose(1, 2), h), grad.sum(dim=1, keepdim=True)


def _log_probs(logits: torch.Tensor) -> torch.Tensor:
    """Log-softmax over the classes, row by row as ``CrossEntropyLoss`` computes it."""
    return F.log_softmax(logits, dim=-1)


def _training_loss(log_probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum over the K models of each model's mean NLL: each model gets exactly the gradient of
    its own mean loss, and none sees another's."""
    k, n, c = log_probs.shape
    per_sample = F.nll_loss(log_probs.reshape(k * n, c), y.repeat(k), reduction="none")
    return per_sample.view(k, n).mean(dim=1).sum()


def _model_losses(log_probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each model's mean loss, one ``nll_loss`` per model: its cascade summation is what the
    lone loop's ``CrossEntropyLoss`` reports, so the recorded values agree to the bit."""
    with torch.no_grad():
        return torch.stack([F.nll_loss(lp, y) for lp in log_probs])


def train_stacked(split: Split, spec: TrainSpec, runs: Sequence[tuple[str, int]]) -> list[TrainResult]:
    """Train one model per ``(init, seed)`` in ``runs`` as one stacked model; results in that order."""
    if not runs:
        raise ValueError("runs must name at least one (init, seed) pair")
    x_train = _tensors(split)[0]
    return train_models(split, spec, [build_initialized(spec, init, seed, x_train) for init, seed in runs], runs)


def train_models(
    split: Split, spec: TrainSpec, models: Sequence[nn.Sequential], runs: Sequence[tuple[str, int]]
) -> list[TrainResult]:
    """Train already-initialized MoonMLPs of ``spec``'s shape as one stack; ``runs`` labels them.

    ``train_stacked`` builds its models by the seeding rule and calls this; the layer-swap
    ablation (``initlab.engine.ablation``) hands in spliced models, which train exactly alike.
    """
    if len(models) != len(runs) or not runs:
        raise ValueError(f"need one (label, seed) per model, got {len(runs)} for {len(models)} models")
    x_train, y_train, x_val, y_val = _tensors(split)
    net = StackedMLP(models, get_activation(spec.activation))
    optimizer = get_optimizer(spec.optimizer)(net.parameters(), spec.lr)
    losses = torch.empty(spec.steps + 1, net.k)
    with torch.no_grad():
        out = net(x_train[:DEBUG_PROBE_SAMPLES]).flatten(start_dim=1)
        probe_mean, probe_std = out.mean(dim=1), out.std(dim=1)
        probe_finite = torch.isfinite(out).all(dim=1)
    grad_from_output = get_activation(spec.activation).grad_from_output
    by_hand = StackedPass(net, x_train, grad_from_output) if grad_from_output and len(net.weights) > 1 else None
    for step in range(spec.steps):
        if by_hand is None:
            optimizer.zero_grad()
            logits = net(x_train)
        else:  # the loss head under autograd from detached logits; by_hand.backward does the rest
            logits = by_hand.forward().detach().requires_grad_()
        log_probs = _log_probs(logits)
        losses[step] = _model_losses(log_probs, y_train)
        _training_loss(log_probs, y_train).backward()
        if by_hand is not None:
            by_hand.backward(logits.grad)
        optimizer.step()
    with torch.no_grad():
        losses[spec.steps] = _model_losses(_log_probs(net(x_train)), y_train)
        val_acc = _accuracy(net(x_val), y_val)
    table = losses.t().tolist()
    curve_steps = spec.curve_steps()
    results = []
    for j, (init, seed) in enumerate(runs):
        step = _divergence(table[j])
        results.append(
            TrainResult(
                init=init,
                seed=seed,
                start_loss=table[j][0],
                end_loss=table[j][-1],
                val_acc=val_acc[j].item(),
                diverged=step is not None,
                diverged_step=step,
                probe_out_mean=probe_mean[j].item(),
                probe_out_std=probe_std[j].item(),
                probe_all_finite=bool(probe_finite[j].item()),
                curve=[(s, table[j][s]) for s in curve_steps],
            )
        )
    return results


def train_cell(
    split: Split, spec: TrainSpec, inits: Sequence[str], seeds: Sequence[int]
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Train every init x seed of one cell, as stacks of ``stacking.stack_size`` models.

    Returns tidy rows for the training table and for the curves table
    (the ``training`` and ``curves`` tables of ``initlab.study.tables``).
    """
    runs = [(init, seed) for seed in seeds for init in inits]
    cell = spec.columns()
    k = stack_size(spec.depth, spec.width, len(split.x_train))
    results = [r for i in range(0, len(runs), k) for r in train_stacked(split, spec, runs[i : i + k])]
    rows, curves = [], []
    for r in results:
        key = {"seed": r.seed, **cell, "init": r.init}
        rows.append(
            key
            | {
                "start_loss": r.start_loss,
                "end_loss": r.end_loss,
                "val_acc": r.val_acc,
                "diverged": r.diverged,
                "diverged_step": r.diverged_step,
                "probe_out_mean": r.probe_out_mean,
                "probe_out_std": r.probe_out_std,
                "probe_all_finite": r.probe_all_finite,
            }
        )
        curves.extend(key | {"step": step, "loss": loss} for step, loss in r.curve)
    return rows, curves
