"""Lesson replay: the lesson's two labs, computed by the library and printed in its exact format.

Lab 2 is the study's own path: the lesson calls ``torch.manual_seed(9)`` before each model, which
is the study's seeding rule with seed 9, so its rows are ``train_one`` at the lesson's cell.

Lab 1 is not: the lesson seeds once (``torch.manual_seed(7)``) and runs its four probes in
sequence on that one random stream, each probe's draws depending on the ones before. That order
lives here, named, rather than as a special case inside the study's per-configuration probe.

``reproduction_rows`` compares a replay with the table printed in the lesson (shipped in
``initlab/engine/lesson/``) value by value, for the report's "lesson reproduced" section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import torch

from initlab.engine.activations import get_activation
from initlab.engine.data import MoonsSpec, Split, make_moons_split
from initlab.engine.inits import get_init
from initlab.engine.models import build_probe_net
from initlab.engine.probe import BATCH_SIZE, IN_FEATURES, probe_network
from initlab.engine.seeding import generator
from initlab.engine.train import TrainSpec, train_one

LAB1_SEED = 7
LAB1_DEPTH = 8
LAB1_WIDTH = 128
# (label, init, activation) in the lesson's order: the order is part of the random stream.
LAB1_ROWS = (
    ("tiny + ReLU", "tiny", "relu"),
    ("large + Tanh", "large", "tanh"),
    ("Xavier + Tanh", "xavier", "tanh"),
    ("He + ReLU", "he", "relu"),
)
LAB2_SEED = 9
LAB2_INITS = ("default", "zeros", "tiny", "large", "xavier", "he")
LAB2_SPEC = TrainSpec(depth=2, width=64, activation="relu", optimizer="adam", lr=0.01, steps=120)


def lab1_text() -> str:
    """Lab 1's table: four probes of an 8-layer net on one random stream seeded with 7."""
    gen = generator(LAB1_SEED)
    lines = ["signal_probe"]
    for label, init, activation in LAB1_ROWS:
        model = build_probe_net(LAB1_DEPTH, LAB1_WIDTH, activation, gen, IN_FEATURES)
        get_init(init).apply(model, get_activation(activation), gen)
        x = torch.randn(BATCH_SIZE, IN_FEATURES, generator=gen)
        with torch.no_grad():
            stats = probe_network(model, x, direction=None)
        first, last = stats[0], stats[-1]
        lines.append(
            f"{label:14s} "
            f"first_std={first.std:.4f} "
            f"last_std={last.std:.4f} "
            f"last_zero={last.zero_ratio:.2f} "
            f"last_saturated={last.saturated_ratio:.2f}"
        )
    return "\n".join(lines) + "\n"


def lab2_text(split: Split | None = None) -> str:
    """Lab 2's table: the lesson's cell trained once per init with seed 9."""
    split = split if split is not None else make_moons_split(MoonsSpec())
    lines = ["training_probe"]
    for init in LAB2_INITS:
        r = train_one(split, LAB2_SPEC, init, LAB2_SEED)
        lines.append(f"{init:8s} start_loss={r.start_loss:.3f} end_loss={r.end_loss:.3f} val_acc={r.val_acc:.3f}")
    return "\n".join(lines) + "\n"


LABS = {"lab1": lab1_text, "lab2": lab2_text}

_ROW = re.compile(r"^(?P<row>.+?)\s+(?P<metrics>(?:\w+=\S+\s*)+)$")


@dataclass(frozen=True)
class Cell:
    """One printed number of a lab table."""

    lab: str
    row: str
    metric: str
    text: str


def parse_table(lab: str, text: str) -> list[Cell]:
    """The numbers of a printed lab table (header line skipped), as printed."""
    cells = []
    for line in text.strip().splitlines()[1:]:
        match = _ROW.match(line.strip())
        if match is None:
            raise ValueError(f"{lab}: cannot parse table line {line!r}")
        for pair in match["metrics"].split():
            metric, value = pair.split("=")
            cells.append(Cell(lab, match["row"], metric, value))
    return cells


def lesson_text(lab: str) -> str:
    """The table printed in the lesson for ``lab`` (shipped with the package)."""
    return resources.files("initlab").joinpath(f"engine/lesson/{lab}_expected_in_lesson.txt").read_text()


def reproduction_rows(lab: str, measured_text: str) -> list[dict[str, object]]:
    """Lesson value next to measured value for every number of ``lab``'s table.

    Values stay the printed strings (the lesson printed 3 or 4 decimals), so ``matches`` means
    "prints the same", which is the claim the lesson makes.
    """
    lesson = parse_table(lab, lesson_text(lab))
    measured = {(c.row, c.metric): c.text for c in parse_table(lab, measured_text)}
    rows = []
    for cell in lesson:
        value = measured.get((cell.row, cell.metric))
        if value is None:
            raise ValueError(f"{lab}: measured table has no {cell.metric} for row {cell.row!r}")
        rows.append(
            {
                "lab": lab,
                "row": cell.row,
                "metric": cell.metric,
                "lesson_value": cell.text,
                "measured_value": value,
                "matches": cell.text == value,
            }
        )
    return rows
