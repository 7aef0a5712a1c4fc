"""Training a configured model (``models:`` in a config) across inits and seeds, one model at a time.

A model is a user's factory ``FILE.py:FUNCTION`` called with its keyword arguments
(``initlab.engine.usermodel.load_factory``), trained as Lab 2 trains the MoonMLP: cross-entropy,
Adam or SGD from ``initlab.engine.optim``, ``steps`` steps, full batch unless ``batch_size`` says
otherwise. Each trained model gives the row ``training.csv`` gives (start and end loss,
validation accuracy, divergence, the lesson's quick output probe, the loss curve) and, for the
same starting weights, the verdict of ``initlab inspect`` before training (:func:`probe_verdict`).

The seeding rule (``initlab.engine.seeding``) holds here too: a row depends on its configuration
alone.

- Construction: the factory runs inside ``torch.random.fork_rng`` with torch's global RNG seeded
  with the configuration's ``seed`` (layers draw PyTorch's default init from the global RNG, and a
  user's factory cannot be handed a generator). The same seed gives every init of a model the
  same default draw, the one ``torch.manual_seed(seed)`` before the lesson's models gives, and
  the one ``initlab inspect FILE.py:FUNCTION --seed SEED`` inspects; the process's global RNG is
  put back afterwards.
- The scheme's draws: a generator seeded with ``derive_seed(seed, INIT_LABEL)``, the same stream
  for every init of a seed (as the MoonMLP's generator is after its default draw).
- Minibatches (``batch_size`` below the training set): each epoch a permutation from a generator
  seeded with ``derive_seed(seed, BATCH_LABEL)``, cut into batches (the remainder dropped), so
  every init of a seed sees the same batches in the same order. With minibatches the curve holds
  each step's batch loss; start and end loss are always the full training set's.
- Dropout and other draws during training use torch's global RNG, seeded with
  ``derive_seed(seed, DROPOUT_LABEL)`` inside ``fork_rng`` for the whole run.

Losses, the probe and validation accuracy are measured in ``eval()`` mode and without gradients,
training steps in ``train()`` mode (a model with dropout or batch norm is evaluated as it would be
used; for a plain CNN the two modes are the same). A model that diverges is data: its loss turns
non-finite, ``diverged`` and ``diverged_step`` say when, training goes on, nothing raises.

One model at a time. Training the 11 inits of a seed together with
``torch.func.stack_module_state`` and ``vmap`` (``benchmarks/bench_models.py``, the digits CNN of
``config/digits.yaml``, one thread, training loops alone) was 1.53x faster at the config's 100
Adam steps of 32 images (0.155 against 0.236 s CPU a model; 1.28x and 1.47x at 120 steps of 64)
on the loaded 2-core machine, but not the same numbers: vmap's batched convolution rounds
differently from the lone one, and Adam carries that over the steps (end losses 0.0787 against
0.0793 for ``xavier_uniform``, up to 0.009 for ``large`` at 120 steps of 64). A row's numbers
would then be the stacked run's, not those of the model trained alone, as a user reproduces it
with the same seed; a quarter of a model job's work (0.08 of its 0.33 s CPU a model) does not
buy that.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from initlab.engine.activations import get_activation
from initlab.engine.cells import ModelCell
from initlab.engine.data import Split
from initlab.engine.inits import get_init
from initlab.engine.seeding import derive_seed, generator
from initlab.engine.train import (
    DEBUG_PROBE_SAMPLES,
    _accuracy,
    _divergence,
    get_optimizer,
)

#: derive_seed labels of the scheme's draws, the minibatch order and the training-time RNG.
INIT_LABEL = "model-init"
BATCH_LABEL = "model-batches"
DROPOUT_LABEL = "model-dropout"
#: The first this many training samples are the batch ``inspect`` probes before training: real
#: data, as a user would probe with, and enough values per unit for its statistics (a layer of
#: 8 channels of 8x8 gets 131,072 values) at the cost of one forward and backward pass.
INSPECT_SAMPLES = 256
#: LSUV rescales on the first this many training samples (all of them when fewer): the whole
#: of the lesson's 450 moons points, a bounded pass on a big data set.
LSUV_SAMPLES = 1024


class ModelError(ValueError):
    """A configured model that cannot be built or run: one line naming it and what was expected."""


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


def _call(name: str) -> str:
    return f"model {name!r}"


def build_model(cell: ModelCell, seed: int) -> nn.Module:
    """The factory's model for ``seed``: PyTorch's default init drawn from the global RNG seeded
    with ``seed`` inside ``fork_rng`` (the process's RNG is left as it was)."""
    from initlab.engine.usermodel import load_factory

    try:
        factory = load_factory(cell.factory)
    except ValueError as err:
        raise ModelError(f"{_call(cell.model)}: factory {cell.factory!r}: {err}") from None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            model = factory(**cell.kwargs)
        except Exception as err:
            raise ModelError(
                f"{_call(cell.model)}: {cell.factory}(**{cell.kwargs!r}) raised {_first_line(err)}"
            ) from None
    if not isinstance(model, nn.Module):
        raise ModelError(
            f"{_call(cell.model)}: {cell.factory} returned {type(model).__name__}; expected a torch.nn.Module"
        )
    return model


def initialize(model: nn.Module, cell: ModelCell, init: str, seed: int, x_train: torch.Tensor) -> nn.Module:
    """Apply scheme ``init`` to ``model`` in place (``initlab.engine.inits``; ``default`` keeps it)."""
    get_init(init).apply(
        model, get_activation(cell.activation), generator(derive_seed(seed, INIT_LABEL)), batch=x_train[:LSUV_SAMPLES]
    )
    return model


def probe_verdict(model: nn.Module, batch: torch.Tensor, seed: int) -> dict[str, str]:
    """``initlab inspect``'s verdict on ``model`` before training: the only call into inspect.

    ``probe_verdict`` is inspect's own (``healthy`` or ``problems found``); ``probe_failure`` the
    first failure of the first failing layer call (else the model-level one: its outputs, or the
    gradient ratio), ``probe_layer`` that layer's path (empty for a model-level failure or none).
    The pass runs with torch's global RNG seeded inside ``fork_rng`` (dropout draws from it).
    """
    from initlab.engine.inspect import inspect

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "inspect"))
        found = inspect(model, batch, seed=seed)
    failing = found.failing_rows
    if failing:
        failure, layer = failing[0].failures[0], failing[0].path
    else:
        failure, layer = (found.failures[0] if found.failures else ""), ""
    return {"probe_verdict": found.verdict, "probe_failure": failure, "probe_layer": layer}


@dataclass
class ModelResult:
    """What one trained configured model leaves behind (the ``models`` table's values)."""

    init: str
    seed: int
    values: dict[str, object]
    curve: list[tuple[int, float]] = field(repr=False)


def _batches(n: int, batch_size: int | None, seed: int) -> Iterator[torch.Tensor | None]:
    """Index batches forever: None = the full batch; else each epoch's seeded permutation, cut."""
    if batch_size is None or batch_size >= n:
        while True:
            yield None
    gen = generator(derive_seed(seed, BATCH_LABEL))
    while True:
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n - batch_size + 1, batch_size):
            yield perm[start : start + batch_size]


def _tensors(split: Split) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    return tuple(torch.from_numpy(a) for a in (split.x_train, split.y_train, split.x_val, split.y_val))  # type: ignore[return-value]


def train_model(split: Split, cell: ModelCell, model: nn.Module, init: str, seed: int) -> ModelResult:
    """Train one initialized model (``initialize``) for ``cell``; its row values and curve."""
    x_train, y_train, x_val, y_val = _tensors(split)
    verdict = probe_verdict(model, x_train[:INSPECT_SAMPLES], seed)
    optimizer = get_optimizer(cell.optimizer)(model.parameters(), cell.lr)
    n = len(x_train)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, DROPOUT_LABEL))
        model.eval()
        with torch.no_grad():
            out = model(x_train[:DEBUG_PROBE_SAMPLES])
            probe = (out.mean().item(), out.std().item(), bool(torch.isfinite(out).all().item()))
            start_loss = F.cross_entropy(model(x_train), y_train).item()
        model.train()
        losses = []
        batches = _batches(n, cell.batch_size, seed)
        for _ in range(cell.steps):
            idx = next(batches)
            xb, yb = (x_train, y_train) if idx is None else (x_train[idx], y_train[idx])
            loss = F.cross_entropy(model(xb), yb)
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            end_loss = F.cross_entropy(model(x_train), y_train).item()
            val_acc = _accuracy(model(x_val), y_val).item()
    losses.append(end_loss)
    step = _divergence(losses)
    values = {
        "start_loss": start_loss,
        "end_loss": end_loss,
        "val_acc": val_acc,
        "diverged": step is not None,
        "diverged_step": step,
        "probe_out_mean": probe[0],
        "probe_out_std": probe[1],
        "probe_all_finite": probe[2],
        **verdict,
        "batch_size": n if cell.batch_size is None else min(cell.batch_size, n),
        "classes": int(split.y_train.max()) + 1,  # labels are 0..C-1 (datasets.check_split): chance is 1/C
    }
    return ModelResult(init, seed, values, [(s, losses[s]) for s in cell.curve_steps()])


def train_model_cell(
    split: Split, cell: ModelCell, inits: Sequence[str], seeds: Sequence[int]
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Train every init x seed of one model cell, one at a time; rows of ``models`` and ``model_curves``.

    The factory runs once per seed and each init starts from a copy of that model (a deep copy
    is the same tensors, so the same numbers as building it again).
    """
    x_train = torch.from_numpy(split.x_train)
    columns = cell.columns()
    rows, curves = [], []
    for seed in seeds:
        built = build_model(cell, seed)
        for init in inits:
            model = initialize(copy.deepcopy(built), cell, init, seed, x_train)
            r = train_model(split, cell, model, init, seed)
            key = {"seed": seed, **columns, "init": init}
            rows.append(key | r.values)
            curves.extend(key | {"step": s, "loss": loss} for s, loss in r.curve)
    return rows, curves
