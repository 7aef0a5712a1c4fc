"""Your own model: the lesson's comparison on each configured model, read from ``models.csv``.

A practitioner asks the lesson's questions of their own network: which init should I use for
*this* model on *this* data, does PyTorch's default do, and would a signal probe before training
have warned me? Per model and optimizer cell this module ranks the inits by validation accuracy
with a 95 % interval and the seeds each wins, counts run failures by mode (the lesson's run-failure
criterion, with chance at 1/C for C classes), fills in the lesson's evidence record, tests whether
the default is within the seeds' noise of the best init, and holds ``initlab inspect``'s verdict on
the starting weights against the run's outcome.

It also holds :func:`model_claims`, the lesson claims a configured model can test; the claims
section checks them with the same verdict rules as the lesson's own (:mod:`.claims`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from initlab.report import stats
from initlab.report.answers.claims import Claim, frame_of_rows
from initlab.report.answers.criteria import first_match
from initlab.report.answers.evidence import EVIDENCE_LABELS, warning_start_loss
from initlab.report.answers.runs import NO_CLEAR_IMPROVEMENT, failure_counts, with_run_failure
from initlab.report.answers.tables import Tables, init_order, same_inputs_once
from initlab.report.answers.text import capitalised, display, displays, names, sig

#: What an init is ranked by: validation accuracy, the number a practitioner picks a model by and
#: the one the lesson prints for every init; higher is better.
RANK_BY = "val_acc"
#: inspect's verdict for a start with no problem (``initlab.engine.inspect``); any other verdict flags the run.
PROBE_HEALTHY = "healthy"
#: The init whose standing the section reports: PyTorch's own, the lesson's "good first baseline".
DEFAULT_INIT = "default"
#: The lesson's Lab 2 trio, "default, xavier, and he all work here".
USABLE_INITS = ("default", "xavier", "he")
#: The lesson's word for a start that trains normally ("default, xavier, and he all work here; that is
#: exactly why defaults are a good first baseline"): its evidence label for an ordinary start that trains.
USABLE_LABEL = "Usable Start"
#: The lesson's label for a run that fails (:data:`EVIDENCE_LABELS`' first).
BAD_START = next(iter(EVIDENCE_LABELS))
#: The columns that make one training cell of a model (the seeds vary inside it).
MODEL_CELL = ("model", "dataset", "optimizer", "lr", "steps", "batch_size", "classes")

RANKING_CRITERION = (
    "Inits rank by their mean validation accuracy over seeds, with a 95 % t-interval; an init wins a seed "
    "when its validation accuracy is that seed's highest (a tie counts for each tied init). An init is within the "
    "seeds' noise of the best when the 95 % interval of their paired difference in validation accuracy (the same "
    "seeds; sign-flip permutation test) contains 0."
)
PROBE_CRITERION = (
    "Before each run, initlab inspect reads the model at its starting weights (the same weights training starts "
    f"from); a verdict other than '{PROBE_HEALTHY}' flags the run. The probe predicted the outcome when a flagged run "
    "fails the run-failure criterion and an unflagged one trains; a failing run it did not flag is a miss, a flagged "
    "run that trains a false alarm."
)


@dataclass(frozen=True)
class CellResult:
    """One model cell (an optimizer and lr): the ranking and what the probe predicted."""

    cell: dict[str, object]
    title: str  # 'Adam, lr 0.01'
    ranking: pd.DataFrame  # one row per init, best first
    best: str
    best_acc: float
    tied: tuple[str, ...]  # the other inits within the seeds' noise of the best, in ranking order
    default: stats.ShiftTest | None  # default minus best (paired); None when default is absent or is the best
    probe: pd.DataFrame  # one row per init: seeds flagged, failing, caught, missed, false alarms
    sentences: tuple[str, ...]
    rows: pd.DataFrame  # the cell's runs, labelled (:func:`labelled`): what the figure draws per seed


@dataclass(frozen=True)
class ModelResult:
    """One configured model on its data set: a short answer and every cell's detail."""

    model: str
    dataset: str
    anchor: str
    headline: str  # the section's answer: a sentence per cell and one on the probe (at most three, 60 words)
    summary: str  # the ranking sentences, for the first screen
    cells: tuple[CellResult, ...]
    probe_table: pd.DataFrame  # per init × cell: flagged and failing seeds


def model_anchor(model: str) -> str:
    """The section's HTML id: 'model-' and the model's config name (config names are id-safe)."""
    return f"model-{model}"


def cell_title(cell: dict[str, object]) -> str:
    return f"{display(cell['optimizer'])}, lr {float(cell['lr']):g}"  # type: ignore[arg-type]


def cell_text(cell: dict[str, object]) -> str:
    """The cell as claims and tables quote it: 'digits_cnn on digits, Adam lr 0.01, 120 steps of 64'."""
    return (
        f"{cell['model']} on {cell['dataset']}, {display(cell['optimizer'])} lr {float(cell['lr']):g}, "  # type: ignore[arg-type]
        f"{cell['steps']} steps of {cell['batch_size']}"
    )


def labelled(rows: pd.DataFrame) -> pd.DataFrame:
    """Model rows plus the run failure (``failure``, ``failed``), the evidence label and ``flagged``."""
    out = with_run_failure(rows)
    out["label"] = first_match(out, EVIDENCE_LABELS)
    out["flagged"] = out["probe_verdict"].astype(str) != PROBE_HEALTHY
    return out


def model_cells(models: pd.DataFrame) -> list[tuple[dict[str, object], pd.DataFrame]]:
    """Every model cell in the table's order, with its rows."""
    out = []
    for key, rows in models.groupby(list(MODEL_CELL), sort=False):
        out.append((dict(zip(MODEL_CELL, key, strict=True)), rows))
    return out


def _ranking(rows: pd.DataFrame) -> pd.DataFrame:
    winners = stats.per_seed_winners(rows, [], RANK_BY, lower_is_better=False)
    won = pd.Series([w for joined in winners["winner"] for w in joined.split("+")]).value_counts()
    table = []
    for init in init_order(rows["init"]):
        group = rows[rows["init"] == init]
        ci = stats.mean_ci(group[RANK_BY])
        label, agree, seeds = stats.majority(group["label"])
        flagged = group.loc[group["flagged"], "probe_failure"].astype(str)
        table.append(
            {
                "init": init,
                "mean_val_acc": ci.mean,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "seeds_won": int(won.get(init, 0)),
                "seeds": seeds,
                "median_start_loss": group["start_loss"].median(),
                "median_end_loss": stats.as_worst_if_nonfinite(group["end_loss"]).median(),
                "failures": failure_counts(group["failure"]),
                "evidence": f"{label} ({agree}/{seeds})",
                "probe_flagged": f"{int(group['flagged'].sum())}/{seeds}"
                + (f" ({flagged.mode().iloc[0]})" if len(flagged) else ""),
            }
        )
    out = pd.DataFrame(table)
    return out.sort_values("mean_val_acc", ascending=False, kind="stable").reset_index(drop=True)


def against_best(rows: pd.DataFrame, best: str) -> dict[str, stats.ShiftTest]:
    """Every other init against the best, paired by seed: init minus best, with its 95 % interval."""
    wide = rows.pivot_table(index="seed", columns="init", values=RANK_BY, aggfunc="first")
    others = [i for i in wide.columns if i != best]
    tests = stats.shift_tests([(wide[best].to_numpy(), wide[i].to_numpy()) for i in others], paired=True)
    return dict(zip(others, tests, strict=True))


def within_noise(test: stats.ShiftTest) -> bool:
    """The interval contains 0 (too few seeds for an interval: nothing tells them apart)."""
    return not math.isfinite(test.low) or test.low <= 0 <= test.high


def _probe_table(rows: pd.DataFrame) -> pd.DataFrame:
    table = []
    for init in init_order(rows["init"]):
        g = rows[rows["init"] == init]
        missed = ~g["flagged"] & g["failed"]
        table.append(
            {
                "init": init,
                "seeds": int(g["seed"].nunique()),
                "flagged": int(g["flagged"].sum()),
                "failed": int(g["failed"].sum()),
                "caught": int((g["flagged"] & g["failed"]).sum()),
                "missed": int((~g["flagged"] & g["failed"]).sum()),
                "false_alarms": int((g["flagged"] & ~g["failed"]).sum()),
                "missed_warning_start": int((missed & (g["start_loss"] > warning_start_loss(g["classes"]))).sum()),
                "missed_start_loss": float(g.loc[missed, "start_loss"].median()) if missed.any() else math.nan,
            }
        )
    return pd.DataFrame(table)


def default_sentence(result_best: str, ranking: pd.DataFrame, test: stats.ShiftTest | None) -> str:
    """Where PyTorch's default stands against the best init, in the seeds' noise."""
    if DEFAULT_INIT not in set(ranking["init"]):
        return "PyTorch's default was not among the inits run."
    if test is None:
        return "PyTorch's default ranks first."
    acc = float(ranking.loc[ranking["init"] == DEFAULT_INIT, "mean_val_acc"].iloc[0])
    best = display(result_best)
    if within_noise(test):
        return f"PyTorch's default ({sig(acc)}) is within the seeds' noise of {best}."
    side = "below" if test.diff < 0 else "above"
    return (
        f"PyTorch's default ({sig(acc)}) is {sig(abs(test.diff))} {side} {best}, beyond the seeds' noise "
        f"(95 % interval of the paired difference {sig(test.low)} to {sig(test.high)})."
    )


def probe_sentence(probe: pd.DataFrame, detail: int = 2) -> str:
    """What the probe before training predicted, over every run of the cell(s) in ``probe``. ``detail``
    2 adds what else warned of a miss and the false alarms, 1 the false alarms only, 0 neither (the
    section's answer keeps to its 60 words)."""
    failed, caught = int(probe["failed"].sum()), int(probe["caught"].sum())
    missed = probe[probe["missed"] > 0]
    alarms = probe[probe["false_alarms"] > 0]
    if failed == 0 and alarms.empty:
        return "No run failed, and the probe before training warned of none."
    if failed:
        share = "all" if caught == failed else f"{caught} of the"
        text = f"The probe before training warned of {share} {failed} failing runs"
    else:
        text = "No run failed"
    if len(missed):
        text += f" and missed {displays(list(dict.fromkeys(missed['init'])))}"
        warned = missed[missed["missed_warning_start"] > 0]
        if len(warned) and detail >= 2:
            first = warned.iloc[0]
            text += f", whose start loss (median {sig(float(first['missed_start_loss']))}) was the warning"
    if len(alarms) and detail >= 1:
        runs = int(alarms["false_alarms"].sum())
        text += f"; it also warned of {displays(list(dict.fromkeys(alarms['init'])))} in {runs} runs that trained"
    return capitalised(text) + "."


#: The most words of a model's answer (the same limit as the exercises' answers).
ANSWER_WORDS = 60


def cell_result(cell: dict[str, object], rows: pd.DataFrame) -> CellResult:
    rows = labelled(rows)
    ranking = _ranking(rows)
    best, best_acc = str(ranking.iloc[0]["init"]), float(ranking.iloc[0]["mean_val_acc"])
    top = ranking.iloc[0]
    tests = against_best(rows, best)
    ranking["within_noise_of_best"] = [i == best or within_noise(tests[i]) for i in ranking["init"]]
    tied = tuple(i for i in ranking["init"] if i != best and within_noise(tests[i]))
    test = tests.get(DEFAULT_INIT)
    probe = _probe_table(rows)
    failing = ranking[ranking["failures"] != "—"]
    sentences = [
        f"{display(best)} ranks first (validation accuracy {sig(best_acc)}, 95 % CI {sig(top['ci_low'])}–"
        f"{sig(top['ci_high'])}) and is best in {int(top['seeds_won'])} of {int(top['seeds'])} seeds"
        + (
            f"; {displays(list(tied))} {'is' if len(tied) == 1 else 'are'} within the seeds' noise of it."
            if tied
            else "."
        ),
        default_sentence(best, ranking, test),
        (
            "Failing: " + "; ".join(f"{display(r.init)} ({r.failures})" for r in failing.itertuples()) + "."
            if len(failing)
            else "No run fails."
        ),
        probe_sentence(probe),
    ]
    return CellResult(cell, cell_title(cell), ranking, best, best_acc, tied, test, probe, tuple(sentences), rows)


def _short_titles(cells: list[CellResult]) -> list[str]:
    """Each cell by its optimizer alone ('Adam') when that tells the cells apart, else with its lr."""
    optimizers = [str(c.cell["optimizer"]) for c in cells]
    if len(set(optimizers)) == len(optimizers):
        return [display(o) for o in optimizers]
    return [c.title for c in cells]


def best_sentence(cells: list[CellResult], shorts: list[str]) -> str:
    """'LSUV has the best validation accuracy with Adam (0.97) and SGD (0.953).', or with a best per cell
    'Best validation accuracy: LSUV with Adam (0.97); He with SGD (0.948).'"""
    pairs = list(zip(cells, shorts, strict=True))
    if len({c.best for c in cells}) == 1:
        where = names([f"{s} ({sig(c.best_acc)})" for c, s in pairs])
        return f"{display(cells[0].best)} has the best validation accuracy with {where}."
    return (
        "Best validation accuracy: "
        + "; ".join(f"{display(c.best)} with {s} ({sig(c.best_acc)})" for c, s in pairs)
        + "."
    )


def default_standing(cells: list[CellResult], shorts: list[str]) -> str:
    """Where PyTorch's default stands in every cell, in one sentence ('' when it was not run)."""
    first, within, behind = [], [], []
    for c, s in zip(cells, shorts, strict=True):
        if c.best == DEFAULT_INIT:
            first.append(s)
        elif c.default is None:
            continue  # not run in this cell
        elif DEFAULT_INIT in c.tied:
            within.append(s)
        else:
            behind.append((s, c.default.diff))
    pieces = []
    if first:
        pieces.append(f"the best with {names(first)}")
    if within:
        pieces.append(f"as good as the best with {names(within)} (within the seeds' noise)")
    if behind:
        gaps = names([f"{sig(abs(d))} with {s}" for s, d in behind])
        word = "worse" if all(d < 0 for _, d in behind) else "off the best"
        pieces.append(f"{word}, beyond the seeds' noise, by {gaps}")
    return ("PyTorch's default is " + "; ".join(pieces) + ".") if pieces else ""


def _across(cells: list[CellResult]) -> tuple[str, str]:
    """The model's answer in three sentences: the best init per cell, the default's standing, and what
    the probe before training predicted, in as much detail as :data:`ANSWER_WORDS` allows; the first
    two are the first screen's line."""
    shorts = _short_titles(cells)
    probe = pd.concat([c.probe for c in cells]).groupby("init", sort=False).sum(numeric_only=True).reset_index()
    ranking = " ".join(s for s in (best_sentence(cells, shorts), default_standing(cells, shorts)) if s)
    for detail in (2, 1, 0):
        said = probe_sentence(probe, detail)
        if len(f"{ranking} {said}".split()) <= ANSWER_WORDS:
            break
    return ranking, said


def figure_takeaway(result: ModelResult) -> str:
    """What the model's figure shows beyond the answer: how many inits share the top within the
    seeds' noise, and which fail, per cell."""
    shorts = _short_titles(list(result.cells))
    parts = []
    for c, s in zip(result.cells, shorts, strict=True):
        bad = c.ranking["evidence"].str.startswith(BAD_START)
        failing = [str(i) for i in c.ranking.loc[bad, "init"]]
        if c.tied:
            text = f"with {s} {len(c.tied) + 1} inits share the top within the seeds' noise"
        else:
            text = f"with {s} {display(c.best)} leads alone beyond the seeds' noise"
        if failing:
            text += f", and {displays(failing)} {'fails' if len(failing) == 1 else 'fail'}"
        parts.append(text)
    return capitalised("; ".join(parts)) + "."


def model_result(model: str, dataset: str, rows: pd.DataFrame) -> ModelResult:
    cells = [cell_result(cell, r) for cell, r in model_cells(rows)]
    ranking, probe = _across(cells)
    probe_table = pd.concat([c.probe.assign(cell=c.title) for c in cells], ignore_index=True)
    probe_table = probe_table[["cell", *[c for c in probe_table.columns if c != "cell"]]]
    return ModelResult(model, dataset, model_anchor(model), f"{ranking} {probe}", ranking, tuple(cells), probe_table)


@same_inputs_once  # the section, its figure's caption and the claims read the same results
def model_results(tables: Tables) -> list[ModelResult]:
    """One result per configured model, in the table's order; none when the study configured no model."""
    models = tables.models
    if models is None or models.empty:
        return []
    return [
        model_result(str(model), str(rows["dataset"].iloc[0]), rows)
        for model, rows in models.groupby("model", sort=False)
    ]


# --------------------------------------------------------------------------
# The lesson's claims a configured model can test
# --------------------------------------------------------------------------

#: One seed's rows of a model cell -> (the claim holds, the number judged, what the seed showed),
#: or None when the seed lacks the init the claim is about.
SeedTest = Callable[[pd.DataFrame], "tuple[bool, float, str] | None"]


def _claim_rows(t: Tables, per_seed: SeedTest) -> pd.DataFrame:
    """Rows for :mod:`.claims`: one per (model cell, seed), from ``per_seed(rows of one seed)``."""
    if t.models is None or t.models.empty:
        return frame_of_rows([])
    out = []
    for cell, rows in model_cells(t.models):
        rows = labelled(rows)
        for seed, group in rows.groupby("seed", sort=True):
            result = per_seed(group)
            if result is None:
                continue
            holds, value, note = result
            label = f"{cell['model']}, {display(cell['optimizer'])}"
            out.append(
                {"cell": cell_text(cell), "seed": seed, "holds": holds, "value": value, "note": note, "label": label}
            )
    return frame_of_rows(out)


def _one(group: pd.DataFrame, init: str) -> pd.Series | None:
    mine = group[group["init"] == init]
    return None if mine.empty else mine.iloc[0]


def zeros_stuck(t: Tables) -> pd.DataFrame:
    def per_seed(group: pd.DataFrame) -> tuple[bool, float, str] | None:
        r = _one(group, "zeros")
        if r is None:
            return None
        holds = bool(NO_CLEAR_IMPROVEMENT.test(r.to_frame().T).iloc[0])
        return holds, float(r["end_loss"] / r["start_loss"]), ""

    return _claim_rows(t, per_seed)


def large_huge_start_loss(t: Tables) -> pd.DataFrame:
    def per_seed(group: pd.DataFrame) -> tuple[bool, float, str] | None:
        r = _one(group, "large")
        if r is None:
            return None
        return bool(r["start_loss"] > warning_start_loss(r["classes"])), float(r["start_loss"]), ""

    return _claim_rows(t, per_seed)


def usable_starts(t: Tables) -> pd.DataFrame:
    def per_seed(group: pd.DataFrame) -> tuple[bool, float, str] | None:
        trio = group[group["init"].isin(USABLE_INITS)]
        if trio.empty:
            return None
        failing = list(trio.loc[trio["failed"], "init"])
        note = f"{displays(failing)} failed" if failing else ""
        return not failing, float(trio[RANK_BY].min()), note

    return _claim_rows(t, per_seed)


def default_good_first_choice(t: Tables) -> pd.DataFrame:
    def per_seed(group: pd.DataFrame) -> tuple[bool, float, str] | None:
        r = _one(group, DEFAULT_INIT)
        if r is None:
            return None
        return (
            r["label"] == USABLE_LABEL,
            float(r[RANK_BY]),
            r["failure"] or ("" if r["label"] == USABLE_LABEL else r["label"]),
        )

    return _claim_rows(t, per_seed)


def probe_warns(t: Tables) -> pd.DataFrame:
    def per_seed(group: pd.DataFrame) -> tuple[bool, float, str] | None:
        missed = list(group.loc[group["failed"] & ~group["flagged"], "init"])
        return not missed, float(len(missed)), (f"missed {displays(missed)}" if missed else "")

    return _claim_rows(t, per_seed)


def model_claims(tables: Tables) -> tuple[Claim, ...]:
    """The lesson claims the configured models can test (none without a model), each linking to the
    first model's section."""
    results = tables.models
    if results is None or results.empty:
        return ()
    detail = model_anchor(str(results["model"].iloc[0]))
    source_2 = "Lab 2, on your model"
    return (
        Claim(
            "claim-model-zeros",
            source_2,
            "On your model: all-zero weights keep the neurons identical, so the loss does not improve.",
            f"zeros' {NO_CLEAR_IMPROVEMENT.description} (the run-failure '{NO_CLEAR_IMPROVEMENT.name}'), every "
            "model cell",
            "end/start loss",
            detail,
            zeros_stuck,
        ),
        Claim(
            "claim-model-large-loss",
            source_2,
            "On your model: too-large weights start with a huge loss.",
            "large's start loss is above 2 ln C for C classes (the Warning Start rule), every model cell",
            "start loss",
            detail,
            large_huge_start_loss,
        ),
        Claim(
            "claim-model-usable",
            source_2,
            "On your model: default, Xavier and He all train normally.",
            f"none of {displays(list(USABLE_INITS))} fails the run-failure criterion in the seed, every model cell",
            "lowest validation accuracy of the three",
            detail,
            usable_starts,
        ),
        Claim(
            "claim-model-default",
            "Key Takeaways (PyTorch defaults for nn.Linear and nn.Conv2d models), on your model",
            "PyTorch defaults are a good first choice for normal nn.Linear and nn.Conv2d models.",
            f"PyTorch's default earns the lesson's '{USABLE_LABEL}' in the seed (it trains, from an ordinary start "
            "loss), every model cell; how close it comes to the best init is the section's ranking",
            "default's validation accuracy",
            detail,
            default_good_first_choice,
        ),
        Claim(
            "claim-model-probe",
            "Key Takeaways (run a signal probe before training), on your model",
            "A signal probe before training warns of the inits that will fail.",
            "every init that fails the run-failure criterion in the seed was flagged by initlab inspect on its "
            "starting weights, every model cell",
            "failing inits the probe missed",
            detail,
            probe_warns,
        ),
    )


def ranking_table(cell: CellResult) -> pd.DataFrame:
    """A cell's ranking as the report shows it (the interval as one column)."""
    r = cell.ranking
    interval = [
        f"{sig(lo)}–{sig(hi)}" if np.isfinite(lo) else "—" for lo, hi in zip(r["ci_low"], r["ci_high"], strict=True)
    ]
    shown = r.assign(ci_95=interval)
    return shown[
        [
            "init",
            "mean_val_acc",
            "ci_95",
            "seeds_won",
            "seeds",
            "evidence",
            "failures",
            "probe_flagged",
            "median_start_loss",
            "median_end_loss",
        ]
    ]
