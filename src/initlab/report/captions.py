"""Every figure's caption: one sentence of takeaway computed from the tables the figure draws,
and one of how to read it.

:data:`CAPTIONS` maps a figure's file name (a key of :data:`figures.FIGURES`) to a function of
the tables returning ``(takeaway, how to read)``. A takeaway is computed by the same answer
functions the figure draws from (never typed), so changing the data changes the sentence; the
report also uses both sentences as the image's ``alt`` text.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from initlab.report import answers, stats
from initlab.report import figure_data as figs
from initlab.report.answers import theory as theory_answers
from initlab.report.answers.exercise3 import fragility
from initlab.report.answers.text import capitalised, display, displays, sig

Caption = tuple[str, str]
#: How to read a figure drawn without its rows (a placeholder that names what is missing).
MISSING = "The figure names the rows it lacks."


def possessive(name: str) -> str:
    """ "He's", "zeros'": a display name's possessive."""
    shown = display(name)
    return shown + ("'" if shown.endswith("s") else "'s")


def _probe_last(tables: answers.Tables) -> pd.DataFrame:
    """Last layer of the deepest probe (lesson width), with its failure mode."""
    last = answers.probe_last_layers(tables.signal_probe)
    return last[last["depth"] == last["depth"].max()]


def exercise_1(tables: answers.Tables) -> Caption:
    per_seed = answers.probe_failure_depths(tables.signal_probe)
    finite = per_seed[np.isfinite(per_seed["failure_depth"])]
    spread = finite.groupby(["activation", "init"])["failure_depth"].agg(["min", "max"])
    varied = spread[spread["max"] > spread["min"]]
    if varied.empty:
        takeaway = "Every seed fails at the same depth as the others, for every init and activation."
    else:
        ratio = (varied["max"] / varied["min"]).sort_values()
        (activation, init), _ = ratio.index[-1], ratio.iloc[-1]
        row = varied.loc[(activation, init)]
        takeaway = (
            f"Seeds disagree on the failure depth in {len(varied)} of {len(spread)} failing (activation, init) pairs; "
            f"most for {display(init)} with {display(activation)} (depths {row['min']:g}–{row['max']:g})."
        )
    return takeaway, (
        "One dot per seed, a diamond where most seeds have failed, a cross for theory's prediction; "
        "'never': healthy at every probed depth; dashed lines at depths 8 and 20."
    )


def exercise_2(tables: answers.Tables) -> Caption:
    answer = answers.exercise_2(tables.training)
    numbers = answer.numbers
    if numbers.empty:
        return "No Xavier runs under both activations.", MISSING
    worse = numbers[
        numbers[f"median_seed_gap_{answers.EX2_CHANGED}"] > numbers[f"median_seed_gap_{answers.EX2_BASELINE}"]
    ]
    takeaway = (
        f"With {display(answers.EX2_CHANGED)}, {display(answers.EX2_INIT)} is further from the best init than with "
        f"{display(answers.EX2_BASELINE)} at {len(worse)} of {len(numbers)} depths."
    )
    return takeaway, (
        f"Per seed, {display(answers.EX2_INIT)}'s end loss divided by the best init's in that seed "
        "(1 = the best); a bar marks the median; log scale."
    )


def exercise_2_ablation(tables: answers.Tables) -> Caption:
    read = figs.exercise2_ablation(tables)
    if read is None:
        return "No layer-swap ablation of Exercise 2's cell is configured.", MISSING
    rows, layer = read
    medians = rows.groupby("variant")["end_loss"].median()
    a, b = str(rows["init_a"].iloc[0]), str(rows["init_b"].iloc[0])
    takeaway = (
        f"{figs.ablation_cell_title(rows.iloc[0])}: taking only layer {layer} from {display(b)} moves "
        f"{display(a)}'s median end loss from "
        f"{sig(medians['all_a'])} to {sig(medians['swap'])}; all {display(b)}: {sig(medians['all_b'])}."
    )
    return takeaway, (
        "One line per seed through its three runs (same data order and seed); the black bars are "
        "the medians; lower is better."
    )


def exercise_3(tables: answers.Tables) -> Caption:
    numbers = fragility(tables.training)
    lesson = numbers[numbers["activation"] == answers.LESSON_ACTIVATION] if len(numbers) else numbers
    if lesson.empty:
        return "No runs of the lesson's cell under both optimizers.", MISSING
    rising = lesson[lesson["fail_rate_increase"] > 0]["init"].tolist()
    what = displays(rising) if rising else "none"
    takeaway = (
        f"{len(rising)} of {len(lesson)} inits {'fails' if len(rising) == 1 else 'fail'} more often "
        f"with {display(answers.EX3_CHANGED)} than "
        f"with {display(answers.EX3_BASELINE)}: {what}."
    )
    return takeaway, (
        "Left: share of seeds whose run fails (run-failure criterion); right: every seed's end loss, "
        "a bar at the median, log scale; non-finite losses are not drawn."
    )


def next_probe(tables: answers.Tables) -> Caption:
    rates = answers.depth_failure_rates(tables.training)
    if rates.empty:
        return "No runs of the lesson's net.", MISSING
    per_init = rates.groupby("init")["failures"].agg(["min", "max"])
    never = per_init[per_init["max"] == 0].index.tolist()
    always = per_init[(per_init["min"] == per_init["max"]) & (per_init["max"] > 0)].index.tolist()
    changing = [i for i in answers.init_order(per_init.index) if i not in never and i not in always]
    takeaway = (
        f"{len(never)} of {len(per_init)} inits never fail at any depth; the failure count changes with "
        f"depth for {displays(changing) if changing else 'none'}."
    )
    return takeaway, "Each cell: seeds failing / seeds at that depth of the lesson's net; darker = more failing."


def signal_std(tables: answers.Tables) -> Caption:
    last = _probe_last(tables)
    if last.empty:
        return "No signal-probe rows.", MISSING
    median = last.groupby(["activation", "init"])["std"].median()
    out = median[(median < answers.VANISHED_STD) | (median > answers.EXPLODED_STD)]
    depth = int(last["depth"].iloc[0])
    takeaway = (
        f"At the last of {depth} layers, {len(out)} of {len(median)} (activation, init) pairs have left the "
        f"band between the thresholds ({answers.VANISHED_STD:g} and {answers.EXPLODED_STD:g})."
    )
    return takeaway, (
        "Median over seeds with a min–max band; grey dashed lines: the vanish and explode thresholds; "
        "triangles: a series beyond the drawn range."
    )


def signal_ratios(tables: answers.Tables) -> Caption:
    last = _probe_last(tables)
    if last.empty:
        return "No signal-probe rows.", MISSING
    median = last.groupby(["activation", "init"])["saturated_ratio"].median()
    saturated = median[median > answers.SATURATED_FRACTION]
    names = "; ".join(f"{display(i)} with {display(a)}" for a, i in saturated.index) or "none"
    takeaway = (
        f"At the last layer, more than {answers.SATURATED_FRACTION:.0%} of units saturate for "
        f"{len(saturated)} of {len(median)} pairs: {names}."
    )
    return (
        takeaway,
        "Top: share of outputs at exactly 0; bottom: share beyond |x| > 0.98; dashed: the saturation threshold.",
    )


def gradient_norms(tables: answers.Tables) -> Caption:
    deepest = figs.deepest_probe(tables.signal_probe)
    if deepest.empty:
        return "No signal-probe rows.", MISSING
    first = deepest[deepest["layer"] == 1].groupby(["activation", "init"])["act_grad_norm"].median()
    first = first[np.isfinite(first) & (first > 0)]
    low, high = first.idxmin(), first.idxmax()
    takeaway = (
        f"At the first layer the gradient ranges from {sig(first.min())} ({display(low[1])}, "
        f"{display(low[0])}) to {sig(first.max())} ({display(high[1])}, {display(high[0])})."
    )
    return takeaway, "Median over seeds per layer, log scale; the gradient flows from the last layer back to the first."


def training_lesson_cell(tables: answers.Tables) -> Caption:
    rows = answers.select_runs(tables.training, answers.LESSON_ACTIVATION, answers.LESSON_OPTIMIZER)
    if rows.empty:
        return "No runs of the lesson's cell.", MISSING
    median = stats.as_worst_if_nonfinite(rows["end_loss"]).groupby(rows["init"]).median().sort_values()
    takeaway = (
        f"In the lesson's cell the lowest median end loss is {possessive(median.index[0])} "
        f"({sig(median.iloc[0])}), the highest {possessive(median.index[-1])} ({sig(median.iloc[-1])})."
    )
    return takeaway, (
        "Every seed a dot, a bar at the median; left: end loss (log); right: validation accuracy, "
        "dashed at the near-chance line."
    )


def training_cells(tables: answers.Tables) -> Caption:
    training = tables.training
    if training.empty:
        return "No training rows.", MISSING
    cells = list(answers.TRAINING_CELL)
    scored = training.assign(score=stats.as_worst_if_nonfinite(training["end_loss"]))
    median = scored.groupby([*cells, "init"])["score"].median().reset_index()
    best = median.loc[median.groupby(cells)["score"].idxmin(), "init"].value_counts()
    takeaway = (
        f"{capitalised(display(best.index[0]))} has the lowest median end loss in {best.iloc[0]} of "
        f"{int(best.sum())} training cells."
    )
    return takeaway, "Median end loss per training cell (row) and init (column); darker = higher; 'div': non-finite."


def loss_curves(tables: answers.Tables) -> Caption:
    curves = tables.curves
    if curves.empty:
        return "No loss-curve rows.", MISSING
    last = curves[curves["step"] == curves.groupby(["activation", "optimizer", "depth"])["step"].transform("max")]
    median = last.groupby(["activation", "optimizer", "depth", "init"])["loss"].median().reset_index()
    median = median[np.isfinite(median["loss"])]
    best = median.loc[median.groupby(["activation", "optimizer", "depth"])["loss"].idxmin(), "init"].value_counts()
    takeaway = (
        f"At the last step {display(best.index[0])} has the lowest median loss in {best.iloc[0]} of "
        f"{int(best.sum())} panels."
    )
    return (
        takeaway,
        "Median training loss over seeds per step, log scale; one panel per activation, optimizer and depth.",
    )


def seed_beat_probability(tables: answers.Tables) -> Caption:
    rows = answers.select_runs(tables.training, answers.LESSON_ACTIVATION, answers.LESSON_OPTIMIZER)
    if rows.empty:
        return "No runs of the lesson's cell.", MISSING
    beats = stats.beat_probability(rows, list(answers.TRAINING_CELL), "end_loss")
    order = {n: i for i, n in enumerate(answers.init_order(rows["init"]))}
    pairs = beats[beats["a"].map(order) < beats["b"].map(order)]
    decided = int(pairs["p_a_beats_b"].isin([0.0, 1.0]).sum())
    takeaway = f"{decided} of {len(pairs)} init pairs are decided the same way in every seed (a share of 0 or 1)."
    return takeaway, (
        "Each cell: the share of seeds in which the row's init ends with a lower loss than the "
        "column's (ties count half), in the lesson's cell."
    )


def theory_agreement(tables: answers.Tables) -> Caption:
    comparison = theory_answers.theory_comparison(tables.signal_probe, tables.theory)
    if comparison.empty:
        return "No theory table.", MISSING
    errors = comparison["median_rel_error"].astype(float)
    close = int((errors <= theory_answers.AGREEMENT_TOLERANCE).sum())
    worst = comparison.loc[errors.idxmax()]
    takeaway = (
        f"Theory's std is within {theory_answers.AGREEMENT_TOLERANCE:.0%} of the probe's for {close} of "
        f"{len(comparison)} pairs; furthest off: {display(worst['init'])} with {display(worst['activation'])} "
        f"({errors.max():.0%})."
    )
    return takeaway, "Median relative error of theory's output std over layers, depths and seeds; darker = further off."


def fragility_map(tables: answers.Tables) -> Caption:
    from initlab.report.answers import fragility as sweep

    table = sweep.fragility_table(tables.training)
    if table.empty:
        return "One learning rate per optimizer.", MISSING
    failing = table[table["failure_rate"] > 0.5]
    return (
        f"{len(failing)} of {len(table)} (init, learning rate) cells fail in most seeds.",
        "Each cell: failing seeds / seeds and the median end loss; ★ marks the lesson's learning rate.",
    )


def width_signal(tables: answers.Tables) -> Caption:
    widths = sorted(tables.signal_probe["width"].unique())
    return (
        f"The probe's last-layer std at widths {', '.join(map(str, widths))}.",
        "Median over seeds with a min–max band; dashed: the vanish and explode thresholds.",
    )


def width_training(tables: answers.Tables) -> Caption:
    widths = sorted(tables.training["width"].unique())
    return (
        f"Median end loss at widths {', '.join(map(str, widths))}.",
        "One line per init; an open circle where some seed failed.",
    )


#: Figure file -> its caption (takeaway, how to read).
CAPTIONS: dict[str, Callable[[answers.Tables], Caption]] = {
    "signal_std.png": signal_std,
    "signal_ratios.png": signal_ratios,
    "gradient_norms.png": gradient_norms,
    "exercise1_failure_depth.png": exercise_1,
    "training_lesson_cell.png": training_lesson_cell,
    "training_cells.png": training_cells,
    "loss_curves.png": loss_curves,
    "exercise2_xavier.png": exercise_2,
    "exercise2_ablation.png": exercise_2_ablation,
    "exercise3_fragility.png": exercise_3,
    "next_probe_depth.png": next_probe,
    "seed_beat_probability.png": seed_beat_probability,
    "theory_agreement.png": theory_agreement,
    "fragility_map.png": fragility_map,
    "width_signal.png": width_signal,
    "width_training.png": width_training,
}


def caption(name: str, tables: answers.Tables) -> Caption:
    """The caption of figure ``name``; a figure whose rows are missing says so instead of failing."""
    try:
        return CAPTIONS[name](tables)
    except (KeyError, IndexError, ValueError) as error:  # rows a takeaway needs are missing
        return f"No takeaway: the tables lack the rows this figure needs ({error.__class__.__name__}).", MISSING
