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

from initlab.engine.health import VANISHED_GRADIENT_RATIO
from initlab.report import answers, stats
from initlab.report import figure_data as figs
from initlab.report.answers import claims
from initlab.report.answers import theory as theory_answers
from initlab.report.answers.ablation import layer_shares
from initlab.report.answers.exercise3 import fragility
from initlab.report.answers.runs import LESSON_DEPTH
from initlab.report.answers.text import capitalised, display, displays, names, sig

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


def _by_init(pairs: list[tuple[str, str]], activations: set[str], most: int = 3) -> str:
    """(activation, init) pairs as a reader writes them, grouped by init: 'zeros with every activation;
    tiny with ReLU and Tanh'; after ``most`` inits, the rest are counted ('and 3 more pairs')."""
    grouped: dict[str, list[str]] = {}
    for activation, init in pairs:
        grouped.setdefault(init, []).append(activation)
    inits = sorted(answers.init_order(grouped), key=lambda i: -len(grouped[i]))  # stable: ties keep init order
    parts = [
        f"{display(i)} with " + ("every activation" if set(grouped[i]) == activations else displays(sorted(grouped[i])))
        for i in inits[:most]
    ]
    rest = sum(len(grouped[i]) for i in inits[most:])
    if rest:
        parts.append(f"{rest} more pair{'s' if rest > 1 else ''}")
    return "; ".join(parts)


def exercise_1(tables: answers.Tables) -> Caption:
    per_seed = answers.probe_failure_depths(tables.signal_probe)
    summary = answers.probe_failure_summary(per_seed)
    activations = sorted(summary["activation"].unique())
    deepest = float(per_seed["max_depth"].max())
    first = {}
    for activation in activations:
        rows = summary[summary["activation"] == activation]
        depth = rows["failure_depth"].min()
        first[activation] = (
            set(rows.loc[rows["failure_depth"] == depth, "init"]) if np.isfinite(depth) else set(),
            depth,
        )
    everywhere = set.intersection(*(named for named, _ in first.values()))
    if everywhere:
        inits = answers.init_order(everywhere)
        depth = max(d for _, d in first.values())
        lead = (
            f"{capitalised(displays(inits))} {'fails' if len(inits) == 1 else 'fail'} first with every activation "
            f"(by depth {depth:g})"
        )
    else:
        lead = "The first to fail depends on the activation: " + ", ".join(
            f"{displays(answers.init_order(named))} with {display(a)} (depth {d:g})"
            for a, (named, d) in first.items()
            if named
        )
    survivors = []
    for activation in activations:
        n = int((~np.isfinite(summary.loc[summary["activation"] == activation, "failure_depth"])).sum())
        total = int((summary["activation"] == activation).sum())
        count = (f"{n} of {total} inits" if n else f"none of {total}") if not survivors else (n or "none")
        survivors.append(f"{count} with {display(activation)}")
    takeaway = f"{lead}; still healthy at depth {deepest:g}: {names(survivors)}."
    return takeaway, (
        "One dot per seed, a diamond where most seeds have failed, a cross for theory's prediction; "
        "'never': healthy at every probed depth; dashed lines at depths 8 and 20."
    )


def exercise_2(tables: answers.Tables) -> Caption:
    answer = answers.exercise_2(tables.training)
    numbers = answer.numbers
    if numbers.empty:
        return "No Xavier runs under both activations.", MISSING
    changed, baseline, mine = (display(x) for x in (answers.EX2_CHANGED, answers.EX2_BASELINE, answers.EX2_INIT))
    gap_changed, gap_baseline = (f"median_seed_gap_{x}" for x in (answers.EX2_CHANGED, answers.EX2_BASELINE))
    head = numbers.loc[(numbers["depth"] - LESSON_DEPTH).abs().idxmin()]
    closes = head[gap_changed] < head[gap_baseline]
    # the depths that side with the lesson's depth: closer with the change where it closes, further where not
    siding = int(
        (
            (numbers[gap_changed] < numbers[gap_baseline]) if closes else (numbers[gap_changed] > numbers[gap_baseline])
        ).sum()
    )
    takeaway = (
        f"With {changed}, {mine} {'closes' if closes else 'does not close'} the gap to the best init: at depth "
        f"{head['depth']:g} its median end loss is {sig(head[gap_changed])}× the best's, against "
        f"{sig(head[gap_baseline])}× with {baseline}, and it is {'closer to' if closes else 'further from'} the best "
        f"with {changed} at {siding} of {len(numbers)} depths."
    )
    return takeaway, (
        f"Per seed, {mine}'s end loss divided by the best init's in that seed "
        "(1 = the best); a bar marks the median; log scale."
    )


def exercise_2_ablation(tables: answers.Tables) -> Caption:
    read = figs.exercise2_ablation(tables)
    if read is None:
        return "No layer-swap ablation of Exercise 2's cell is configured.", MISSING
    rows, layer = read
    medians = rows.groupby("variant")["end_loss"].median()
    a, b = display(rows["init_a"].iloc[0]), display(rows["init_b"].iloc[0])
    share = float(layer_shares(rows).set_index("layer").loc[layer, "share_of_gap"])
    takeaway = (
        f"{figs.ablation_cell_title(rows.iloc[0])}: taking only layer {layer} from {b} closes {share:.0%} of "
        f"{possessive(rows['init_a'].iloc[0])} gap to {b}, its median end loss going from "
        f"{sig(medians['all_a'])} to {sig(medians['swap'])} (all {b}: {sig(medians['all_b'])})."
    )
    return takeaway, (
        f"One line per seed through its three runs (same data order and seed): all {a}, {a} with layer {layer} "
        f"from {b}, all {b}; the black bars are the medians; lower is better."
    )


def exercise_3(tables: answers.Tables) -> Caption:
    numbers = fragility(tables.training)
    lesson = numbers[numbers["activation"] == answers.LESSON_ACTIVATION] if len(numbers) else numbers
    if lesson.empty:
        return "No runs of the lesson's cell under both optimizers.", MISSING
    changed, baseline = display(answers.EX3_CHANGED), display(answers.EX3_BASELINE)
    rising = lesson[lesson["fail_rate_increase"] > 0].sort_values("fail_rate_increase", ascending=False)
    if rising.empty:
        takeaway = f"No init is fragile under {changed}: none fails more often than with {baseline}."
    else:
        top = rising.iloc[0]
        inits = rising["init"].tolist()
        others = len(lesson) - len(inits)
        takeaway = (
            f"{capitalised(displays(inits))} {'is' if len(inits) == 1 else 'are'} fragile under {changed}: "
            f"{'its' if len(inits) == 1 else possessive(top['init'])} runs fail in "
            f"{top[f'fail_rate_{answers.EX3_CHANGED}']:.0%} of seeds, against "
            f"{top[f'fail_rate_{answers.EX3_BASELINE}']:.0%} with {baseline}, while the other {others} inits fail "
            f"no more often."
        )
    return takeaway, (
        "Left: share of seeds whose run fails (run-failure criterion); right: every seed's end loss, "
        "a bar at the median, log scale; non-finite losses are not drawn."
    )


def next_probe(tables: answers.Tables) -> Caption:
    rates = answers.depth_failure_rates(tables.training)
    if rates.empty:
        return "No runs of the lesson's net.", MISSING
    answer = answers.next_probe(tables.training)
    per_init = rates.groupby("init")["failures"].max()
    never = int((per_init == 0).sum())
    return f"{answer.summary[:-1]}; {never} of {len(per_init)} inits never fail at any depth.", (
        "Each cell: seeds failing / seeds at that depth of the lesson's net; darker = more failing."
    )


def signal_std(tables: answers.Tables) -> Caption:
    last = _probe_last(tables)
    if last.empty:
        return "No signal-probe rows.", MISSING
    median = last.groupby(["activation", "init"])["std"].median()
    depth = int(last["depth"].iloc[0])
    activations = set(last["activation"])
    vanished = [key for key, v in median.items() if v < answers.VANISHED_STD]
    exploded = [key for key, v in median.items() if v > answers.EXPLODED_STD]

    def listed(keys: list[tuple[str, str]]) -> str:
        return f" ({_by_init(keys, activations)})" if keys else ""

    lost = (
        f"vanished for {len(vanished) or 'none'} of {len(median)} (activation, init) pairs{listed(vanished)} "
        f"and exploded for {len(exploded) or 'none'}{listed(exploded)}"
    )
    pairs = [(a, claims.MATCHED_INIT[a]) for a in sorted(activations) if (a, claims.MATCHED_INIT.get(a)) in median]
    stds = [median[p] for p in pairs]
    keep = (
        f"; the matched inits ({_by_init(pairs, activations)}) keep its std between {sig(min(stds))} and "
        f"{sig(max(stds))}"
        if pairs
        else ""
    )
    takeaway = f"By layer {depth} the signal has {lost}{keep}."
    return takeaway, (
        "Median over seeds with a min–max band; grey dashed lines: the vanish and explode thresholds "
        f"({answers.VANISHED_STD:g} and {answers.EXPLODED_STD:g}); triangles: a series beyond the drawn range."
    )


def signal_ratios(tables: answers.Tables) -> Caption:
    last = _probe_last(tables)
    if last.empty:
        return "No signal-probe rows.", MISSING
    median = last.groupby(["activation", "init"])["saturated_ratio"].median()
    saturated = list(median[median > answers.SATURATED_FRACTION].index)
    if saturated:
        takeaway = (
            f"Saturation stalls {_by_init(saturated, set(last['activation']))}: more than "
            f"{answers.SATURATED_FRACTION:.0%} of last-layer "
            f"units sit at |x| > 0.98 ({len(saturated)} of {len(median)} pairs)."
        )
    else:
        takeaway = (
            f"No init saturates: in every one of the {len(median)} pairs at most "
            f"{answers.SATURATED_FRACTION:.0%} of last-layer units sit at |x| > 0.98."
        )
    return (
        takeaway,
        "Top: share of outputs at exactly 0; bottom: share beyond |x| > 0.98; dashed: the saturation threshold.",
    )


def gradient_norms(tables: answers.Tables) -> Caption:
    deepest = figs.deepest_probe(tables.signal_probe)
    if deepest.empty:
        return "No signal-probe rows.", MISSING
    norms = deepest.groupby(["activation", "init", "layer"])["act_grad_norm"].median()
    top = deepest["layer"].max()
    ratio = (norms.xs(1, level="layer") / norms.xs(top, level="layer")).replace([np.inf, -np.inf], np.nan).dropna()
    faded = ratio[ratio < VANISHED_GRADIENT_RATIO]
    if faded.empty:
        takeaway = (
            f"The gradient reaches the first layer in every pair: nowhere is it below {VANISHED_GRADIENT_RATIO:g} "
            "of the last layer's."
        )
    else:
        per_act = faded.groupby(level="activation").size().sort_values(ascending=False)
        totals = ratio.groupby(level="activation").size()
        worst = per_act.index[0]
        takeaway = (
            f"The gradient fades on its way back for {len(faded)} of {len(ratio)} pairs, most with {display(worst)} "
            f"({per_act.iloc[0]} of {totals[worst]} inits): their first layer gets under "
            f"{VANISHED_GRADIENT_RATIO:g} of the last layer's gradient."
        )
    return takeaway, "Median over seeds per layer, log scale; the gradient flows from the last layer back to the first."


def training_lesson_cell(tables: answers.Tables) -> Caption:
    rows = answers.with_run_failure(
        answers.select_runs(tables.training, answers.LESSON_ACTIVATION, answers.LESSON_OPTIMIZER)
    )
    if rows.empty:
        return "No runs of the lesson's cell.", MISSING
    median = stats.as_worst_if_nonfinite(rows["end_loss"]).groupby(rows["init"]).median()
    failing = rows.groupby("init")["failed"].mean() > 0.5
    trained = median[~failing.reindex(median.index, fill_value=False)].sort_values()
    stuck = answers.init_order(median.index[failing.reindex(median.index, fill_value=False)])
    lead = (
        f"In the lesson's cell {len(trained)} of {len(median)} inits train, to a median end loss between "
        f"{sig(trained.iloc[0])} ({display(trained.index[0])}) and {sig(trained.iloc[-1])} "
        f"({display(trained.index[-1])})"
        if len(trained)
        else "In the lesson's cell no init trains"
    )
    if stuck:
        lead += (
            f"; {displays(stuck)} {'fails' if len(stuck) == 1 else 'fail'} in most seeds (median end loss "
            + ", ".join(sig(median[i]) for i in stuck)
            + ")"
        )
    return lead + ".", (
        "Every seed a dot, a bar at the median; left: end loss (log); right: validation accuracy, "
        "dashed at the near-chance line."
    )


def _wins(best: pd.Series, measure: str, where: str) -> str:
    """'No init has the lowest median end loss everywhere: orthogonal has it in 7 of 16 training cells, large
    in 5', from the winner counts (most first)."""
    total = int(best.sum())
    if best.iloc[0] == total:
        return f"{capitalised(display(best.index[0]))} has the {measure} in all {total} {where}."
    runner = f", {display(best.index[1])} in {best.iloc[1]}" if len(best) > 1 else ""
    return (
        f"No init has the {measure} everywhere: {display(best.index[0])} has it in {best.iloc[0]} of {total} "
        f"{where}{runner}."
    )


def training_cells(tables: answers.Tables) -> Caption:
    training = tables.training
    if training.empty:
        return "No training rows.", MISSING
    cells = list(answers.TRAINING_CELL)
    scored = training.assign(score=stats.as_worst_if_nonfinite(training["end_loss"]))
    median = scored.groupby([*cells, "init"])["score"].median().reset_index()
    best = median.loc[median.groupby(cells)["score"].idxmin(), "init"].value_counts()
    best = best.sort_index(key=lambda idx: idx.map({n: i for i, n in enumerate(answers.init_order(idx))}))
    best = best.sort_values(ascending=False, kind="stable")
    return _wins(best, "lowest median end loss", "training cells"), (
        "Median end loss per training cell (row) and init (column); darker = higher; 'div': non-finite."
    )


def loss_curves(tables: answers.Tables) -> Caption:
    curves = tables.curves
    if curves.empty:
        return "No loss-curve rows.", MISSING
    last = curves[curves["step"] == curves.groupby(["activation", "optimizer", "depth"])["step"].transform("max")]
    median = last.groupby(["activation", "optimizer", "depth", "init"])["loss"].median().reset_index()
    median = median[np.isfinite(median["loss"])]
    best = median.loc[median.groupby(["activation", "optimizer", "depth"])["loss"].idxmin(), "init"].value_counts()
    best = best.sort_index(key=lambda idx: idx.map({n: i for i, n in enumerate(answers.init_order(idx))}))
    best = best.sort_values(ascending=False, kind="stable")
    return (
        _wins(best, "lowest median loss at the last step", "panels"),
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
    if decided == len(pairs):
        takeaway = f"Every seed orders all {len(pairs)} init pairs the same way: one seed's ranking is the ranking."
    else:
        takeaway = (
            f"Seeds settle the order of only {decided} of {len(pairs)} init pairs; the other {len(pairs) - decided} "
            "flip between seeds, so one seed's ranking of those inits is not to be trusted."
        )
    return takeaway, (
        "Each cell: the share of seeds in which the row's init ends with a lower loss than the "
        "column's (ties count half), in the lesson's cell; 0 or 1: the same order in every seed."
    )


def theory_agreement(tables: answers.Tables) -> Caption:
    comparison = theory_answers.theory_comparison(tables.signal_probe, tables.theory)
    if comparison.empty:
        return "No theory table.", MISSING
    errors = comparison["median_rel_error"].astype(float)
    close = int((errors <= theory_answers.AGREEMENT_TOLERANCE).sum())
    worst = comparison.loc[errors.idxmax()]
    per_act = theory_answers.error_by_activation(comparison).sort_values("median_rel_error")
    typical = ", ".join(f"{display(r.activation)} {r.median_rel_error:.0%}" for r in per_act.itertuples())
    takeaway = (
        f"Theory tracks the probe's std to within {theory_answers.AGREEMENT_TOLERANCE:.0%} for {close} of "
        f"{len(comparison)} pairs (typical error: {typical}); furthest off: {display(worst['init'])} with "
        f"{display(worst['activation'])} ({errors.max():.0%})."
    )
    return takeaway, "Median relative error of theory's output std over layers, depths and seeds; darker = further off."


def fragility_map(tables: answers.Tables) -> Caption:
    from initlab.report.answers import fragility as sweep

    table = sweep.fragility_table(tables.training)
    if table.empty:
        return "One learning rate per optimizer.", MISSING
    failing = table[table["failure_rate"] > 0.5]
    firsts = [
        (lr, cell, init)
        for cell in sweep.fragility_cells(tables.training)
        for init, lr in cell.first_failure.items()
        if np.isfinite(lr)
    ]
    if firsts:
        lr, cell, init = min(firsts, key=lambda f: f[0])
        lead = (
            f"{capitalised(display(init))} is the first to break as the learning rate rises: it stops training at "
            f"lr {lr:g} ({display(cell.activation)}, {display(cell.optimizer)})"
        )
    else:
        lead = "No init stops training as the learning rate rises within the sweep"
    return (
        f"{lead}; {len(failing)} of {len(table)} (init, learning rate) cells fail in most seeds.",
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


def model_caption(tables: answers.Tables, model: str) -> Caption:
    """A configured model's figure: what it adds to the section's answer (how many inits share the top
    within the seeds' noise, which fail, per optimizer) and its legend in words."""
    from initlab.report.answers import models as model_answers

    result = next(r for r in model_answers.model_results(tables) if r.model == model)
    n_seeds = int(tables.models.loc[tables.models["model"] == model, "seed"].nunique())  # type: ignore[union-attr]
    return model_answers.figure_takeaway(result), (
        f"One row per init, best first, each panel on its own range; the big dot is the mean validation accuracy over "
        f"{n_seeds} seeds, the bar its 95 % interval, the small dots the seeds. Colour: the lesson's evidence record "
        "(red, Bad Start: the run fails; orange, Warning Start: it trains from a start loss above 2 ln C; blue, Usable "
        "Start). '(warned)': the probe before training warned of the start in most seeds. A failing init sits at the "
        "left edge with its mean beside it; a dashed line marks near chance."
    )


def caption(name: str, tables: answers.Tables) -> Caption:
    """The caption of figure ``name``; a figure whose rows are missing says so instead of failing."""
    models = {figs.model_figure_name(m): m for m in figs.figure_models(tables)}
    try:
        if name in models:
            return model_caption(tables, models[name])
        return CAPTIONS[name](tables)
    except (KeyError, IndexError, ValueError) as error:  # rows a takeaway needs are missing
        return f"No takeaway: the tables lack the rows this figure needs ({error.__class__.__name__}).", MISSING
