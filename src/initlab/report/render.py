"""The HTML report: one self-contained file built from the tables and figures.

The report only *reads*: answers come from :mod:`initlab.report.answers`, seed
statistics from :mod:`initlab.report.stats`, pictures from the PNGs that
:mod:`initlab.report.figures` wrote. Figures are embedded as base64 data URIs and
the CSS is inline, so the file opens offline and can be archived alone.

CLI (wired into ``initlab.cli``)::

    initlab figures --tables DIR --out DIR
    initlab report --tables DIR --figures DIR --config FILE [--timings FILE] --out FILE
"""

from __future__ import annotations

import base64
import json
import math
import platform
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import yaml
from markupsafe import Markup

from initlab.report import answers, captions, figure_data, seedtables, stats
from initlab.report.answers import ablation as ablation_answers
from initlab.report.answers import claims, findings, fragility, theory_start
from initlab.report.answers import models as model_answers
from initlab.report.answers import theory as theory_answers
from initlab.report.answers.lab import lab_title
from initlab.report.answers.tables import memoised
from initlab.report.answers.text import DISPLAY_NAMES, display, sig
from initlab.study import fingerprint
from initlab.study.fingerprint import template_candidates
from initlab.study.frames import read_frame
from initlab.study.provenance import PACKAGES, PROVENANCE_NAME, git_state, load_provenance, machine

TEMPLATE_NAME = "report.html.j2"
TEMPLATES_DIRNAME = "report_templates"

#: Report sections in page order: (HTML id, title). The ids are stable anchors. The reading path
#: (the four exercises) comes first, the reference after it.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("exercise-1", "Exercise 1: deeper probe"),
    ("exercise-2", "Exercise 2: Tanh and Xavier"),
    ("exercise-3", "Exercise 3: SGD with lr = 0.1"),
    ("next-probe", "Next probe: deeper MoonMLP"),
    ("criteria", "Criteria"),
    ("lesson-claims", "The lesson's claims, checked"),
    ("lesson-reproduced", "Lesson reproduced"),
    ("signal-through-depth", "Signal through depth"),
    ("theory", "Theory beside measurement"),
    ("training", "Training"),
    ("comparing-seeds", "Comparing seeds"),
    ("evidence-to-keep", "Evidence to keep"),
    ("provenance", "Provenance"),
)

#: Where the configured models' sections go: after the reading path's exercises, before the reference.
MODELS_AFTER = "next-probe"


def sections_with_models(results: Sequence[model_answers.ModelResult]) -> tuple[tuple[str, str], ...]:
    """:data:`SECTIONS` with one section per configured model after :data:`MODELS_AFTER`."""
    at = [s for s, _ in SECTIONS].index(MODELS_AFTER) + 1
    added = tuple((r.anchor, model_title(r)) for r in results)
    return SECTIONS[:at] + added + SECTIONS[at:]


def model_title(result: model_answers.ModelResult) -> str:
    return f"Your model: {result.model} on {result.dataset}"


#: Section id -> figure files (of :data:`figure_data.FIGURE_NAMES`) shown in it.
SECTION_FIGURES: dict[str, tuple[str, ...]] = {
    "exercise-1": ("exercise1_failure_depth.png",),
    "exercise-2": ("exercise2_xavier.png", "exercise2_ablation.png"),
    "exercise-3": ("exercise3_fragility.png",),
    "next-probe": ("next_probe_depth.png",),
    "signal-through-depth": ("signal_std.png", "signal_ratios.png", "gradient_norms.png"),
    "theory": ("theory_agreement.png",),
    "training": ("training_lesson_cell.png", "training_cells.png", "loss_curves.png"),
    "comparing-seeds": ("seed_beat_probability.png",),
}


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------


def format_number(value: float) -> str:
    """3 significant digits (:func:`text.sig`); inf shown as ∞ (in failure depths: 'never within the probed range')."""
    return sig(value)


def header(column: object) -> str:
    """A column name as a reader writes it: words, each init/activation/optimizer key by its display
    name ('p_xavier_beats_he_relu' -> 'p Xavier beats He ReLU')."""
    return " ".join(display(word) for word in str(column).split("_"))


def display_cell(value: object) -> object:
    """A table cell that is an init/activation/optimizer key, by its display name ('relu' -> 'ReLU');
    any other value as it is."""
    return display(value) if isinstance(value, str) and value in DISPLAY_NAMES else value


def html_table(df: pd.DataFrame) -> Markup:
    """A DataFrame as an escaped HTML table with the report's classes and readable headers."""
    if df.empty:
        return Markup('<p class="empty">No rows.</p>')
    shown = df.rename(columns=header).apply(
        lambda col: col if pd.api.types.is_numeric_dtype(col) else col.map(display_cell)
    )
    return Markup(
        shown.to_html(classes="data", index=False, na_rep="—", float_format=format_number, border=0, escape=True)
    )


def embed_png(path: Path) -> str:
    """A PNG file as a data URI, so the report needs no file next to it."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


# --------------------------------------------------------------------------
# Section contents
# --------------------------------------------------------------------------


def lesson_section(lab: pd.DataFrame) -> dict[str, object]:
    """Both labs laid out like the lesson's printed tables, plus every mismatch sized and explained.

    A cell shows the value once when lesson and measurement print the same,
    and "lesson → measured ✗" when they do not.
    """
    reproduction = answers.lab_reproduction(lab)
    table = reproduction.table
    shown = table.assign(
        cell=np.where(
            table["matches"], table["measured_value"], table["lesson_value"] + " → " + table["measured_value"] + " ✗"
        )
    )
    labs = []
    for name, group in shown.groupby("lab", sort=True):
        wide = group.pivot(index="row", columns="metric", values="cell")
        wide = wide.reindex(index=list(dict.fromkeys(group["row"])), columns=list(dict.fromkeys(group["metric"])))
        wide = wide.rename_axis(index="row", columns=None).reset_index()
        labs.append({"name": lab_title(name), "table": html_table(wide), "mismatches": int((~group["matches"]).sum())})
    mismatch_cols = [
        "lab",
        "row",
        "metric",
        "lesson_value",
        "measured_value",
        "steps_off",
        "resolution",
        "unit",
        "difference",
    ]
    return {
        "sentence": reproduction.sentence,
        "labs": labs,
        "mismatches": html_table(table.loc[~table["matches"], mismatch_cols]),
        "matched": reproduction.matched,
        "total": reproduction.total,
    }


def signal_section(signal_probe: pd.DataFrame) -> dict[str, object]:
    """Failing seeds per (activation, init) and depth: where each network stops carrying signal."""
    if signal_probe.empty:
        return {"failing": html_table(pd.DataFrame())}
    last = answers.probe_last_layers(signal_probe)
    last["fails"] = last["failure"] != ""
    counts = last.groupby(["activation", "init", "depth"]).agg(failing=("fails", "sum"), seeds=("seed", "nunique"))
    counts["shown"] = counts["failing"].astype(int).astype(str) + "/" + counts["seeds"].astype(str)
    wide = counts["shown"].unstack("depth").reset_index()
    wide.columns = [c if isinstance(c, str) else f"depth {c}" for c in wide.columns]
    order = {name: i for i, name in enumerate(answers.init_order(wide["init"]))}
    wide = wide.sort_values(["activation", "init"], key=lambda s: s.map(order) if s.name == "init" else s)
    return {"failing": html_table(wide)}


def theory_section(tables: answers.Tables) -> dict[str, object]:
    """Theory beside measurement: the computed sentence, the causes it may name, and the comparison table."""
    comparison = theory_answers.theory_comparison(tables.signal_probe, tables.theory)
    shown = comparison.rename(columns={"median_rel_error": "std median rel. error"})
    start = theory_start.start_loss_comparison(tables.training, tables.theory_start)
    return {
        "start_sentence": theory_start.start_loss_sentence(start),
        "start": html_table(start),
        "sentence": theory_answers.theory_sentence(comparison),
        "comparison": html_table(shown),
    }


def training_section(training: pd.DataFrame) -> dict[str, object]:
    """The lesson's debugging probe at the start of training, per init, in the lesson's cell."""
    rows = answers.select_runs(training, answers.LESSON_ACTIVATION, answers.LESSON_OPTIMIZER)
    if rows.empty:
        return {"cell": "no lesson cell in the table", "probe": html_table(pd.DataFrame())}
    probe = rows.groupby("init").agg(
        median_output_mean=("probe_out_mean", "median"),
        median_output_std=("probe_out_std", "median"),
        seeds_all_finite=("probe_all_finite", "sum"),
        seeds=("seed", "nunique"),
        median_start_loss=("start_loss", "median"),
    )
    probe = probe.reindex(answers.init_order(probe.index)).reset_index()
    return {"cell": answers.cell_text(rows), "probe": html_table(probe)}


def seeds_section(training: pd.DataFrame) -> dict[str, object]:
    """Spread, bootstrap CI, paired beat probabilities and stability of conclusions over seeds."""
    cell_cols = list(answers.TRAINING_CELL)
    lesson = answers.select_runs(training, answers.LESSON_ACTIVATION, answers.LESSON_OPTIMIZER)
    if lesson.empty:
        empty = html_table(pd.DataFrame())
        return {
            "sentence": "No training rows.",
            "per_seed": empty,
            "per_seed_detail": empty,
            "spread": empty,
            "stability": empty,
            "flips": empty,
            "holds": empty,
            "stability_sentence": "",
        }
    # Summary first, every seed on demand (seeds down the rows): readable at any seed count.
    per_seed = seedtables.seed_summary(lesson, "end_loss")
    per_seed_detail = seedtables.seed_detail(lesson, "end_loss")

    spread = stats.spread_by_cell(training, [*cell_cols, "init"], "end_loss")
    cis = stats.bootstrap_by_cell(training, [*cell_cols, "init"], "end_loss")
    spread = spread.merge(cis[[*cell_cols, "init", "ci_low", "ci_high", "ci_note"]], on=[*cell_cols, "init"])

    stability = stats.winner_stability(training, cell_cols, "end_loss", label=display)
    n_stable = int(stability["stable"].sum())

    beats = stats.beat_probability(lesson, cell_cols, "end_loss")
    order = {name: i for i, name in enumerate(answers.init_order(lesson["init"]))}
    pairs = beats[beats["a"].map(order) < beats["b"].map(order)]
    pair_cols = ["a", "b", "n_pairs", "wins", "ties", "losses", "p_a_beats_b", "p_low", "p_high", "sign_p", "prefers"]
    holds, flips = pairs[pairs["holds_every_seed"]], pairs[~pairs["holds_every_seed"]]
    n_seeds = lesson["seed"].nunique()
    sentence = (
        f"In the lesson's cell ({answers.cell_text(lesson)}), {len(holds)} of the {len(pairs)} init pairs are "
        f"ordered the same way by end loss in every one of the {n_seeds} seeds; {len(flips)} flip between seeds. "
        f"{int(pairs['prefers'].sum())} of the {len(pairs)} pairs show a preference beyond a coin flip (sign test, "
        "false discovery rate held at 5 % over the pairs)."
    )
    return {
        "sentence": sentence,
        "per_seed": html_table(per_seed),
        "per_seed_detail": html_table(per_seed_detail),
        "spread": html_table(spread),
        "stability": html_table(stability),
        "stability_sentence": (
            f"The best init (lowest end loss) is the same in every seed in {n_stable} of {len(stability)} cells."
        ),
        "holds": html_table(holds[pair_cols]),
        "flips": html_table(flips[pair_cols]),
    }


def model_context(result: model_answers.ModelResult, figs: list[dict[str, object]]) -> dict[str, object]:
    """One configured model's section: the answer, its figure, each cell's sentences and ranking, the probe table."""
    return {
        "id": result.anchor,
        "figures": figs,
        "title": model_title(result),
        "headline": result.headline,
        "cells": [
            {
                "title": c.title,
                "text": model_answers.cell_text(c.cell),
                "sentences": list(c.sentences),
                "ranking": html_table(model_answers.ranking_table(c)),
            }
            for c in result.cells
        ],
        "probe": html_table(result.probe_table),
    }


#: The criteria that only a study with configured models uses: (anchor, title, text).
MODEL_CRITERIA = (
    ("crit-model-ranking", "Init ranking (your model)", model_answers.RANKING_CRITERION),
    ("crit-probe-before-training", "Probe before training (your model)", model_answers.PROBE_CRITERION),
)


#: The criteria the report defines, once each, in the Criteria section: (anchor, title, text).
def criteria_list(with_models: bool = False) -> list[dict[str, str]]:
    from initlab.report.answers.deeper import NEXT_CRITERION
    from initlab.report.answers.exercise2 import EX2_CRITERION
    from initlab.report.answers.exercise3 import EX3_CRITERION
    from initlab.report.answers.runs import RUN_FAILURE_CRITERION

    return [
        {"id": "crit-probe-failure", "title": "Probe failure (Exercise 1, signal)", "text": answers.EX1_CRITERION},
        {"id": "crit-run-failure", "title": "Run failure (training)", "text": RUN_FAILURE_CRITERION},
        {"id": "crit-exercise-2", "title": "Xavier more competitive (Exercise 2)", "text": EX2_CRITERION},
        {"id": "crit-exercise-3", "title": "Fragile under SGD (Exercise 3)", "text": EX3_CRITERION},
        {"id": "crit-next-probe", "title": "Fragile with depth (Next probe)", "text": NEXT_CRITERION},
        {
            "id": "crit-claims",
            "title": "A lesson claim's verdict",
            "text": (
                "A cell of the study supports a claim when the claim holds in a strict majority of its seeds; "
                "a claim holds when every cell tested supports it, holds in part when some do, and does not hold "
                "here when none does. The count shown per cell is the seeds in which the claim itself holds."
            ),
        },
        {
            "id": "crit-ablation",
            "title": "Layer-swap ablation",
            "text": (
                "Per seed, the gap between two inits is log(end loss of all-B / end loss of all-A); swapping one layer "
                "of A to B moves the loss by its effect, and a layer's share is its mean effect over the mean gap. A "
                f"layer carries the gap when its share is at least {claims.CARRIES_SHARE:.0%}. Single-layer shares "
                "need not add up: 100 % minus their sum is the layers' interaction, shown with them."
            ),
        },
        {
            "id": "crit-theory",
            "title": "Theory agrees (Theory beside measurement)",
            "text": (
                f"Theory and probe part where the median relative error of the post-activation std exceeds "
                f"{theory_answers.AGREEMENT_TOLERANCE:.0%} or the failure depths differ. Causes, first that applies: "
                f"{theory_answers.CAUSES_TEXT}."
            ),
        },
        *({"id": i, "title": title, "text": text} for i, title, text in (MODEL_CRITERIA if with_models else ())),
    ]


#: Exercise -> the criteria its answer uses (anchors of :func:`criteria_list`).
ANSWER_CRITERIA: dict[str, tuple[str, ...]] = {
    "exercise-1": ("crit-probe-failure",),
    "exercise-2": ("crit-exercise-2",),
    "exercise-3": ("crit-exercise-3", "crit-run-failure"),
    "next-probe": ("crit-next-probe", "crit-run-failure"),
}


def answer_context(answer: answers.Answer, criteria: Sequence[dict[str, str]] = ()) -> dict[str, object]:
    """An :class:`answers.Answer` as template fields; ``criteria``: the definitions it links to."""
    return {
        "headline": answer.headline or answer.sentence,
        "summary": answer.summary or answer.sentence,
        "criteria": list(criteria),
        "question": answer.question,
        "criterion": answer.criterion,
        "verdict": answer.verdict,
        "sentence": answer.sentence,
        "numbers": html_table(answer.numbers),
        "seeds_agreeing": answer.seeds_agreeing,
        "seeds_total": answer.seeds_total,
    }


def claims_context(checks: Sequence[claims.ClaimCheck]) -> dict[str, object]:
    """The lesson's claims with their verdicts, ablation answers, and the reference answer per exercise.

    An ablation read by two claims is written out under the first only; the second links to it."""
    items = []
    first_seen: dict[str, tuple[str, str]] = {}
    for c in checks:
        pairwise = c.claim.pair is not None
        ablations = []
        for a in c.ablations:
            key = json.dumps({k: str(v) for k, v in a.cell.items()}, sort_keys=True)
            seen = first_seen.setdefault(key, (c.claim.key, c.claim.paraphrase))
            ablations.append(
                {
                    "sentence": a.sentence,
                    "numbers": html_table(_ablation_table(a)),
                    "first": seen[0] == c.claim.key,
                    "first_key": seen[0],
                    "first_title": seen[1],
                }
            )
        items.append(
            {
                "key": c.claim.key,
                "source": c.claim.source,
                "paraphrase": c.claim.paraphrase,
                "criterion": c.claim.criterion,
                "detail": c.claim.detail,
                "verdict": c.verdict,
                "css": c.verdict.replace(" ", "-"),
                "sentence": c.sentence,
                "numbers": html_table(c.numbers),
                "seeds_agreeing": c.seeds_agreeing,
                "seeds_total": c.seeds_total,
                "agreement": claims.agreement_text(c),
                "ablations": ablations,
                "missing": list(c.missing_ablations),
                "no_ablation": c.verdict in (claims.IN_PART, claims.DOES_NOT_HOLD) and not pairwise,
            }
        )
    by_key = {item["key"]: item for item in items}
    counts = {v: sum(1 for c in checks if c.verdict == v) for v in (claims.HOLDS, claims.IN_PART, claims.DOES_NOT_HOLD)}
    return {
        "items": items,
        "reference": {ex: by_key.get(key) for ex, key in claims.REFERENCE_ANSWERS.items()},
        "summary": ", ".join(f"{n} {v}" for v, n in counts.items()).capitalize(),
        "carries_share": claims.CARRIES_SHARE,
    }


def _ablation_table(result: ablation_answers.AblationResult) -> pd.DataFrame:
    """Each layer's share of the gap, plus the interaction row, so that the shares add up to 100 %."""
    numbers = result.numbers
    if numbers.empty:
        return numbers
    shares = numbers[["layer", "fan_in", "fan_out", "weight_std_a", "weight_std_b", "share_of_gap", "seeds_toward_b"]]
    shares = shares.assign(
        layer=shares["layer"].astype(str), share_of_gap=(shares["share_of_gap"] * 100).map(lambda v: f"{v:.0f} %")
    )
    interaction = numbers.attrs.get("interaction_share", math.nan)
    extra = pd.DataFrame(
        [
            {
                "layer": "interaction (100 % − the layers' sum)",
                "share_of_gap": f"{interaction * 100:.0f} %" if math.isfinite(interaction) else "—",
            }
        ]
    )
    return pd.concat([shares, extra], ignore_index=True)


def exercise1_grid(summary: pd.DataFrame) -> Markup:
    """Exercise 1's numbers as a grid: activation (rows) × init (columns), each cell the majority failure
    depth ('never' within the probed depths), coloured by the failure mode, with a legend."""
    if summary.empty:
        return Markup("")
    order = answers.init_order(summary["init"])
    modes = [m for m in answers.probe.PROBE_FAILURES if m in set(summary["failure"])]
    head = "".join(f"<th>{escape_text(display(i))}</th>" for i in order)
    rows = []
    for activation, group in summary.groupby("activation", sort=True):
        by_init = group.set_index("init")
        cells = []
        for init in order:
            if init not in by_init.index:
                cells.append("<td>—</td>")
                continue
            r = by_init.loc[init]
            mode = r["failure"] or "healthy"
            depth = "never" if math.isinf(r["failure_depth"]) else f"{r['failure_depth']:g}"
            spread = (
                ""
                if r["earliest_seed"] == r["latest_seed"]
                else (f" (seeds {sig(r['earliest_seed'])}–{sig(r['latest_seed'])})")
            )
            cells.append(f'<td class="mode-{mode.replace(" ", "-")}" title="{escape_text(mode)}{spread}">{depth}</td>')
        rows.append(f"<tr><td>{escape_text(display(activation))}</td>{''.join(cells)}</tr>")
    legend = "".join(
        f'<li style="--swatch: var(--mode-{m.replace(" ", "-")})">{escape_text(m)}</li>' for m in [*modes, "healthy"]
    )
    return Markup(
        '<p class="grid-title">Failure depth (most seeds), coloured by how the probe fails; '
        "'never': healthy to the deepest probe.</p>"
        f'<ul class="legend">{legend}</ul>'
        f'<div class="scroll"><table class="data grid"><thead><tr><th>activation</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def escape_text(text: object) -> str:
    return str(Markup.escape(str(text)))


def png_facts(path: Path) -> dict[str, object]:
    """Pixel size of a PNG and the text chunks :func:`figures._draw` stored (smallest font, dpi)."""
    data = path.read_bytes()
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    texts, at = {}, 8
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        if kind == b"tEXt":
            key, _, value = data[at + 8 : at + 8 + length].partition(b"\0")
            texts[key.decode("latin-1")] = value.decode("latin-1")
        if kind == b"IDAT":
            break
        at += 12 + length
    return {"width": width, "height": height, "min_pt": texts.get("min_font_pt", ""), "dpi": texts.get("dpi", "")}


def figure_context(name: str, number: int, figures_dir: Path, tables: answers.Tables) -> dict[str, object]:
    """One figure for the template: embedded PNG shown at the width it was drawn for (its pixels over
    the density), its number, the generated caption and the alt text (caption in full)."""
    facts = png_facts(figures_dir / name)
    density = (float(facts["dpi"]) / figure_data.SCREEN_PPI) if facts["dpi"] else 1.0
    takeaway, how = captions.caption(name, tables)
    return {
        "name": name,
        "id": "fig-" + name.removesuffix(".png").replace("_", "-"),
        "number": number,
        "src": embed_png(figures_dir / name),
        "width": round(int(facts["width"]) / density),
        "height": round(int(facts["height"]) / density),
        "min_pt": facts["min_pt"],
        "dpi": facts["dpi"],
        "takeaway": takeaway,
        "how": how,
        "alt": f"{takeaway} {how}".strip(),
    }


def evidence_context(evidence: answers.Evidence) -> dict[str, object]:
    return {
        "cell": evidence.cell,
        "records": [
            {
                "label": i.label,
                "rule": i.rule,
                "inits": ", ".join(display(init) for init in i.inits),
                "sentence": i.sentence,
            }
            for i in evidence.items
        ],
        "numbers": html_table(evidence.numbers),
    }


def sweeps_section(tables: answers.Tables, config: Mapping[str, object], figures_dir: Path) -> dict[str, object]:
    """Learning-rate and width sweeps: the fragility map with a computed sentence per
    init when a cell has two or more learning rates, the width figures when a width list was run,
    and the config's custom inits with their definitions (for Provenance). Empty parts are None,
    so the report shows a sweep section only for a sweep."""
    from initlab.engine.initspec import describe, parse_custom_inits  # pure Python

    cells = fragility.fragility_cells(tables.training)
    fragility_part = None
    if cells:
        fragility_part = {
            "cells": [
                {
                    "title": f"{display(c.activation)}, {display(c.optimizer)}",
                    "point": c.point,
                    "sentences": list(c.sentences.values()),
                }
                for c in cells
            ],
            "first_failure": html_table(fragility.first_failure_table(cells)),
            "numbers": html_table(fragility.fragility_table(tables.training)),
            "criterion": fragility.FRAGILITY_CRITERION,
            "figure": figure_context("fragility_map.png", 0, figures_dir, tables),
        }
    width_figs = [
        figure_context(name, 0, figures_dir, tables)
        for name, table in (("width_signal.png", tables.signal_probe), ("width_training.png", tables.training))
        if table["width"].nunique() > 1
    ]
    custom = parse_custom_inits(config.get("custom_inits") if config else None)
    return {
        "fragility": fragility_part,
        "widths": {
            "figures": width_figs,
            "probe_widths": ", ".join(map(str, sorted(tables.signal_probe["width"].unique()))),
            "training_widths": ", ".join(map(str, sorted(tables.training["width"].unique()))),
        }
        if width_figs
        else None,
        "custom_inits": [
            {"name": name, "definition": json.dumps(s.as_dict(), sort_keys=True), "meaning": describe(s)}
            for name, s in custom.items()
        ],
    }


# --------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------


def commit_text(folder: Path = fingerprint.PACKAGE_DIR) -> str:
    """The commit of the code as one line (``-dirty`` with uncommitted changes), or why there is none:
    the Provenance section's fallback when no provenance.json was given."""
    state = git_state(folder)
    if state["commit"] is None:
        return f"unavailable ({state['note']})"
    return state["commit"] + ("-dirty" if state["dirty"] else "")


def run_time(timings: pd.DataFrame | None) -> dict[str, object] | None:
    """Elapsed time from the first job's start to the last job's end, summed import and work seconds, per step.

    A job's step is its name up to the first '/' (``train/relu/adam/2`` ->
    ``train``), so the breakdown stays short however many cells were run.
    """
    if timings is None or timings.empty:
        return None
    steps = timings.assign(step=timings["job"].astype(str).str.split("/").str[0])
    per_step = (
        steps.groupby("step")
        .agg(jobs=("job", "count"), import_seconds=("import_seconds", "sum"), work_seconds=("work_seconds", "sum"))
        .sort_values("work_seconds", ascending=False)
        .reset_index()
    )
    return {
        "jobs": int(len(timings)),
        "elapsed_seconds": float(timings["finished_at"].max() - timings["started_at"].min()),
        "work_seconds": float(timings["work_seconds"].sum()),
        "import_seconds": float(timings["import_seconds"].sum()),
        "per_step": html_table(per_step),
    }


def provenance(
    tables: answers.Tables,
    config: Mapping[str, object],
    timings: pd.DataFrame | None,
    extra: Mapping[str, str] | None,
) -> dict[str, object]:
    seeds = sorted(set(tables.training["seed"]) | set(tables.signal_probe["seed"]))
    return {
        "config_yaml": yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True) if config else "(empty)",
        "seeds": ", ".join(str(s) for s in seeds),
        "n_seeds": len(seeds),
        "packages": {name: fingerprint.package_version(name) for name in PACKAGES},
        "git_commit": commit_text(),
        "machine": {**machine(), "python": platform.python_version()},
        "run_time": run_time(timings),
        "extra": dict(extra or {}),
    }


def manifest_context(tables_dir: str | Path) -> dict[str, object] | None:
    """The tables' manifest for Provenance (None for a folder without one): per table the rows
    found against the rows the config expects, and the SHA-256 that ``initlab verify`` re-checks.
    """
    from initlab.study.manifest import MANIFEST_NAME, load_manifest

    manifest = load_manifest(Path(tables_dir) / MANIFEST_NAME)
    if manifest is None:
        return None
    return {
        "config_sha256": manifest["config"]["sha256"],
        "tables": [
            {
                "file": entry["file"],
                "rows": entry["rows"],
                "rows_expected": entry["rows_expected"],
                "check": "rows expected = rows found" if entry["rows"] == entry["rows_expected"] else "INCOMPLETE",
                "columns": len(entry["columns"]),
                "sha256": entry["sha256"],
            }
            for entry in manifest["tables"].values()
        ],
    }


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------


def find_templates_dir(templates_dir: str | Path | None = None) -> Path:
    """The directory holding ``report.html.j2``.

    Explicit argument first; otherwise ``report_templates/`` in the working
    directory or any parent (the workflow runs from the repo root), then next
    to the source tree (an editable install run from elsewhere).
    """
    # The order lives in initlab.study.fingerprint, which hashes the same folder for the workflow.
    candidates = [Path(templates_dir)] if templates_dir is not None else template_candidates()
    for candidate in candidates:
        if (candidate / TEMPLATE_NAME).is_file():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"{TEMPLATE_NAME} not found; looked in: {searched}. Pass templates_dir explicitly.")


def build_report(
    tables_dir: str | Path,
    figures_dir: str | Path,
    out_html: str | Path,
    config: Mapping[str, object],
    timings_path: str | Path | None = None,
    extra_provenance: Mapping[str, str] | None = None,
    templates_dir: str | Path | None = None,
    provenance_path: str | Path | None = None,
) -> Path:
    """Render the report to ``out_html`` and return its path.

    ``timings_path`` overrides ``timings.csv`` of ``tables_dir`` (both optional);
    ``extra_provenance`` adds free key/value lines to the Provenance section.
    """
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(find_templates_dir(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    with memoised():  # one build reads tables nobody changes: each derived table is computed once
        return _build(
            environment, tables_dir, figures_dir, out_html, config, timings_path, extra_provenance, provenance_path
        )


def _build(
    environment: jinja2.Environment,
    tables_dir: str | Path,
    figures_dir: str | Path,
    out_html: str | Path,
    config: Mapping[str, object],
    timings_path: str | Path | None,
    extra_provenance: Mapping[str, str] | None,
    provenance_path: str | Path | None,
) -> Path:
    tables = answers.load_tables(tables_dir)
    timings = (
        answers.normalise_table("timings", read_frame(timings_path, "timings"))
        if timings_path is not None
        else tables.timings
    )
    figures_dir = Path(figures_dir)
    missing = [name for name in figure_data.all_figure_names(tables) if not (figures_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"figures missing in {figures_dir}: {', '.join(missing)} (run `initlab figures`)")
    raw = {key: compute(tables) for key, compute in answers.ANSWERS.items()}
    models = model_answers.model_results(tables)
    sections = sections_with_models(models)
    criteria = criteria_list(with_models=bool(models))
    by_id = {c["id"]: c for c in criteria}
    computed = {key: answer_context(a, [by_id[c] for c in ANSWER_CRITERIA.get(key, ())]) for key, a in raw.items()}
    checks = claims.check_claims(tables, config.get("ablations"))  # type: ignore[arg-type]
    titles = dict(sections)
    numbered, number = {}, 0
    model_figures = {r.anchor: (figure_data.model_figure_name(r.model),) for r in models}
    for section, _ in sections:  # numbered in page order
        names = SECTION_FIGURES.get(section, ()) or model_figures.get(section, ())
        numbered[section] = []
        for name in names:
            number += 1
            numbered[section].append(figure_context(name, number, figures_dir, tables))
    context = {
        "sections": sections,
        "models": [model_context(r, numbered[r.anchor]) for r in models],
        "model_criteria": [by_id[i] for i, _, _ in MODEL_CRITERIA] if models else [],
        "titles": titles,
        "criteria": criteria,
        "findings": findings.findings(raw, titles, checks, models),
        "exercise1_grid": exercise1_grid(raw["exercise-1"].numbers),
        "figures": numbered,
        "answers": computed,
        "lesson": lesson_section(tables.lab_reproduction),
        "signal": signal_section(tables.signal_probe),
        "theory": theory_section(tables),
        "training": training_section(tables.training),
        "seeds": seeds_section(tables.training),
        "evidence": evidence_context(answers.evidence_to_keep(tables.training)),
        "claims": claims_context(checks),
        "provenance": provenance(tables, config, timings, extra_provenance),
        "sweeps": sweeps_section(tables, config, figures_dir),
        "thresholds": thresholds(),
    }
    context["provenance"]["manifest"] = manifest_context(tables_dir)  # type: ignore[index]
    # The run's record (results/provenance.json beside the tables unless given): _provenance.html.j2.
    context["provenance_record"] = load_provenance(provenance_path or Path(tables_dir).parent / PROVENANCE_NAME)
    html = environment.get_template(TEMPLATE_NAME).render(**context)
    out_html = Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    out_html.write_text(html, encoding="utf-8")
    return out_html


def thresholds() -> list[dict[str, str]]:
    """Every threshold behind the verdicts and statistics, so a reader can rerun the judgement by hand."""
    return [
        {"name": name, "value": str(value) if isinstance(value, int) else format_number(value)}
        for name, value in (
            ("VANISHED_STD", answers.VANISHED_STD),
            ("EXPLODED_STD", answers.EXPLODED_STD),
            ("SATURATED_FRACTION", answers.SATURATED_FRACTION),
            ("AGREEMENT_TOLERANCE", theory_answers.AGREEMENT_TOLERANCE),
            ("NO_IMPROVEMENT_RATIO", answers.NO_IMPROVEMENT_RATIO),
            ("NEAR_CHANCE_ACCURACY", answers.NEAR_CHANCE_ACCURACY),
            ("WARNING_START_LOSS", answers.WARNING_START_LOSS),
            ("LAB2_VAL_EXAMPLES", answers.LAB2_VAL_EXAMPLES),
            ("CONFIDENCE", stats.CONFIDENCE),
            ("BOOTSTRAP_RESAMPLES", stats.BOOTSTRAP_RESAMPLES),
            ("BOOTSTRAP_SEED", stats.BOOTSTRAP_SEED),
        )
    ]


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


#: Config file readers by suffix: the workflow passes the validated config as JSON,
#: a person passes the YAML they edited.
CONFIG_READERS: dict[str, Callable[[str], object]] = {".json": json.loads}


def load_config(path: str | Path) -> dict[str, object]:
    """The study config from a JSON or YAML file (YAML for any other suffix)."""
    path = Path(path)
    reader = CONFIG_READERS.get(path.suffix.lower(), yaml.safe_load)
    return reader(path.read_text(encoding="utf-8")) or {}


def figures_command(tables_dir: str | Path, out_dir: str | Path, workers: int = 1) -> list[Path]:
    """``initlab figures``: draw every figure of the tables into ``out_dir`` (``workers`` at a time)."""
    from initlab.report import figures  # matplotlib and seaborn: only the figures step needs them

    written = figures.render_figures(answers.load_tables(tables_dir), out_dir, workers)
    print(f"wrote {len(written)} figures to {out_dir}")
    return written


def report_command(
    tables_dir: str | Path,
    figures_dir: str | Path,
    config_path: str | Path,
    out_html: str | Path,
    timings_path: str | Path | None = None,
    templates_dir: str | Path | None = None,
    provenance_path: str | Path | None = None,
) -> Path:
    """``initlab report``: render the report, reading the config from its file."""
    out = build_report(
        tables_dir,
        figures_dir,
        out_html,
        load_config(config_path),
        timings_path=timings_path,
        templates_dir=templates_dir,
        provenance_path=provenance_path,
    )
    return out
