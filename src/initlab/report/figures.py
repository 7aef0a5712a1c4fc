"""Figures of the report, drawn from the study's tables.

``FIGURES`` maps a fixed PNG file name to the function that draws it. The
workflow declares these names as outputs, so the set of files never depends
on the data: a figure whose rows are missing is still written, saying what
is missing.

Seaborn's default bootstrap error bars would resample every point of the
large tables; instead every summary (median and min–max over seeds) is
computed once with pandas and drawn directly, which keeps the whole figure
step at a few seconds for the default study.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)
import matplotlib.text as mtext  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from initlab.report import answers, stats, style  # noqa: E402
from initlab.report.answers import fragility, runs  # noqa: E402
from initlab.report.answers import theory as theory_answers  # noqa: E402
from initlab.report.answers.evidence import EVIDENCE_LABELS  # noqa: E402
from initlab.report.answers.tables import memoised  # noqa: E402
from initlab.report.answers.text import display, sig  # noqa: E402
from initlab.report.figure_data import (  # noqa: E402
    DPI,
    FIGURE_NAMES,
    SWEEP_FIGURE_NAMES,
    ablation_cell_title,
    deepest_probe,
    exercise2_ablation,
    figure_models,
    model_figure_name,
)

#: Width of a figure that spans the text column (about 1,000 CSS px at 1280 px), and of one of a pair.
FULL_WIDTH_IN = 10.0
HALF_WIDTH_IN = 5.0
#: The smallest font drawn (annotations, captions): 9 pt shows as 12 CSS px, above the 11 px a
#: reader can still read comfortably.
SMALL_FONT = 9
#: A log axis of a signal std is drawn over this window around the failure thresholds (factor
#: beyond each): the thresholds stay decades apart on screen; a series beyond is marked at the edge.
STD_WINDOW = 1e3
#: Seed of the strip-plot jitter, fixed so that figures are reproducible.
JITTER_SEED = 0
#: Colour per optimizer / activation for two-way comparisons.
PAIR_COLOURS = {"adam": "#4C72B0", "sgd": "#DD8452", "relu": "#4C72B0", "tanh": "#55A868"}
#: Horizontal offset (in category widths) of theory's cross from the measured diamond in Exercise
#: 1's figure: where theory is right they share a depth, and drawn on one spot the cross hides it.
THEORY_OFFSET = 0.28


def pair_colour(name: str) -> str | None:
    """:data:`PAIR_COLOURS` by table key or by display name (figures label with display names)."""
    by_display = {display(k): v for k, v in PAIR_COLOURS.items()}
    return PAIR_COLOURS.get(name, by_display.get(name))


def init_palette(names: list[str]) -> dict[str, tuple[float, float, float]]:
    """A fixed colour per init, so an init looks the same in every figure: its family's hue
    (:func:`style.init_styles`; line figures also take the family member's line style and marker)."""
    return {name: s.color for name, s in style.init_styles(names).items()}


def _placeholder(message: str) -> Figure:
    """A figure that states which data is missing (keeps the output file set fixed)."""
    fig, ax = plt.subplots(figsize=(HALF_WIDTH_IN, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return fig


def _positive_finite(values: pd.Series) -> pd.Series:
    """Values usable on a log axis (NaN/inf and non-positive dropped)."""
    values = pd.to_numeric(values, errors="coerce")
    return values.where(np.isfinite(values) & (values > 0))


def _deepest_theory(tables: answers.Tables, data: pd.DataFrame) -> pd.DataFrame | None:
    """Theory's rows for the probe networks in ``data`` (same width and depth); None without a theory table."""
    if tables.theory is None or tables.theory.empty or data.empty:
        return None
    theory = tables.theory
    keep = (theory["width"] == data["width"].iloc[0]) & (theory["depth"] == data["depth"].iloc[0])
    return theory[keep] if keep.any() else None


#: A linear panel whose values (measured and predicted) span less than this is drawn over a window
#: of that width instead: otherwise matplotlib magnifies e.g. theory's 1e-75 zero fraction of
#: sigmoid/large into a full-height spike above an axis labelled "1e-75".
MIN_LINEAR_SPAN = 0.1


def _keep_visible_range(ax) -> None:
    """Widen a linear y axis to at least ``MIN_LINEAR_SPAN`` around its data."""
    low, high = ax.get_ylim()
    if high - low < MIN_LINEAR_SPAN:
        middle = (low + high) / 2
        ax.set_ylim(middle - MIN_LINEAR_SPAN / 2, middle + MIN_LINEAR_SPAN / 2)


def _per_layer_lines(
    data: pd.DataFrame,
    metrics: list[str],
    log: bool,
    title: str,
    thresholds: dict[str, list[float]] | None = None,
    predicted: pd.DataFrame | None = None,
    window: tuple[float, float] | None = None,
) -> Figure:
    """Median over seeds per (activation, init, layer) with a min–max band; rows = metrics, columns = activations.

    ``window``: (bottom, top) of every log panel, series beyond it marked at the edge.

    ``predicted``: theory's rows (``theory.csv``) for the same networks, drawn dashed in the init's colour
    (the title then says so).
    """
    if predicted is not None:
        title += _THEORY_NOTE
    activations = sorted(data["activation"].unique())
    styles = style.init_styles(data["init"].unique())
    fig, axes = plt.subplots(
        len(metrics),
        len(activations),
        figsize=((FULL_WIDTH_IN - 1.6), 2.6 * len(metrics) + 0.6),
        squeeze=False,
        sharex=True,
    )
    for r, metric in enumerate(metrics):
        raw = pd.to_numeric(data[metric], errors="coerce")
        values = data.assign(value=_positive_finite(raw) if log else raw)
        summary = values.groupby(["activation", "init", "layer"])["value"].agg(["median", "min", "max"]).reset_index()
        for c, activation in enumerate(activations):
            ax = axes[r][c]
            for init in answers.init_order(summary.loc[summary["activation"] == activation, "init"]):
                line = summary[(summary["activation"] == activation) & (summary["init"] == init)]
                ax.plot(line["layer"], line["median"], label=init, lw=1.5, **styles[init].line_kwargs(len(line)))
                ax.fill_between(line["layer"], line["min"], line["max"], color=styles[init].color, alpha=0.12, lw=0)
                if predicted is not None:
                    # Theory: a thin dashed line without markers in the init's hue (measured lines are
                    # thicker and, for family members, carry markers).
                    theory = predicted[(predicted["activation"] == activation) & (predicted["init"] == init)]
                    values = pd.to_numeric(theory[metric], errors="coerce")
                    ax.plot(
                        theory["layer"],
                        _positive_finite(values) if log else values,
                        color=styles[init].color,
                        ls="--",
                        lw=1.0,
                        alpha=0.85,
                    )
            for level in (thresholds or {}).get(metric, []):
                ax.axhline(level, color="grey", ls="--", lw=0.8)
            if log:
                ax.set_yscale("log")
            else:
                _keep_visible_range(ax)
            ax.set_title(f"{display(activation)}" if r == 0 else "")
            ax.set_ylabel(AXIS_WORDS.get(metric, metric) if c == 0 else "")
            ax.set_xlabel("layer" if r == len(metrics) - 1 else "")
    if window is not None:  # thresholds visible: a fixed window around them, off-scale series marked
        clipping = style.clip_to_window(axes.flat, *window, label=display)
    else:  # each panel its own range; a vanished init dominates a log range as much as an exploded one
        clipping = style.Clipping.merge(style.clip_exploding([ax], low=True) for ax in axes.flat)
    style.legend_outside(fig, axes, answers.init_order(data["init"]), labels=display)
    fig.suptitle(title)
    fig.tight_layout()
    style.add_caption(fig, clipping.caption(), fontsize=SMALL_FONT)
    return fig


#: Axis labels in words, for the tables' column names.
AXIS_WORDS: dict[str, str] = {
    "std": "std of the layer's output",
    "zero_ratio": "share of outputs at 0",
    "saturated_ratio": "share saturated (|x| > 0.98)",
    "grad_norm": "weight-gradient norm",
    "act_grad_norm": "gradient norm at the layer",
    "end_loss": "end loss",
    "val_acc": "validation accuracy",
}


#: Appended to a per-layer figure's title when theory's prediction is drawn in it.
_THEORY_NOTE = " (thin dashed: theory)"


def fig_signal_std(tables: answers.Tables) -> Figure:
    """Signal std through the layers of the deepest probe; dashed: vanish/explode thresholds."""
    data = deepest_probe(tables.signal_probe)
    if data.empty:
        return _placeholder("no signal-probe rows")
    depth = data["depth"].iloc[0]
    return _per_layer_lines(
        data,
        ["std"],
        log=True,
        title=f"Output std per layer, depth-{depth} probe",
        thresholds={"std": [answers.VANISHED_STD, answers.EXPLODED_STD]},
        predicted=_deepest_theory(tables, data),
        window=(answers.VANISHED_STD / STD_WINDOW, answers.EXPLODED_STD * STD_WINDOW),
    )


def fig_signal_ratios(tables: answers.Tables) -> Figure:
    """Zero and saturated ratios per layer of the deepest probe; dashed: saturation threshold."""
    data = deepest_probe(tables.signal_probe)
    if data.empty:
        return _placeholder("no signal-probe rows")
    return _per_layer_lines(
        data,
        ["zero_ratio", "saturated_ratio"],
        log=False,
        title=f"Zero and saturated outputs per layer, depth-{data['depth'].iloc[0]} probe",
        thresholds={"saturated_ratio": [answers.SATURATED_FRACTION]},
        predicted=_deepest_theory(tables, data),
    )


def fig_gradient_norms(tables: answers.Tables) -> Figure:
    """Weight-gradient and activation-gradient norms per layer of the deepest probe."""
    data = deepest_probe(tables.signal_probe)
    if data.empty:
        return _placeholder("no signal-probe rows")
    return _per_layer_lines(
        data,
        ["grad_norm", "act_grad_norm"],
        log=True,
        title=f"Gradient norms per layer, depth-{data['depth'].iloc[0]} probe",
        predicted=_deepest_theory(tables, data),
    )


def fig_exercise_1(tables: answers.Tables) -> Figure:
    """Per-seed failure depth of each init (every seed a dot; 'never' on top), one panel per activation,
    with theory's predicted failure depth (a cross) where there is a theory table."""
    if tables.signal_probe.empty:
        return _placeholder("no signal-probe rows")
    per_seed = answers.probe_failure_depths(tables.signal_probe)
    summary = answers.probe_failure_summary(per_seed)
    never = per_seed["max_depth"].max() * 1.6
    per_seed = per_seed.assign(shown=per_seed["failure_depth"].replace(np.inf, never))
    summary = summary.assign(shown=summary["failure_depth"].replace(np.inf, never))
    comparison = _theory_comparison(tables)
    order = answers.init_order(per_seed["init"])
    activations = sorted(per_seed["activation"].unique())
    fig, axes = plt.subplots(1, len(activations), figsize=(FULL_WIDTH_IN - 1.8, 3.4), squeeze=False, sharey=True)
    depths = sorted(tables.signal_probe["depth"].unique())
    for ax, activation in zip(axes[0], activations, strict=True):
        sub = per_seed[per_seed["activation"] == activation]
        sns.stripplot(
            data=sub,
            x="init",
            y="shown",
            order=order,
            ax=ax,
            color="#4C72B0",
            alpha=0.5,
            jitter=0.2,
            size=4,
            legend=False,
        )
        majority = summary[summary["activation"] == activation].set_index("init").reindex(order)
        ax.scatter(
            range(len(order)), majority["shown"], marker="D", color="black", s=26, zorder=3, label="majority of seeds"
        )
        if not comparison.empty:
            predicted = comparison[comparison["activation"] == activation].set_index("init").reindex(order)
            ax.scatter(
                np.arange(len(order)) + THEORY_OFFSET,
                predicted["predicted_depth"].astype(float).replace(np.inf, never),
                marker="x",
                color="#C44E52",
                s=40,
                zorder=4,
                label="theory's prediction",
            )
        for level in (answers.EX1_FROM_DEPTH, answers.EX1_TO_DEPTH):
            ax.axhline(level, color="grey", ls="--", lw=0.8)
        ax.set_yscale("log", base=2)
        ax.set_yticks([*depths, never], [*(str(d) for d in depths), "never"])
        ax.minorticks_off()
        ax.set_title(display(activation))
        ax.set_xlabel("")
        ax.set_xticks(range(len(order)), [display(i) for i in order], rotation=60, ha="right")
        ax.set_ylabel("first failing depth" if ax is axes[0][0] else "")
    seed = plt.Line2D([], [], ls="none", marker="o", color="#4C72B0", alpha=0.5, markersize=5)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend([seed, *handles], ["one seed", *labels], loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def _strip_with_median(ax, data: pd.DataFrame, x: str, y: str, order: list[str], hue: str | None = None) -> None:
    """Every seed as a dot plus the median as a bar marker (no bootstrap: ``errorbar=None``).

    Dodging needs two hue levels (seaborn divides by levels - 1), so a
    single level is drawn undodged.
    """
    palette = {k: pair_colour(k) or "#4C72B0" for k in data[hue].unique()} if hue else None
    dodge = hue is not None and data[hue].nunique() > 1
    sns.stripplot(
        data=data,
        x=x,
        y=y,
        hue=hue,
        order=order,
        ax=ax,
        dodge=dodge,
        alpha=0.55,
        size=3.5,
        palette=palette,
        color=None if hue else "#4C72B0",
        legend=hue is not None,
    )
    sns.pointplot(
        data=data,
        x=x,
        y=y,
        hue=hue,
        order=order,
        ax=ax,
        dodge=0.4 if dodge else False,
        estimator="median",
        errorbar=None,
        linestyle="none",
        markers="_",
        markersize=14,
        palette=palette,
        color=None if hue else "black",
        legend=False,
    )
    if ax.get_legend() is not None:  # legends never cover data
        sns.move_legend(ax, "center left", bbox_to_anchor=(1.0, 0.5), frameon=False)


def fig_training_lesson_cell(tables: answers.Tables) -> Figure:
    """End loss and validation accuracy per init in the lesson's cell, every seed shown."""
    rows = answers.select_runs(tables.training, answers.LESSON_ACTIVATION, answers.LESSON_OPTIMIZER)
    if rows.empty:
        return _placeholder("no training rows for the lesson's cell")
    order = answers.init_order(rows["init"])
    plotted = rows.assign(end_loss=_positive_finite(rows["end_loss"]), init=rows["init"].map(display))
    order = [display(i) for i in order]
    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH_IN, 3.4))
    _strip_with_median(axes[0], plotted, "init", "end_loss", order)
    axes[0].set_yscale("log")
    _strip_with_median(axes[1], plotted, "init", "val_acc", order)
    axes[1].axhline(answers.NEAR_CHANCE_ACCURACY, color="grey", ls="--", lw=0.8)
    nonfinite = rows.groupby("init")["end_loss"].apply(lambda s: int((~np.isfinite(s.astype(float))).sum()))
    for i, init in enumerate(order):
        if nonfinite.get(init, 0):
            axes[0].annotate(
                f"{nonfinite[init]} non-finite",
                (i, 1),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="bottom",
                fontsize=SMALL_FONT,
                color="firebrick",
            )
    for ax in axes:
        ax.tick_params(axis="x", rotation=60)
        ax.set_xlabel("")
    axes[0].set_ylabel(AXIS_WORDS["end_loss"])
    axes[1].set_ylabel(AXIS_WORDS["val_acc"])
    fig.tight_layout()
    return fig


def _cell_label(row: pd.Series) -> str:
    return f"{display(row['activation'])}, {display(row['optimizer'])}, {row['depth']} layers"


def fig_training_cells(tables: answers.Tables) -> Figure:
    """Median end loss (non-finite counted as worst) for every init × training cell."""
    training = tables.training
    if training.empty:
        return _placeholder("no training rows")
    scored = training.assign(
        score=stats.as_worst_if_nonfinite(training["end_loss"]), cell=training.apply(_cell_label, axis=1)
    )
    cells = scored.sort_values(["activation", "optimizer", "depth"])["cell"].unique()
    table = scored.pivot_table(index="cell", columns="init", values="score", aggfunc="median")
    inits = answers.init_order(table.columns)
    table = table.reindex(index=cells, columns=inits)
    table.columns = [display(i) for i in inits]
    shown = table.where(np.isfinite(table))
    fig, ax = plt.subplots(figsize=(min(FULL_WIDTH_IN - 1, 2.4 + 0.68 * table.shape[1]), 1.2 + 0.3 * len(table)))
    positive = shown.to_numpy()[np.isfinite(shown.to_numpy()) & (shown.to_numpy() > 0)]
    spans = positive.size and positive.min() < positive.max()
    norm = LogNorm(vmin=positive.min(), vmax=positive.max()) if spans else None
    sns.heatmap(
        shown,
        ax=ax,
        norm=norm,
        cmap="rocket_r",
        annot=True,
        fmt=".2g",
        annot_kws={"fontsize": SMALL_FONT},
        cbar_kws={"label": "median end loss"},
        mask=shown.isna(),
    )
    for i, j in zip(*np.where(~np.isfinite(table.to_numpy())), strict=True):
        ax.text(j + 0.5, i + 0.5, "div", ha="center", va="center", fontsize=SMALL_FONT, color="firebrick")
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=60)
    ax.grid(False)
    ax.set_xlabel("")
    ax.set_ylabel("")
    fig.tight_layout()
    return fig


def fig_loss_curves(tables: answers.Tables) -> Figure:
    """Median training loss over seeds per step, one panel per cell (log y, non-finite dropped)."""
    curves = tables.curves
    if curves.empty:
        return _placeholder("no loss-curve rows")
    curves = curves.assign(loss=_positive_finite(curves["loss"]))
    summary = curves.groupby(["activation", "optimizer", "depth", "init", "step"])["loss"].median().reset_index()
    panels = summary[["activation", "optimizer"]].drop_duplicates().sort_values(["activation", "optimizer"])
    depths = sorted(summary["depth"].unique())
    styles = style.init_styles(summary["init"].unique())
    fig, axes = plt.subplots(
        len(panels),
        len(depths),
        figsize=(FULL_WIDTH_IN - 1.8, 1.9 * len(panels) + 0.6),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    for r, (activation, optimizer) in enumerate(panels.itertuples(index=False)):
        for c, depth in enumerate(depths):
            ax = axes[r][c]
            cell = summary[
                (summary["activation"] == activation)
                & (summary["optimizer"] == optimizer)
                & (summary["depth"] == depth)
            ]
            for init, line in cell.groupby("init", sort=False):
                ax.plot(line["step"], line["loss"], label=init, lw=1.2, **styles[init].line_kwargs(len(line)))
            ax.set_yscale("log")
            ax.set_title(f"{display(activation)}, {display(optimizer)}, {depth} layers", fontsize=SMALL_FONT)
    # the panels share one y range: one diverging init (large at depth 16) would set it for all
    clipping = style.clip_exploding(axes)
    style.legend_outside(fig, axes, answers.init_order(summary["init"]), labels=display)
    fig.supxlabel("training step")
    fig.supylabel("training loss (median over seeds)")
    fig.tight_layout()
    style.add_caption(fig, clipping.caption(), fontsize=SMALL_FONT)
    return fig


def fig_exercise_2(tables: answers.Tables) -> Figure:
    """Xavier's per-seed end loss relative to that seed's best init, ReLU vs Tanh, per depth."""
    rows = pd.concat(
        [
            answers.select_runs(tables.training, act, answers.LESSON_OPTIMIZER, all_depths=True)
            for act in (answers.EX2_BASELINE, answers.EX2_CHANGED)
        ]
    )
    gaps = answers.xavier_gaps(rows) if len(rows) else pd.DataFrame()
    if gaps.empty:
        return _placeholder(f"no {answers.EX2_INIT} runs under {answers.EX2_BASELINE}/{answers.EX2_CHANGED}")
    gaps = gaps.assign(
        ratio=_positive_finite(np.exp(gaps["log_gap"])),
        depth=gaps["depth"].astype(str),
        activation=gaps["activation"].map(display),
    )
    order = [str(d) for d in sorted(rows["depth"].unique())]
    fig, ax = plt.subplots(figsize=(HALF_WIDTH_IN - 0.9, 3.2))
    _strip_with_median(ax, gaps, "depth", "ratio", order, hue="activation")
    ax.set_yscale("log")
    ax.axhline(1, color="grey", lw=0.8)
    ax.set_xlabel("hidden layers")
    ax.set_ylabel(f"{display(answers.EX2_INIT)}'s end loss / best init's")
    fig.tight_layout()
    return fig


def fig_exercise2_ablation(tables: answers.Tables) -> Figure:
    """Exercise 2's layer-swap ablation: one line per seed through all-Xavier, Xavier with only the
    carrying layer from He, and all-He (end loss, log)."""
    read = exercise2_ablation(tables)
    if read is None:
        return _placeholder(
            f"no layer-swap ablation of {answers.EX2_INIT} vs he under {answers.EX2_CHANGED} "
            "(add it under ablations: in the config)"
        )
    rows, _ = read
    cell = rows.iloc[0]
    order = list(
        dict.fromkeys(rows.sort_values("variant", key=lambda v: v.map({"all_a": 0, "swap": 1, "all_b": 2}))["run"])
    )
    wide = rows.pivot_table(index="seed", columns="run", values="end_loss", aggfunc="first").reindex(columns=order)
    fig, ax = plt.subplots(figsize=(HALF_WIDTH_IN - 0.3, 3.2))
    x = np.arange(len(order))
    for _, line in wide.iterrows():
        ax.plot(x, _positive_finite(line), color="#4C72B0", alpha=0.45, lw=1, marker="o", ms=3.5)
    ax.plot(x, wide.median().to_numpy(), color="black", lw=2.2, marker="_", ms=16, label="median")
    ax.set_xticks(x, [o.replace(", ", ",\n") for o in order])
    ax.set_yscale("log")
    ax.set_ylabel("end loss (one line per seed)")
    ax.set_title(ablation_cell_title(cell), fontsize=SMALL_FONT + 1)
    ax.legend(loc="upper right", frameon=False)
    fig.tight_layout()
    return fig


def fig_exercise_3(tables: answers.Tables) -> Figure:
    """Failure rate and per-seed end loss per init, Adam vs SGD, in the lesson's cell."""
    rows = pd.concat(
        [
            answers.select_runs(tables.training, answers.LESSON_ACTIVATION, opt)
            for opt in (answers.EX3_BASELINE, answers.EX3_CHANGED)
        ]
    )
    if rows["optimizer"].nunique() < 2:
        return _placeholder(f"no {answers.EX3_BASELINE} and {answers.EX3_CHANGED} runs of the lesson's cell")
    rows = answers.with_run_failure(rows)
    order = [display(i) for i in answers.init_order(rows["init"])]
    palette = {display(k): pair_colour(k) for k in rows["optimizer"].unique() if pair_colour(k)}
    rows = rows.assign(init=rows["init"].map(display), optimizer=rows["optimizer"].map(display))
    rates = rows.groupby(["init", "optimizer"])["failed"].mean().reset_index()
    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH_IN - 0.8, 3.4))
    sns.barplot(
        data=rates, x="init", y="failed", hue="optimizer", order=order, ax=axes[0], palette=palette, errorbar=None
    )
    axes[0].set_ylabel("share of seeds failing")
    axes[0].set_ylim(0, 1.05)
    _strip_with_median(
        axes[1], rows.assign(end_loss=_positive_finite(rows["end_loss"])), "init", "end_loss", order, hue="optimizer"
    )
    axes[1].set_yscale("log")
    axes[1].set_ylabel(AXIS_WORDS["end_loss"])
    for ax in axes:
        ax.tick_params(axis="x", rotation=60)
        ax.set_xlabel("")
    # One legend for both panels (the bars and the dots share the optimizer's colour), above them.
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def _failure_share_map(ax, rate: pd.DataFrame, labels: pd.DataFrame, cbar_label: str, **kwargs: object) -> None:
    """A heat map of the share of seeds failing (0 to 1, darker = more failing), each cell written
    out by ``labels`` (e.g. '3/10'): the next probe's map and the fragility map alike."""
    sns.heatmap(
        rate,
        ax=ax,
        vmin=0,
        vmax=1,
        cmap="rocket_r",
        annot=labels.to_numpy(),
        fmt="",
        annot_kws={"fontsize": SMALL_FONT},
        cbar_kws={"label": cbar_label},
        **kwargs,
    )


def fig_next_probe(tables: answers.Tables) -> Figure:
    """Failing seeds per init and depth of the lesson's net, as a grid coloured by failure rate (a line
    per init would stack every never-failing init at zero)."""
    rates = answers.depth_failure_rates(tables.training)
    if rates.empty:
        return _placeholder("no training rows of the lesson's activation/optimizer")
    order = answers.init_order(rates["init"])
    rate = rates.pivot(index="init", columns="depth", values="failure_rate").reindex(order)
    text = (
        rates.assign(label=[f"{f}/{n}" for f, n in zip(rates["failures"], rates["seeds"], strict=True)])
        .pivot(index="init", columns="depth", values="label")
        .reindex(order)
    )
    fig, ax = plt.subplots(figsize=(HALF_WIDTH_IN, 0.9 + 0.3 * len(order)))
    _failure_share_map(ax, rate, text, "share of seeds failing")
    ax.set_yticks(np.arange(len(order)) + 0.5, [display(i) for i in order], rotation=0)
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("")
    fig.tight_layout()
    return fig


def fig_seed_beat_probability(tables: answers.Tables) -> Figure:
    """P(row init beats column init) on end loss, paired by seed, in the lesson's cell."""
    rows = answers.select_runs(tables.training, answers.LESSON_ACTIVATION, answers.LESSON_OPTIMIZER)
    if rows.empty:
        return _placeholder("no training rows for the lesson's cell")
    beats = stats.beat_probability(rows, list(answers.TRAINING_CELL), "end_loss")
    order = answers.init_order(rows["init"])
    matrix = beats.pivot(index="a", columns="b", values="p_a_beats_b").reindex(index=order, columns=order)
    fig, ax = plt.subplots(figsize=(min(FULL_WIDTH_IN - 2, 2.2 + 0.6 * len(order)), 1.4 + 0.42 * len(order)))
    sns.heatmap(
        matrix,
        ax=ax,
        vmin=0,
        vmax=1,
        cmap="vlag_r",
        annot=True,
        fmt=".2f",
        annot_kws={"fontsize": SMALL_FONT},
        cbar_kws={"label": "share of seeds where the row wins"},
    )
    ax.set_xticks(np.arange(len(order)) + 0.5, [display(i) for i in order], rotation=60, ha="right")
    ax.set_yticks(np.arange(len(order)) + 0.5, [display(i) for i in order], rotation=0)
    ax.grid(False)
    ax.set_xlabel("")
    ax.set_ylabel("")
    fig.tight_layout()
    return fig


#: The last (tables, comparison) computed: both theory figures read the same comparison.
_THEORY_COMPARISON: list[tuple[answers.Tables, pd.DataFrame]] = []


def _theory_comparison(tables: answers.Tables) -> pd.DataFrame:
    """:func:`theory_answers.theory_comparison` of ``tables``, computed once per tables object."""
    if not _THEORY_COMPARISON or _THEORY_COMPARISON[0][0] is not tables:
        _THEORY_COMPARISON[:] = [(tables, theory_answers.theory_comparison(tables.signal_probe, tables.theory))]
    return _THEORY_COMPARISON[0][1]


def fig_theory_agreement(tables: answers.Tables) -> Figure:
    """Median relative error of the predicted post-activation std per (init, activation)."""
    comparison = _theory_comparison(tables)
    if comparison.empty:
        return _placeholder("no theory table (theory.csv) or no signal-probe rows")
    matrix = comparison.pivot(index="init", columns="activation", values="median_rel_error")
    matrix = matrix.reindex(answers.init_order(matrix.index))
    fig, ax = plt.subplots(figsize=(2.6 + 1.0 * matrix.shape[1], 0.9 + 0.32 * matrix.shape[0]))
    sns.heatmap(
        matrix.astype(float),
        ax=ax,
        vmin=0,
        vmax=2 * theory_answers.AGREEMENT_TOLERANCE,
        cmap="rocket_r",
        annot=True,
        fmt=".0%",
        annot_kws={"fontsize": SMALL_FONT},
        cbar_kws={"label": "theory's error on the std"},
    )
    ax.set_yticks(np.arange(matrix.shape[0]) + 0.5, [display(i) for i in matrix.index], rotation=0)
    ax.set_xticks(np.arange(matrix.shape[1]) + 0.5, [display(a) for a in matrix.columns])
    ax.set_xlabel("")
    ax.set_ylabel("")
    fig.tight_layout()
    return fig


#: The colour of each of the lesson's evidence labels in a model's figure (a failing start red).
EVIDENCE_COLOURS = dict(zip(EVIDENCE_LABELS, ("#C44E52", "#DD8452", "#4C72B0"), strict=True))


def fig_model(tables: answers.Tables, model: str) -> Figure:
    """One configured model: per optimizer cell, each init's validation accuracy over seeds (every
    seed a small dot, the mean a large one with its 95 % interval), best first, coloured by the
    lesson's evidence record, the inits the probe before training flagged marked in their label."""
    from initlab.report.answers import models as model_answers

    result = next((r for r in model_answers.model_results(tables) if r.model == model), None)
    if result is None:
        return _placeholder(f"no rows for model {model}")
    cells = result.cells
    height = 0.32 * max(len(c.ranking) for c in cells) + 1.2
    fig, axes = plt.subplots(1, len(cells), figsize=(FULL_WIDTH_IN, height), squeeze=False)
    for ax, c in zip(axes[0], cells, strict=True):
        ranking = c.ranking
        mine = c.rows
        # the window spans the runs that train: their differences are what a reader compares; an
        # init whose mean lies left of it sits at the edge with its mean written beside it, a
        # failing seed of a training init as a small mark at the edge
        kept = mine.loc[~mine["failed"], model_answers.RANK_BY]
        lo, hi = (kept.min(), kept.max()) if len(kept) else (0.0, 1.0)
        pad = max(0.05 * (hi - lo), 0.005)
        left = lo - pad
        labels = []
        for y, r in enumerate(ranking.itertuples()):
            label = r.evidence.split(" (")[0]
            colour = EVIDENCE_COLOURS.get(label, "grey")
            if r.mean_val_acc < left:
                ax.scatter([left], [y], marker="<", s=50, color=colour, zorder=3, clip_on=False)
                ax.annotate(
                    f"{sig(r.mean_val_acc)}",
                    (left, y),
                    xytext=(8, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=SMALL_FONT,
                    color=colour,
                )
            else:
                seeds = mine.loc[mine["init"] == r.init, model_answers.RANK_BY]
                inside = seeds >= left
                ax.scatter(seeds[inside], np.full(int(inside.sum()), y), s=9, color=colour, alpha=0.35, linewidths=0)
                if (~inside).any():
                    ax.scatter(
                        [left] * int((~inside).sum()),
                        np.full(int((~inside).sum()), y),
                        marker="<",
                        s=14,
                        color=colour,
                        alpha=0.6,
                        clip_on=False,
                    )
                if np.isfinite(r.ci_low):
                    ax.plot([max(r.ci_low, left), r.ci_high], [y, y], color=colour, lw=2.2)
                ax.scatter([r.mean_val_acc], [y], s=40, color=colour, zorder=3)
            flagged = int(r.probe_flagged.split("/")[0]) > int(r.seeds) / 2
            labels.append(display(r.init) + (" (warned)" if flagged else ""))
        ax.set_yticks(range(len(ranking)), labels)
        ax.set_xlim(left, min(1.0, hi + pad) if hi + pad > left else left + 0.01)
        ax.invert_yaxis()
        chance = runs.near_chance_accuracy(int(c.cell["classes"]))
        if chance > left:
            ax.axvline(chance, color="grey", ls="--", lw=0.8)
            ax.annotate(
                "near chance",
                (chance, 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -3),
                textcoords="offset points",
                va="top",
                fontsize=SMALL_FONT,
                color="grey",
            )
        ax.set_title(c.title)
        ax.set_xlabel(AXIS_WORDS["val_acc"])
    handles = [
        plt.Line2D([], [], marker="o", ls="-", color=colour, label=label) for label, colour in EVIDENCE_COLOURS.items()
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def model_figures(tables: answers.Tables) -> dict[str, Callable[[answers.Tables], Figure]]:
    """File name -> drawing function of each configured model's figure (none without models)."""
    return {model_figure_name(m): functools.partial(fig_model, model=m) for m in figure_models(tables)}


#: PNG file name -> function drawing it. Fixed names: the workflow declares them as outputs.
FIGURES: dict[str, Callable[[answers.Tables], Figure]] = {
    "signal_std.png": fig_signal_std,
    "signal_ratios.png": fig_signal_ratios,
    "gradient_norms.png": fig_gradient_norms,
    "exercise1_failure_depth.png": fig_exercise_1,
    "training_lesson_cell.png": fig_training_lesson_cell,
    "training_cells.png": fig_training_cells,
    "loss_curves.png": fig_loss_curves,
    "exercise2_xavier.png": fig_exercise_2,
    "exercise2_ablation.png": fig_exercise2_ablation,
    "exercise3_fragility.png": fig_exercise_3,
    "next_probe_depth.png": fig_next_probe,
    "seed_beat_probability.png": fig_seed_beat_probability,
    "theory_agreement.png": fig_theory_agreement,
}


@contextmanager
def _fixed_jitter() -> Iterator[None]:
    """Seed numpy's global generator while drawing, then restore it.

    Seaborn's strip-plot jitter draws from the global generator; fixing it
    makes the same tables give byte-identical PNGs, without leaking the seed
    into the caller's random state.
    """
    state = np.random.get_state()
    np.random.seed(JITTER_SEED)
    try:
        yield
    finally:
        np.random.set_state(state)


def render_figures(tables: answers.Tables, out_dir: str | Path, workers: int = 1) -> list[Path]:
    """Draw every figure of :data:`FIGURES` into ``out_dir``; return the written paths.

    Jitter is seeded and the PNG metadata is stripped of the matplotlib
    version, so the same tables give byte-identical files. With ``workers`` > 1 the
    figures are drawn by that many forked processes, one figure at a time each: drawing is
    the longest step of the study's serial tail (23 s of its 33 s on the default study) and
    every figure is independent of the others, so the files are the same bytes either way.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawers = all_figures(tables)
    names = list(drawers)
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        global _FORKED_TABLES
        _FORKED_TABLES = tables  # the children inherit it: nothing is pickled
        # longest first, so that no worker is left drawing a long figure while the others idle
        ordered = sorted(names, key=lambda n: n not in SLOWEST_FIGURES)
        try:
            with multiprocessing.get_context("fork").Pool(min(workers, len(names))) as pool:
                written = dict(
                    zip(ordered, pool.map(_draw_forked, [(n, out_dir) for n in ordered], chunksize=1), strict=True)
                )
            return [written[name] for name in names]
        finally:
            _FORKED_TABLES = None
    return [_draw(tables, name, out_dir) for name in names]


def all_figures(tables: answers.Tables) -> dict[str, Callable[[answers.Tables], Figure]]:
    """:data:`FIGURES` and, for a study with configured models, one figure per model."""
    return {**FIGURES, **model_figures(tables)}


_FORKED_TABLES: answers.Tables | None = None
#: The figures that take longest to draw (about 2-4 CPU s each at 100 seeds, the rest under 1 s):
#: handed to the workers first.
SLOWEST_FIGURES = ("loss_curves.png", "gradient_norms.png", "exercise1_failure_depth.png", "signal_ratios.png")


def _draw_forked(job: tuple[str, Path]) -> Path:
    assert _FORKED_TABLES is not None
    return _draw(_FORKED_TABLES, *job)


def _draw(tables: answers.Tables, name: str, out_dir: Path) -> Path:
    """Draw figure ``name`` into ``out_dir``, in the report's style, with the jitter fixed."""
    with (
        sns.axes_style("whitegrid"),
        sns.plotting_context("notebook", font_scale=FONT_SCALE),
        # laid out at the dpi it is saved at: tight_layout's text sizes are then the saved ones,
        # measured once (matplotlib caches text metrics per dpi), not once per dpi
        matplotlib.rc_context({"figure.dpi": DPI}),
        style.plain_log_labels(),
        _fixed_jitter(),
        memoised(),
    ):
        fig = all_figures(tables)[name](tables)
        path = out_dir / name
        fig.savefig(
            path,
            dpi=DPI,
            bbox_inches="tight",
            metadata={"Software": None, "min_font_pt": f"{smallest_font(fig):g}", "dpi": str(DPI)},
            pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL},
        )
        plt.close(fig)
    return path


#: Seaborn's "notebook" sizes scaled so that tick labels are 9.35 pt (12.5 CSS px in the report).
FONT_SCALE = 0.85
#: zlib level of the PNGs: 2 encodes in under half the time of PIL's default 6 for about 7 % more
#: bytes (the default study's self-contained report stays far below its 8 MB limit); same pixels.
PNG_COMPRESS_LEVEL = 2


def smallest_font(fig: Figure) -> float:
    """The smallest font size (pt) of any visible, non-empty text in ``fig``: stored in the PNG, so the
    report (and its layout test) knows how large the smallest text appears on screen."""
    sizes = [t.get_fontsize() for t in fig.findobj(mtext.Text) if t.get_visible() and t.get_text().strip()]
    return float(min(sizes)) if sizes else 0.0


# --------------------------------------------------------------------------
# Sweeps: learning-rate fragility map and widths. Each file is always written (a
# placeholder says when the study has one learning rate or one width); the report shows the
# figure only when the sweep is there.
# --------------------------------------------------------------------------


def fig_fragility_map(tables: answers.Tables) -> Figure:
    """Init x learning rate -> failure rate over seeds, per activation (rows) and optimizer (columns);
    each cell shows failing/seeds and the median end loss; the lesson's learning rate is starred."""
    table = fragility.fragility_table(tables.training)
    if table.empty:
        return _placeholder("one learning rate per optimizer: no fragility map (give training.optimizers a list)")
    activations = sorted(table["activation"].unique())
    optimizers = sorted(table["optimizer"].unique())
    n_inits = table["init"].nunique()
    fig, axes = plt.subplots(
        len(activations),
        len(optimizers),
        squeeze=False,
        figsize=(3.2 + 1.0 * table["lr"].nunique() * len(optimizers), 1.2 + 0.36 * n_inits * len(activations)),
    )
    for r, activation in enumerate(activations):
        for c, optimizer in enumerate(optimizers):
            ax = axes[r][c]
            part = table[(table["activation"] == activation) & (table["optimizer"] == optimizer)]
            if part.empty:
                ax.axis("off")
                continue
            order = answers.init_order(part["init"])
            rate = part.pivot(index="init", columns="lr", values="failure_rate").reindex(order)
            text = (
                part.assign(
                    label=[
                        f"{f}/{n}\n" + ("div" if not np.isfinite(loss) else f"{loss:.2g}")
                        for f, n, loss in zip(
                            part["failing"], part["seeds"], part["median_end_loss"].astype(float), strict=True
                        )
                    ]
                )
                .pivot(index="init", columns="lr", values="label")
                .reindex(order)
            )
            _failure_share_map(ax, rate, text, "failure rate over seeds", cbar=c == len(optimizers) - 1)
            lesson = part["lesson_lr"].iloc[0]
            ax.set_xticklabels([f"{lr:g}" + (" ★" if lr == lesson else "") for lr in rate.columns], rotation=0)
            if lesson in list(rate.columns):
                j = list(rate.columns).index(lesson)
                ax.add_patch(plt.Rectangle((j, 0), 1, len(rate), fill=False, ec="#4C72B0", lw=2))
            ax.tick_params(axis="y", rotation=0)
            ax.set_xlabel("learning rate (★ the lesson's)")
            ax.set_ylabel(activation if c == 0 else "")
            first = part.iloc[0]
            ax.set_title(
                f"{display(activation)}, {display(optimizer)} (depth {first['depth']}, width {first['width']})",
                fontsize=SMALL_FONT,
            )
    fig.suptitle("Fragility map: failing seeds / seeds and median end loss per init and learning rate")
    fig.tight_layout()
    return fig


def fig_width_signal(tables: answers.Tables) -> Figure:
    """Last-layer std of the deepest probe per width (log-log), one line per init, per activation."""
    probe = tables.signal_probe
    if probe.empty or probe["width"].nunique() < 2:
        return _placeholder("one probe width: no width figure (give probe.width a list)")
    deepest = probe[probe["depth"] == probe["depth"].max()]
    last = deepest[deepest["layer"] == deepest["depth"]]
    last = last.assign(std=_positive_finite(last["std"]))
    summary = last.groupby(["activation", "init", "width"])["std"].agg(["median", "min", "max"]).reset_index()
    activations = sorted(summary["activation"].unique())
    palette = init_palette(list(summary["init"].unique()))
    fig, axes = plt.subplots(1, len(activations), figsize=(4.4 * len(activations), 3.6), squeeze=False, sharey=True)
    for c, activation in enumerate(activations):
        ax = axes[0][c]
        for init in answers.init_order(summary.loc[summary["activation"] == activation, "init"]):
            line = summary[(summary["activation"] == activation) & (summary["init"] == init)]
            ax.plot(line["width"], line["median"], marker="o", color=palette[init], label=init, lw=1.3)
            ax.fill_between(line["width"], line["min"], line["max"], color=palette[init], alpha=0.12, lw=0)
        for level in (answers.VANISHED_STD, answers.EXPLODED_STD):
            ax.axhline(level, color="grey", ls="--", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sorted(summary["width"].unique()), [str(w) for w in sorted(summary["width"].unique())])
        ax.set_title(activation)
        ax.set_xlabel("probe width")
    axes[0][0].set_ylabel(f"last-layer std, depth {int(deepest['depth'].iloc[0])} (median, min–max)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.suptitle("Signal at the deepest probe layer by width (dashed: vanished / exploded thresholds)")
    fig.tight_layout()
    return fig


def fig_width_training(tables: answers.Tables) -> Figure:
    """Median end loss per width at the lesson's depth and learning rate, one line per init;
    rows = activations, columns = optimizers; open markers: widths where some seed failed."""
    training = tables.training
    if training.empty or training["width"].nunique() < 2:
        return _placeholder("one training width: no width figure (give training.width a list)")
    pairs = training[["activation", "optimizer"]].drop_duplicates().sort_values(["activation", "optimizer"])
    activations, optimizers = sorted(pairs["activation"].unique()), sorted(pairs["optimizer"].unique())
    palette = init_palette(list(training["init"].unique()))
    fig, axes = plt.subplots(
        len(activations),
        len(optimizers),
        squeeze=False,
        sharex=True,
        figsize=(4.2 * len(optimizers), 3.0 * len(activations)),
    )
    for r, activation in enumerate(activations):
        for c, optimizer in enumerate(optimizers):
            ax = axes[r][c]
            rows = training[(training["activation"] == activation) & (training["optimizer"] == optimizer)]
            for col, target in (
                ("depth", runs.LESSON_DEPTH),
                ("steps", runs.LESSON_STEPS),
                ("lr", runs.LESSON_LR.get(optimizer, float("nan"))),
            ):
                if len(rows) and np.isfinite(target):
                    rows = rows[rows[col] == answers.closest(rows[col].unique(), target)]
            if rows.empty:
                ax.axis("off")
                continue
            scored = answers.with_run_failure(rows).assign(loss=_positive_finite(rows["end_loss"]))
            summary = (
                scored.groupby(["init", "width"]).agg(loss=("loss", "median"), failed=("failed", "any")).reset_index()
            )
            for init in answers.init_order(summary["init"]):
                line = summary[summary["init"] == init]
                ax.plot(line["width"], line["loss"], color=palette[init], label=init, lw=1.2, marker="o", ms=3)
                bad = line[line["failed"]]
                ax.scatter(bad["width"], bad["loss"], facecolors="none", edgecolors=palette[init], s=40)
            first = rows.iloc[0]
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            widths = sorted(summary["width"].unique())
            ax.set_xticks(widths, [str(w) for w in widths])
            ax.set_title(f"{activation}, {optimizer} lr {first['lr']:g}, depth {first['depth']}", fontsize=SMALL_FONT)
    handles = {}
    for ax in axes.flat:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    order = answers.init_order(handles)
    fig.legend([handles[o] for o in order], order, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.supxlabel("hidden width")
    fig.supylabel("median end loss over seeds (finite runs)")
    fig.suptitle("Training by width at the lesson's depth and learning rate (open circle: some seed failed)")
    fig.tight_layout()
    return fig


#: Figures the report shows only for a sweep (several learning rates or widths); always written.
SWEEP_FIGURES: dict[str, Callable[[answers.Tables], Figure]] = {
    "fragility_map.png": fig_fragility_map,
    "width_signal.png": fig_width_signal,
    "width_training.png": fig_width_training,
}
FIGURES.update(SWEEP_FIGURES)
if tuple(FIGURES) != (*FIGURE_NAMES, *SWEEP_FIGURE_NAMES):  # the report checks files by figure_data's names
    raise RuntimeError(f"figures {list(FIGURES)} differ from figure_data's {FIGURE_NAMES + SWEEP_FIGURE_NAMES}")
