"""The lesson's own claims, each held against the study's tables.

:data:`CLAIMS` is the one list of every claim the lesson makes that the tables can test: a
paraphrase, the lesson section it comes from, the criterion, and a test that returns one row
per (cell, seed) with ``holds`` and the number it judged. :func:`check_claims` turns those rows
into a verdict:

- a *cell* (an activation at the lesson's net, say) supports the claim when it holds in a
  strict majority of that cell's seeds;
- the claim **holds** when every tested cell supports it, **does not hold here** when none
  does, and **holds in part** otherwise.

A claim that compares two inits in one training cell names that pair (:attr:`Claim.pair`);
where it does not hold there, the report reads the layer-swap ablation of that cell
(:mod:`initlab.report.answers.ablation`), or says that none is configured and gives the config
line that adds one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from initlab.report import stats
from initlab.report.answers.ablation import (
    CARRIES_SHARE,  # noqa: F401 (re-exported: the report's template reads claims.CARRIES_SHARE)
    AblationResult,
    ablation_answer,
    configured_only,
    find_ablation,
)
from initlab.report.answers.evidence import WARNING_START_LOSS
from initlab.report.answers.exercise2 import EX2_BASELINE, EX2_CHANGED, EX2_INIT, EX2_RIVAL, xavier_gaps
from initlab.report.answers.exercise3 import EX3_BASELINE, EX3_CHANGED
from initlab.report.answers.probe import (
    EX1_FROM_DEPTH,
    probe_failure_depths,
    probe_last_layers,
)
from initlab.report.answers.runs import (
    LESSON_ACTIVATION,
    LESSON_OPTIMIZER,
    NO_CLEAR_IMPROVEMENT,
    TRAINING_CELL,
    cell_text,
    seed_counts,
    select_runs,
    with_run_failure,
)
from initlab.report.answers.tables import Tables, closest
from initlab.report.answers.text import display, sig
from initlab.study.ablations import config_line

HOLDS, IN_PART, DOES_NOT_HOLD, UNTESTED = "holds", "holds in part", "does not hold here", "not testable here"

#: The lesson's match table ("Xavier and He in One Table"): activation -> the init it recommends,
#: and the other one of the pair, the mismatch.
MATCHED_INIT = {"tanh": "xavier", "sigmoid": "xavier", "relu": "he", "leaky_relu": "he"}
MISMATCHED_INIT = {"tanh": "he", "sigmoid": "he", "relu": "xavier", "leaky_relu": "xavier"}
#: Lab 2: "default, xavier, and he all work here".
USABLE_INITS = ("default", "xavier", "he")
#: The lesson's bad starts (its table of common failures): the inits with "poor activation and
#: gradient scale" that Exercise 3's reference answer expects to be fragile under SGD.
POOR_SCALE_INITS = frozenset({"zeros", "tiny", "large"})
#: Exercise 1's reference answer: naive random init fails before He.
EX1_NAIVE, EX1_HE = "large", "he"

#: A test's rows: one per (cell, seed) with columns cell (text), seed, holds (bool), value (float)
#: note (what the seed showed, e.g. the probe's failure mode; '' for nothing to add) and label (the
#: cell in a reader's words, e.g. 'Tanh', for the per-cell seed counts the report shows).
ClaimTest = Callable[[Tables], pd.DataFrame]
#: The training cell and init pair a claim compares (for the ablation), or None.
PairOf = Callable[[Tables, str], "dict[str, object] | None"]
ROW_COLUMNS = ["cell", "seed", "holds", "value", "note", "label"]


@dataclass(frozen=True)
class Claim:
    """One claim of the lesson and the criterion that tests it."""

    key: str
    source: str  # the lesson section it comes from
    paraphrase: str
    criterion: str
    measure: str  # what ``value`` is, for the numbers table
    detail: str  # report section id with the detail
    test: ClaimTest
    exercise: str | None = None  # the exercise whose reference answer this is
    pair: PairOf | None = None  # cell text -> {training cell columns, init_a, init_b}


@dataclass(frozen=True)
class ClaimCheck:
    """A claim's verdict on these tables, with the numbers and, where it fails, the ablation."""

    claim: Claim
    verdict: str
    sentence: str
    numbers: pd.DataFrame
    seeds_agreeing: int
    seeds_total: int
    ablations: tuple[AblationResult, ...] = ()
    missing_ablations: tuple[str, ...] = field(default=())  # config lines that would add one


# --------------------------------------------------------------------------
# Row builders shared by the tests
# --------------------------------------------------------------------------


def frame_of_rows(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame([{"note": "", "label": ""} | r for r in rows], columns=ROW_COLUMNS)


def _lesson_runs(training: pd.DataFrame, optimizer: str = LESSON_OPTIMIZER) -> dict[str, pd.DataFrame]:
    """Per training activation: the rows of the lesson's net (closest cell) with ``optimizer``."""
    out = {}
    for activation in sorted(training["activation"].unique()):
        rows = select_runs(training, activation, optimizer)
        if len(rows):
            out[activation] = rows
    return out


def _per_init_rows(
    training: pd.DataFrame,
    init: str,
    holds: Callable[[pd.DataFrame], pd.Series],
    value: Callable[[pd.DataFrame], pd.Series],
) -> pd.DataFrame:
    """One row per (activation at the lesson's net with Adam, seed) for one init's runs."""
    rows = []
    for activation, rows_of in _lesson_runs(training).items():
        mine = with_run_failure(rows_of[rows_of["init"] == init])
        if mine.empty:
            continue
        cell = cell_text(mine)
        rows += [
            {"cell": cell, "seed": s, "holds": bool(h), "value": float(v), "label": display(activation)}
            for s, h, v in zip(mine["seed"], holds(mine), value(mine), strict=True)
        ]
    return frame_of_rows(rows)


def _probe_rows(
    signal_probe: pd.DataFrame, init_of: Callable[[str], str | None], holds: Callable[[pd.DataFrame], pd.Series]
) -> pd.DataFrame:
    """One row per (probe activation at Lab 1's depth, seed) for the init ``init_of(activation)``."""
    if signal_probe.empty:
        return frame_of_rows([])
    last = probe_last_layers(signal_probe)
    last = last[last["depth"] == closest(last["depth"].unique(), EX1_FROM_DEPTH)]
    rows = []
    for activation, group in last.groupby("activation", sort=True):
        init = init_of(activation)
        mine = group[group["init"] == init] if init else group.iloc[0:0]
        if mine.empty:
            continue
        first = mine.iloc[0]
        cell = f"probe {display(init)} + {display(activation)}, depth {first['depth']}, width {first['width']}"
        rows += [
            {
                "cell": cell,
                "seed": s,
                "holds": bool(h),
                "value": float(v),
                "note": f or "healthy",
                "label": display(activation),
            }
            for s, h, v, f in zip(mine["seed"], holds(mine), mine["std"], mine["failure"], strict=True)
        ]
    return frame_of_rows(rows)


# --------------------------------------------------------------------------
# The tests, one per claim
# --------------------------------------------------------------------------


def zeros_stuck(t: Tables) -> pd.DataFrame:
    return _per_init_rows(
        t.training,
        "zeros",
        NO_CLEAR_IMPROVEMENT.test,
        lambda d: d["end_loss"] / d["start_loss"],
    )


def tiny_vanishes(t: Tables) -> pd.DataFrame:
    return _probe_rows(t.signal_probe, lambda a: "tiny", lambda d: d["failure"] == "vanished")


def large_saturates_or_explodes(t: Tables) -> pd.DataFrame:
    return _probe_rows(
        t.signal_probe, lambda a: "large", lambda d: d["failure"].isin(["saturated", "exploded", "non-finite"])
    )


def large_huge_start_loss(t: Tables) -> pd.DataFrame:
    return _per_init_rows(
        t.training, "large", lambda d: d["start_loss"] > WARNING_START_LOSS, lambda d: d["start_loss"]
    )


def matched_keeps_signal(t: Tables) -> pd.DataFrame:
    return _probe_rows(t.signal_probe, MATCHED_INIT.get, lambda d: d["failure"] == "")


def matched_trains_better(t: Tables) -> pd.DataFrame:
    """Per activation with a match at the lesson's net with Adam: matched end loss < mismatched, by seed."""
    rows = []
    for activation, runs in _lesson_runs(t.training).items():
        good, bad = MATCHED_INIT.get(activation), MISMATCHED_INIT.get(activation)
        wide = runs.assign(score=stats.as_worst_if_nonfinite(runs["end_loss"])).pivot_table(
            index="seed", columns="init", values="score", aggfunc="first"
        )
        if good not in wide.columns or bad not in wide.columns:
            continue
        cell = f"{display(good)} vs {display(bad)}, {cell_text(runs)}"
        paired = wide[[good, bad]].dropna()
        rows += [
            {
                "cell": cell,
                "seed": s,
                "holds": bool(g < b),
                "value": float(g / b) if b > 0 else math.nan,
                "label": display(activation),
            }
            for s, g, b in zip(paired.index, paired[good], paired[bad], strict=True)
        ]
    return frame_of_rows(rows)


def matched_pair(t: Tables, cell: str) -> dict[str, object] | None:
    for activation, runs in _lesson_runs(t.training).items():
        good, bad = MATCHED_INIT.get(activation), MISMATCHED_INIT.get(activation)
        if good and cell == f"{display(good)} vs {display(bad)}, {cell_text(runs)}":
            return {**{c: runs.iloc[0][c] for c in TRAINING_CELL}, "init_a": good, "init_b": bad}
    return None


def usable_starts(t: Tables) -> pd.DataFrame:
    """Lab 2's cell (ReLU, Adam, the lesson's net): default, xavier and he all train (no run failure)."""
    runs = with_run_failure(select_runs(t.training, LESSON_ACTIVATION, LESSON_OPTIMIZER))
    runs = runs[runs["init"].isin(USABLE_INITS)]
    if runs.empty:
        return frame_of_rows([])
    cell = f"{', '.join(map(display, USABLE_INITS))}, {cell_text(runs)}"
    rows = [
        {
            "cell": cell,
            "seed": seed,
            "holds": not bool(g["failed"].any()),
            "value": float(stats.as_worst_if_nonfinite(g["end_loss"]).max()),
            "label": display(LESSON_ACTIVATION),
        }
        for seed, g in runs.groupby("seed", sort=True)
    ]
    return frame_of_rows(rows)


def naive_fails_before_he(t: Tables) -> pd.DataFrame:
    """Exercise 1's reference: per probe activation and seed, large fails at a shallower depth than He."""
    if t.signal_probe.empty:
        return frame_of_rows([])
    depths = probe_failure_depths(t.signal_probe)
    rows = []
    for activation, group in depths.groupby("activation", sort=True):
        wide = group.pivot_table(index="seed", columns="init", values="failure_depth", aggfunc="first")
        if EX1_NAIVE not in wide.columns or EX1_HE not in wide.columns:
            continue
        cell = (
            f"probe {display(EX1_NAIVE)} vs {display(EX1_HE)} + {display(activation)}, "
            f"depths up to {group['max_depth'].max():g}"
        )
        rows += [
            {"cell": cell, "seed": s, "holds": bool(n < h), "value": float(n), "label": display(activation)}
            for s, n, h in zip(wide.index, wide[EX1_NAIVE], wide[EX1_HE], strict=True)
        ]
    return frame_of_rows(rows)


def xavier_more_competitive(t: Tables) -> pd.DataFrame:
    """Exercise 2's reference: per seed at the lesson's net with Adam, Xavier's gap to the best is
    smaller under Tanh than under ReLU (Exercise 2's own criterion, seed by seed)."""
    both = pd.concat([select_runs(t.training, act, LESSON_OPTIMIZER) for act in (EX2_BASELINE, EX2_CHANGED)])
    if both.empty or both["activation"].nunique() < 2:
        return frame_of_rows([])
    gaps = xavier_gaps(both).pivot_table(index="seed", columns="activation", values="log_gap").dropna()
    if EX2_CHANGED not in gaps.columns or EX2_BASELINE not in gaps.columns:
        return frame_of_rows([])
    runs = select_runs(t.training, EX2_CHANGED, LESSON_OPTIMIZER)
    cell = f"{display(EX2_INIT)} vs {display(EX2_RIVAL)}, {cell_text(runs)}"
    return frame_of_rows(
        [
            {"cell": cell, "seed": s, "holds": bool(c < b), "value": float(math.exp(c)), "label": display(EX2_CHANGED)}
            for s, c, b in zip(gaps.index, gaps[EX2_CHANGED], gaps[EX2_BASELINE], strict=True)
        ]
    )


def exercise2_pair(t: Tables, cell: str) -> dict[str, object] | None:
    runs = select_runs(t.training, EX2_CHANGED, LESSON_OPTIMIZER)
    if runs.empty:
        return None
    return {**{c: runs.iloc[0][c] for c in TRAINING_CELL}, "init_a": EX2_INIT, "init_b": EX2_RIVAL}


def sgd_fragile_are_poor_scale(t: Tables) -> pd.DataFrame:
    """Exercise 3's reference: per activation and seed at the lesson's net, some init fails under SGD
    and every init failing under SGD but not under Adam is one of the lesson's bad starts."""
    base, changed = _lesson_runs(t.training, EX3_BASELINE), _lesson_runs(t.training, EX3_CHANGED)
    rows = []
    for activation in sorted(set(base) & set(changed)):
        b = with_run_failure(base[activation]).pivot_table(
            index="seed", columns="init", values="failed", aggfunc="first"
        )
        c = with_run_failure(changed[activation]).pivot_table(
            index="seed", columns="init", values="failed", aggfunc="first"
        )
        inits = b.columns.intersection(c.columns)
        seeds = b.index.intersection(c.index)
        cell = cell_text(changed[activation]) + f" vs {display(EX3_BASELINE)}"
        for seed in seeds:
            newly = [i for i in inits if bool(c.loc[seed, i]) and not bool(b.loc[seed, i])]
            failing = [i for i in inits if bool(c.loc[seed, i])]
            others = [i for i in newly if i not in POOR_SCALE_INITS]
            rows.append(
                {
                    "cell": cell,
                    "seed": seed,
                    "holds": bool(failing) and not others,
                    "value": float(len(others)),
                    "label": display(activation),
                }
            )
    return frame_of_rows(rows)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "claim-zeros",
        "The Minimal Idea (bad starts: all zeros); Lab 2",
        "All-zero weights keep the neurons identical, so the loss does not improve.",
        f"zeros' {NO_CLEAR_IMPROVEMENT.description} (the run-failure '{NO_CLEAR_IMPROVEMENT.name}'), "
        "at the lesson's net with Adam, every trained activation",
        "end/start loss",
        "evidence-to-keep",
        zeros_stuck,
    ),
    Claim(
        "claim-tiny",
        "The Minimal Idea (bad starts: too small); Lab 1",
        "Too-small weights shrink the signal through depth: deep layers become almost zero.",
        "tiny's last probe layer fails as 'vanished' (Exercise 1's criterion) "
        "at Lab 1's depth, every probed activation",
        "last-layer std",
        "signal-through-depth",
        tiny_vanishes,
    ),
    Claim(
        "claim-large-signal",
        "The Minimal Idea (bad starts: too large); Lab 1",
        "Too-large weights make activations saturate or explode.",
        "large's last probe layer fails as 'saturated', 'exploded' or 'non-finite' "
        "at Lab 1's depth, every probed activation",
        "last-layer std",
        "signal-through-depth",
        large_saturates_or_explodes,
    ),
    Claim(
        "claim-large-loss",
        "The Minimal Idea (bad starts: too large); Lab 2",
        "Too-large weights start with a huge loss.",
        f"large's start_loss > 2 ln 2 = {sig(WARNING_START_LOSS)} (the Warning Start rule), at the lesson's net "
        "with Adam, every trained activation",
        "start loss",
        "evidence-to-keep",
        large_huge_start_loss,
    ),
    Claim(
        "claim-match-signal",
        "Xavier and He in One Table; Lab 1",
        "The matched init keeps the signal's scale: Xavier for Tanh/Sigmoid, He for ReLU.",
        "the matched init's last probe layer passes every probe-failure criterion at Lab 1's depth",
        "last-layer std",
        "signal-through-depth",
        matched_keeps_signal,
    ),
    Claim(
        "claim-match-training",
        "Xavier and He in One Table; bad starts (mismatched init); Key Takeaways",
        "The matched init trains better than the mismatched one (a mismatch means slow or fragile training).",
        "per seed, the matched init's end loss is below the mismatched init's (Xavier vs He under Tanh, He vs "
        "Xavier under ReLU), at the lesson's net with Adam",
        "end loss matched / mismatched",
        "comparing-seeds",
        matched_trains_better,
        pair=matched_pair,
    ),
    Claim(
        "claim-usable",
        "Lab 2 (What matters); Evidence to Keep",
        "Default, Xavier and He all train normally on the lesson's task.",
        f"none of {', '.join(map(display, USABLE_INITS))} fails the run-failure criterion in the seed (Lab 2's cell)",
        "worst end loss of the three",
        "evidence-to-keep",
        usable_starts,
    ),
    Claim(
        "claim-exercise-1",
        "Exercises: reference answer 1",
        "A deeper probe exposes naive random (too-large) init before He.",
        f"per seed, {display(EX1_NAIVE)} fails at a shallower probe depth than {display(EX1_HE)} "
        "(never failing within the probed depths counts as depth ∞)",
        f"{EX1_NAIVE}'s first failing depth",
        "exercise-1",
        naive_fails_before_he,
        exercise="exercise-1",
    ),
    Claim(
        "claim-exercise-2",
        "Exercises: reference answer 2",
        "With Tanh, Xavier becomes more competitive.",
        "per seed, Xavier's distance from the seed's best init is smaller under Tanh than under ReLU (Exercise 2's "
        "criterion), at the lesson's net with Adam",
        "Xavier's end loss / best, Tanh",
        "exercise-2",
        xavier_more_competitive,
        exercise="exercise-2",
        pair=exercise2_pair,
    ),
    Claim(
        "claim-exercise-3",
        "Exercises: reference answer 3",
        "With SGD at lr 0.1, the fragile inits are those with poor activation and gradient scale.",
        f"per seed at the lesson's net, some init fails under SGD, and every init failing under SGD but not Adam is "
        f"one of the lesson's bad starts ({', '.join(sorted(POOR_SCALE_INITS))})",
        "fragile inits that are not bad starts",
        "exercise-3",
        sgd_fragile_are_poor_scale,
        exercise="exercise-3",
    ),
)


# --------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------


def cell_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per cell: seeds where the claim holds, seeds, whether a strict majority holds, median value."""
    grouped = rows.groupby("cell", sort=False)
    out = grouped.agg(
        seeds_holding=("holds", "sum"),
        seeds=("seed", "nunique"),
        median_value=("value", "median"),
        label=("label", "first"),
    )
    out["seeds_holding"] = out["seeds_holding"].astype(int)
    out["seeds_showed"] = grouped["note"].agg(seed_counts)
    out["supports"] = out["seeds_holding"] > out["seeds"] / 2
    return out.reset_index()


def verdict_of(summary: pd.DataFrame) -> str:
    if summary.empty:
        return UNTESTED
    supported = int(summary["supports"].sum())
    return HOLDS if supported == len(summary) else DOES_NOT_HOLD if supported == 0 else IN_PART


def check_claim(claim: Claim, tables: Tables) -> ClaimCheck:
    """Run one claim's test and judge it; where it fails in a training cell, read that cell's ablation."""
    rows = claim.test(tables)
    summary = (
        cell_summary(rows)
        if len(rows)
        else pd.DataFrame(
            columns=["cell", "seeds_holding", "seeds", "median_value", "label", "seeds_showed", "supports"]
        )
    )
    verdict = verdict_of(summary)
    if verdict == UNTESTED:
        return ClaimCheck(claim, verdict, "Not testable: the tables have no rows this claim needs.", summary, 0, 0)
    agreeing = np.where(summary["supports"], summary["seeds_holding"], summary["seeds"] - summary["seeds_holding"])
    parts = [
        f"{'holds' if r.supports else 'does not hold'} at {r.cell} ({r.seeds_holding}/{r.seeds} seeds; median "
        f"{claim.measure} {r.median_value:.3g}" + (f"; {r.seeds_showed}" if r.seeds_showed else "") + ")"
        for r in summary.itertuples()
    ]
    sentence = f"{verdict[0].upper()}{verdict[1:]}: " + "; ".join(parts) + "."
    ablations, missing = [], []
    if claim.pair is not None:
        for r in summary[~summary["supports"]].itertuples():
            pair = claim.pair(tables, r.cell)
            if pair is None:
                continue
            found = find_ablation(tables.ablation, pair, str(pair["init_a"]), str(pair["init_b"]))
            if len(found):
                ablations.append(ablation_answer(found))
            else:
                missing.append(config_line(_entry(pair)))
    numbers = summary.rename(columns={"median_value": f"median {claim.measure}"})
    return ClaimCheck(
        claim,
        verdict,
        sentence,
        numbers,
        int(agreeing.min()),
        int(summary["seeds"].min()),
        tuple(ablations),
        tuple(missing),
    )


def _entry(pair: dict[str, object]) -> dict[str, object]:
    """The ``ablations`` config entry for a claim's pair (numbers as plain Python values)."""
    out = {k: pair[k] for k in ("init_a", "init_b", "activation")}
    out |= {k: int(pair[k]) for k in ("depth", "width", "steps")}  # type: ignore[call-overload]
    out |= {"optimizer": pair["optimizer"], "lr": float(pair["lr"])}  # type: ignore[arg-type]
    return out


def check_claims(tables: Tables, ablations: list[dict[str, object]] | None = None) -> list[ClaimCheck]:
    """Every claim of :data:`CLAIMS`, checked, in the lesson's order, then the claims the configured
    models can test (:func:`initlab.report.answers.models.model_claims`).

    ``ablations``: the config's ``ablations`` list, when known; only those ablations are read.
    """
    from initlab.report.answers.models import model_claims  # it builds on this module's Claim

    tables = replace(tables, ablation=configured_only(tables.ablation, ablations))
    return [check_claim(claim, tables) for claim in (*CLAIMS, *model_claims(tables))]


#: Exercise answer key (``ANSWERS``) -> the claim holding the lesson's reference answer to it.
REFERENCE_ANSWERS: dict[str, str] = {c.exercise: c.key for c in CLAIMS if c.exercise}


def agreement_text(check: ClaimCheck) -> str:
    """Seeds where the claim holds, per cell in a reader's words ('ReLU 10/10, Tanh 6/10'): one count
    per cell, so it never reads as the count of another statement on the page."""
    summary = check.numbers
    if summary.empty:
        return "no cells tested"
    return ", ".join(
        f"{r['label'] or r['cell']} {int(r['seeds_holding'])}/{int(r['seeds'])}" for _, r in summary.iterrows()
    )
