"""What the report needs to know about its figures without drawing them: names, density, shared rows.

``initlab report`` embeds the PNGs that ``initlab figures`` drew and writes their captions; it
needs the figures' file names, the pixel density they were saved at and the rows some captions
describe, but not matplotlib or seaborn (about a second of start-up). Those facts live here;
:mod:`initlab.report.figures` draws from them and maps each name to its drawing function.
"""

from __future__ import annotations

import pandas as pd

from initlab.report import answers
from initlab.report.answers import ablation, claims
from initlab.report.answers.exercise2 import EX2_RIVAL
from initlab.report.answers.text import display

#: Resolution of every PNG: twice the report's 96 px per inch, so a figure drawn at the width it
#: is shown at (its inches x 96 CSS px) is sharp on a 2x screen. The report shows each PNG at half
#: its pixel width, so a font of ``pt`` points appears ``pt * 4 / 3`` CSS px tall.
DPI = 192
#: CSS px per inch of a figure in the report (the report shows a PNG at ``width / (DPI / SCREEN_PPI)``).
SCREEN_PPI = 96
#: The figures' PNG file names, in the report's order (:data:`initlab.report.figures.FIGURES` draws
#: each). Fixed names: the workflow declares them as outputs.
FIGURE_NAMES: tuple[str, ...] = (
    "signal_std.png",
    "signal_ratios.png",
    "gradient_norms.png",
    "exercise1_failure_depth.png",
    "training_lesson_cell.png",
    "training_cells.png",
    "loss_curves.png",
    "exercise2_xavier.png",
    "exercise2_ablation.png",
    "exercise3_fragility.png",
    "next_probe_depth.png",
    "seed_beat_probability.png",
    "theory_agreement.png",
)
#: Figures the report shows only for a sweep (several learning rates or widths); always written.
SWEEP_FIGURE_NAMES: tuple[str, ...] = (
    "fragility_map.png",
    "width_signal.png",
    "width_training.png",
)

#: A configured model's figure: one file per model, named after it (``model_digits_cnn.png``); a
#: study without models has none.
MODEL_FIGURE = "model_{}.png"


def model_figure_name(model: str) -> str:
    return MODEL_FIGURE.format(model)


def figure_models(tables: answers.Tables) -> list[str]:
    """The configured models that get a figure, in the table's order (none without models)."""
    if tables.models is None or tables.models.empty:
        return []
    return [str(m) for m in dict.fromkeys(tables.models["model"])]


def all_figure_names(tables: answers.Tables) -> list[str]:
    """Every figure ``initlab figures`` writes for these tables: the fixed ones, then one per model."""
    return [*FIGURE_NAMES, *SWEEP_FIGURE_NAMES, *(model_figure_name(m) for m in figure_models(tables))]


def deepest_probe(signal_probe: pd.DataFrame) -> pd.DataFrame:
    """Layers of the deepest probe network at the lesson's width: the most layers to look through."""
    rows = signal_probe[
        signal_probe["width"] == answers.closest(signal_probe["width"].unique(), answers.LESSON_PROBE_WIDTH)
    ]
    return rows[rows["depth"] == rows["depth"].max()]


def exercise2_ablation(tables: answers.Tables) -> tuple[pd.DataFrame, int] | None:
    """Per seed: end loss of all-Xavier, Xavier with only the carrying layer from He, and all-He, in
    Exercise 2's cell (Tanh, the lesson's net), read from the ablation table; with the carrying layer.
    None without that ablation."""
    pair = claims.exercise2_pair(tables, "")
    if pair is None:
        return None
    found = ablation.find_ablation(tables.ablation, pair, answers.EX2_INIT, EX2_RIVAL)
    if found.empty:
        return None
    result = ablation.ablation_answer(found)
    numbers = result.numbers
    if numbers.empty:
        return None
    layer = result.carriers[0] if result.carriers else int(numbers.sort_values("share_of_gap").iloc[-1]["layer"])
    a, b = str(found["init_a"].iloc[0]), str(found["init_b"].iloc[0])
    keep = (found["variant"].isin(["all_a", "all_b"])) | ((found["variant"] == "swap") & (found["layer"] == layer))
    rows = found[keep].assign(
        run=lambda d: d["variant"].map(
            {
                "all_a": f"all {display(a)}",
                "swap": f"{display(a)}, layer {layer} from {display(b)}",
                "all_b": f"all {display(b)}",
            }
        )
    )
    return rows, layer


def ablation_cell_title(cell: pd.Series) -> str:
    """'Tanh, 2 hidden layers of 64, Adam' — the cell an ablation ran in, from its rows."""
    return (
        f"{display(cell['activation'])}, {int(cell['depth'])} hidden layers of {int(cell['width'])}, "
        f"{display(cell['optimizer'])}"
    )
