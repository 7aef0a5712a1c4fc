"""Exercise 1: signal probe through depth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from initlab.engine.health import FAILURE_RULES, FailureRule
from initlab.report import stats
from initlab.report.answers.criteria import Answer, Criterion, criteria_text, first_match, unanswerable
from initlab.report.answers.predicted import predicted_failure_depths, theory_citation
from initlab.report.answers.tables import closest, init_order, same_inputs_once
from initlab.report.answers.text import display, displays, verb

#: The exercise's own depths: the lesson's probe (8) and the deeper one (20).
EX1_FROM_DEPTH = 8
EX1_TO_DEPTH = 20
#: Width of the lesson's probe network; the closest probed width is used.
LESSON_PROBE_WIDTH = 128


def _rule_criterion(rule: FailureRule) -> Criterion:
    """A health rule as a report criterion: its test on a table's columns, as a Series on the table's
    index (numpy gives back a plain array where no input column was a Series)."""

    def test(d: pd.DataFrame) -> pd.Series:
        result = rule.judge(d)
        return result if isinstance(result, pd.Series) else pd.Series(result, index=d.index)

    return Criterion(rule.name, rule.description, test)


#: Exercise 1's failure modes: the engine's signal-failure rules, in their priority order, judged
#: by ``first_match`` (which also counts an un-evaluable test as a failure).
PROBE_FAILURES: dict[str, Criterion] = {name: _rule_criterion(rule) for name, rule in FAILURE_RULES.items()}


#: The measurement that shows each probe failure, quoted in the sentence.
FAILURE_EVIDENCE: dict[str, tuple[str, str]] = {
    "non-finite": ("nonfinite_ratio", "{:.0%} of values non-finite"),
    "exploded": ("std", "last-layer std {:.3g}"),
    "vanished": ("std", "last-layer std {:.3g}"),
    "saturated": ("saturated_ratio", "{:.0%} of units at |x| > 0.98"),
    "gradient vanished": ("grad_ratio", "first/last-layer gradient ratio {:.3g}"),
}


@same_inputs_once
def probe_last_layers(signal_probe: pd.DataFrame) -> pd.DataFrame:
    """Last-layer row of every probe network (lesson width), with its failure mode."""
    rows = signal_probe[signal_probe["width"] == closest(signal_probe["width"].unique(), LESSON_PROBE_WIDTH)]
    network = ["seed", "activation", "init", "depth"]
    last = rows[rows["layer"] == rows.groupby(network)["layer"].transform("max")].copy()
    first = rows[rows["layer"] == 1].set_index(network)["act_grad_norm"]
    last["grad_ratio"] = (
        first.reindex(pd.MultiIndex.from_frame(last[network])).to_numpy() / last["act_grad_norm"].to_numpy()
    )
    last["failure"] = first_match(last, PROBE_FAILURES)
    return last


def majority_depth(depths: pd.Series) -> float:
    """Smallest depth by which a strict majority of seeds has failed (inf: never).

    With per-seed failure depths sorted, that is element ``n // 2``: for ten
    seeds the sixth smallest, for one seed the only one.
    """
    ordered = np.sort(depths.to_numpy(dtype=float))
    return float(ordered[len(ordered) // 2])


@same_inputs_once
def probe_failure_depths(signal_probe: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, init, seed): smallest probed depth whose last layer fails, and how.

    Each depth is a separate network, so this is the first depth of the grid
    at which a freshly initialised network of that depth is already broken.
    """
    last = probe_last_layers(signal_probe)
    if last.empty:
        return pd.DataFrame()
    # One pass over all networks instead of a loop per (activation, init, seed): at 100 seeds the
    # loop took seconds of every report and figure step.
    network = ["activation", "init", "seed"]
    per_seed = last.groupby(network, sort=True)["depth"].max().astype(float).rename("max_depth").reset_index()
    failing = last[last["failure"] != ""].sort_values([*network, "depth"], kind="stable")
    first = failing.drop_duplicates(network, keep="first")
    evidence = np.full(len(first), np.nan)  # positional: a concatenated table repeats index labels
    for mode, (column, _) in FAILURE_EVIDENCE.items():
        hit = (first["failure"] == mode).to_numpy()
        evidence[hit] = pd.to_numeric(first[column], errors="coerce").to_numpy(dtype=float)[hit]
    first = first[network].assign(
        failure_depth=first["depth"].astype(float), failure=first["failure"], failure_value=evidence
    )
    out = per_seed.merge(first, on=network, how="left")
    return out.assign(
        failure_depth=out["failure_depth"].fillna(math.inf),
        failure=out["failure"].fillna("").astype(str),
    )[[*network, "failure_depth", "failure", "failure_value", "max_depth"]]


def probe_failure_summary(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, init): majority failure depth, spread over seeds, modal failure mode.

    ``failure_value`` is the median, over the seeds failing that way, of the
    measurement that triggered the failure (see :data:`FAILURE_EVIDENCE`).
    """
    rows = []
    for (activation, init), group in per_seed.groupby(["activation", "init"], sort=True):
        modes = group.loc[group["failure"] != "", "failure"]
        mode = stats.majority(modes)[0] if len(modes) else ""
        rows.append(
            {
                "activation": activation,
                "init": init,
                "failure_depth": majority_depth(group["failure_depth"]),
                "earliest_seed": group["failure_depth"].min(),
                "latest_seed": group["failure_depth"].max(),
                f"seeds_failed_by_{EX1_FROM_DEPTH}": int((group["failure_depth"] <= EX1_FROM_DEPTH).sum()),
                f"seeds_failed_by_{EX1_TO_DEPTH}": int((group["failure_depth"] <= EX1_TO_DEPTH).sum()),
                "seeds": int(group["seed"].nunique()),
                "failure": mode,
                "failure_value": group.loc[group["failure"] == mode, "failure_value"].median() if mode else math.nan,
            }
        )
    summary = pd.DataFrame(rows)
    summary["_order"] = summary["init"].map({n: i for i, n in enumerate(init_order(summary["init"]))})
    return summary.sort_values(["activation", "failure_depth", "_order"]).drop(columns="_order").reset_index(drop=True)


def _first_to_fail(
    per_seed: pd.DataFrame, summary: pd.DataFrame, candidates: list[str], limit: float
) -> tuple[list[str], float, int, int]:
    """Inits among ``candidates`` with the smallest majority failure depth (<= limit), and seed agreement.

    A seed agrees when every named init fails, by ``limit``, no later than any
    other candidate in that seed; for "none fails", when no candidate fails by
    ``limit`` in that seed.
    """
    pool = summary[summary["init"].isin(candidates)]
    depth = pool["failure_depth"].min() if len(pool) else math.inf
    named = init_order(pool.loc[pool["failure_depth"] == depth, "init"]) if depth <= limit else []
    wide = per_seed[per_seed["init"].isin(candidates)].pivot(index="seed", columns="init", values="failure_depth")
    if named:
        first = wide.min(axis=1)
        agree = (wide[named].max(axis=1) <= np.minimum(first, limit)).sum() if len(wide) else 0
    else:
        agree = (wide.min(axis=1) > limit).sum() if len(wide) else 0
    return named, depth, int(agree), int(len(wide))


EX1_QUESTION = "Change the probe network depth from 8 to 20. Which initialization fails first?"
EX1_CRITERION = (
    f"A probe network fails when its last layer shows {criteria_text(PROBE_FAILURES)}. An init's failure "
    "depth is the smallest probed depth by which a strict majority of seeds has failed (each seed: its first "
    "failing depth). A seed agrees when the named init fails no later than any other candidate in that seed."
)


def exercise_1(signal_probe: pd.DataFrame, theory: pd.DataFrame | None = None) -> Answer:
    """ "Change the probe depth from 8 to 20. Which initialization fails first?"

    Answered per activation twice: which init fails first as depth grows at
    all, and — the exercise proper — which of the inits still healthy at
    depth 8 fails first on the way to depth 20.
    """
    if signal_probe.empty:
        return unanswerable(EX1_QUESTION, EX1_CRITERION, "the signal-probe table has no rows")
    per_seed = probe_failure_depths(signal_probe)
    summary = probe_failure_summary(per_seed)
    predicted = predicted_failure_depths(theory)
    parts, verdicts, agreements, facts = [], [], [], {}
    for activation, act_seeds in per_seed.groupby("activation", sort=True):
        act_summary = summary[summary["activation"] == activation]
        sentence, verdict, agreement, fact = _exercise_1_part(activation, act_seeds, act_summary, predicted)
        parts.append(sentence)
        verdicts.append(verdict)
        agreements.append(agreement)
        facts[activation] = fact
    agree, total = min(agreements)
    widths = sorted(signal_probe["width"].unique())
    if len(widths) > 1:  # a width sweep: say which width the answer used (the others: section "Widths")
        used = closest(widths, LESSON_PROBE_WIDTH)
        parts.append(f"(Probe width {used}, the probed width closest to the lesson's {LESSON_PROBE_WIDTH}.)")
    summary_line, headline = _exercise_1_headline(facts, agree, total)
    return Answer(
        question=EX1_QUESTION,
        criterion=EX1_CRITERION,
        verdict=" | ".join(verdicts),
        sentence=" ".join(parts),
        numbers=summary,
        seeds_agreeing=agree,
        seeds_total=total,
        summary=summary_line,
        headline=headline,
    )


def _grouped(pairs: dict[str, tuple[tuple[str, ...], float]]) -> str:
    """'zeros with ReLU (depth 2); zeros and large with Sigmoid and Tanh (depth 2)': activations
    that name the same inits at the same depth share one clause."""
    groups: dict[tuple[tuple[str, ...], float], list[str]] = {}
    for activation, key in pairs.items():
        groups.setdefault(key, []).append(activation)
    return "; ".join(
        f"{_inits(inits)} with {displays(acts)} (depth {depth:g})" for (inits, depth), acts in groups.items()
    )


#: More inits than this failing together are counted, not named, in the headline (the grid names them).
NAMED_AT_MOST = 2


def _inits(inits: tuple[str, ...]) -> str:
    return displays(list(inits)) if len(inits) <= NAMED_AT_MOST else f"{len(inits)} inits"


def _exercise_1_headline(facts: dict[str, dict[str, object]], agree: int, total: int) -> tuple[str, str]:
    """The first-screen sentence and the section's answer (that and the seeds). It leads with the
    exercise proper, the depth effect (the first to fail by depth 20 of the inits healthy at depth
    8), then names the inits that fail first at any depth (most of them already at the shallowest)."""
    first = {a: (tuple(f["named"]), f["depth"]) for a, f in facts.items() if f["named"]}
    none = [a for a, f in facts.items() if not f["named"]]
    clauses = [_grouped(first)] if first else []
    if none:
        clauses.append(f"none fails with {displays(none)}")
    any_depth = "First to fail at any depth: " + "; ".join(clauses) + "."
    deep = {a: (tuple(f["deep"]), f["deep_depth"]) for a, f in facts.items() if f.get("deep")}
    untested = [a for a, f in facts.items() if f.get("untested")]
    calm = [a for a, f in facts.items() if f["named"] and not f.get("deep") and f.get("healthy") and a not in untested]
    second = []
    if deep:
        second.append(_grouped(deep))
    if calm:
        second.append(f"none with {displays(calm)}")
    if untested:
        stops = max(facts[a]["untested"] for a in untested)
        second.append(f"not tested with {displays(untested)} (the probe stops at depth {stops:g})")
    headline = any_depth
    if second:
        headline = (
            f"Of the inits healthy at depth {EX1_FROM_DEPTH}, first to fail by {EX1_TO_DEPTH}: "
            + "; ".join(second)
            + f". {any_depth}"
        )
    return headline, headline + f" {agree}/{total} seeds agree."


def _exercise_1_part(
    activation: str, per_seed: pd.DataFrame, summary: pd.DataFrame, predicted: pd.DataFrame | None = None
) -> tuple[str, str, tuple[int, int], dict[str, object]]:
    """Sentence, verdict, (agreeing, total) seeds for one activation (agreement is the weaker of the
    two claims), and the facts the headline groups across activations."""
    max_depth = per_seed["max_depth"].max()
    named, depth, agree, total = _first_to_fail(per_seed, summary, init_order(summary["init"]), max_depth)
    if not named:
        return (
            f"{display(activation)}: no init fails at any probed depth up to {max_depth:g} ({agree}/{total} seeds).",
            f"{display(activation)}: none",
            (agree, total),
            {"named": [], "depth": depth},
        )
    sentence = (
        f"{display(activation)}: {displays(named)} {verb(named)} first, at depth {depth:g} "
        f"({_failure_detail(summary, named, predicted)}), first in {agree}/{total} seeds."
    )
    healthy = summary.loc[summary["failure_depth"] > EX1_FROM_DEPTH, "init"].tolist()
    if healthy and max_depth < EX1_TO_DEPTH:  # the exercise's depth was not probed: nothing to claim of it
        return (
            sentence + f" The probe stops at depth {max_depth:g}, so which of the {len(healthy)} inits healthy at "
            f"depth {EX1_FROM_DEPTH} fails first by {EX1_TO_DEPTH} is not tested.",
            f"{display(activation)}: {displays(named)} at {depth:g}; depth {EX1_TO_DEPTH} not probed",
            (agree, total),
            {"named": named, "depth": depth, "healthy": healthy, "untested": max_depth},
        )
    if not healthy:
        return (
            sentence + f" Every init already fails by depth {EX1_FROM_DEPTH}.",
            f"{display(activation)}: {displays(named)} at {depth:g}",
            (agree, total),
            {"named": named, "depth": depth, "healthy": []},
        )
    deep, deep_depth, deep_agree, _ = _first_to_fail(per_seed, summary, healthy, EX1_TO_DEPTH)
    if deep:
        sentence += (
            f" Of the inits still healthy at depth {EX1_FROM_DEPTH}, {displays(deep)} {verb(deep)} first on the "
            f"way to {EX1_TO_DEPTH}, at depth {deep_depth:g} ({_failure_detail(summary, deep, predicted)}), "
            f"first in {deep_agree}/{total} seeds."
        )
        verdict = (
            f"{display(activation)}: {displays(named)} at {depth:g}; of those healthy at {EX1_FROM_DEPTH}, "
            f"{displays(deep)} at {deep_depth:g}"
        )
    else:
        sentence += (
            f" None of the {len(healthy)} inits still healthy at depth {EX1_FROM_DEPTH} fails by depth "
            f"{EX1_TO_DEPTH} in a majority of seeds ({deep_agree}/{total} seeds without any such failure)."
        )
        verdict = f"{display(activation)}: {displays(named)} at {depth:g}; none more by depth {EX1_TO_DEPTH}"
    fact = {"named": named, "depth": depth, "healthy": healthy, "deep": deep, "deep_depth": deep_depth}
    return sentence, verdict, (min(agree, deep_agree), total), fact


def _failure_detail(summary: pd.DataFrame, inits: list[str], predicted: pd.DataFrame | None = None) -> str:
    """'init: mode, evidence' for each named init, e.g. 'tiny: vanished, last-layer std 1e-06', followed
    by theory's prediction for it where there is a theory table ('theory: fails at depth 2 (vanished)')."""
    rows = summary.set_index("init").loc[inits]
    parts = []
    for init, row in rows.iterrows():
        text = f"{display(init)}: {row['failure']}, {FAILURE_EVIDENCE[row['failure']][1].format(row['failure_value'])}"
        cite = theory_citation(predicted, row["activation"], init) if predicted is not None else ""
        parts.append(f"{text}, {cite}" if cite else text)
    return "; ".join(parts)
