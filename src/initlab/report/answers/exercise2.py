"""Exercise 2: Tanh instead of ReLU — is Xavier more competitive?"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from initlab.report import stats
from initlab.report.answers.criteria import Answer, unanswerable
from initlab.report.answers.runs import LESSON_DEPTH, LESSON_OPTIMIZER, select_runs
from initlab.report.answers.tables import closest, init_order, same_inputs_once
from initlab.report.answers.text import display, displays, sig

#: The subjects of the question (not its answer): Xavier, judged under Tanh
#: against ReLU, with He as the lesson's ReLU-side rival.
EX2_INIT = "xavier"
EX2_RIVAL = "he"
EX2_BASELINE = "relu"
EX2_CHANGED = "tanh"
#: Column stem of P(Xavier beats He) in the numbers table.
P_RIVAL = f"p_{EX2_INIT}_beats_{EX2_RIVAL}"

EX2_QUESTION = "Replace ReLU with Tanh in MoonMLP. Does Xavier become more competitive?"
EX2_CRITERION = (
    f"Per seed, {display(EX2_INIT)}'s distance from the best init is log(end loss of {display(EX2_INIT)} / lowest "
    "end loss of any init) "
    "(a non-finite end loss counts as worst). Xavier becomes more competitive when that distance is smaller "
    f"with {display(EX2_CHANGED)} than with {display(EX2_BASELINE)} in a strict majority of seeds (paired by seed), "
    f"with {display(LESSON_OPTIMIZER)} at the lesson's net. Also shown: rank by mean end loss and the share of seeds "
    f"where {display(EX2_INIT)} beats {display(EX2_RIVAL)}."
)


def xavier_gaps(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (depth, activation, seed): Xavier's end loss, the seed's best init and the log gap to it."""
    columns = ["depth", "activation", "seed", "xavier_end_loss", "best_init", "log_gap", "rank"]
    keys = ["depth", "activation", "seed"]
    scored = rows.assign(score=stats.as_worst_if_nonfinite(rows["end_loss"]))
    # One pass over all (depth, activation, seed) groups, not a loop over them: at 100 seeds the
    # loop took seconds of the report and of the figures.
    scored["best"] = scored.groupby(keys, sort=False)["score"].transform("min")
    mine = scored[scored["init"] == EX2_INIT].drop_duplicates(keys, keep="first")
    if mine.empty:
        return pd.DataFrame(columns=columns)
    mine = mine.sort_values(keys, kind="stable")
    mine_score = mine.set_index(keys)["score"]
    beaten_by = scored.join(mine_score.rename("mine"), on=keys, how="inner")
    rank = beaten_by.assign(_below=beaten_by["score"] < beaten_by["mine"]).groupby(keys)["_below"].sum() + 1
    order = {name: i for i, name in enumerate(init_order(scored["init"]))}
    winners = scored[scored["score"] == scored["best"]]
    best_init = (
        winners.assign(_order=winners["init"].map(order))
        .sort_values("_order", kind="stable")
        .groupby(keys)["init"]
        .agg(lambda names: "+".join(dict.fromkeys(names)))
    )
    best, value = mine["best"].to_numpy(dtype=float), mine["score"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(np.isfinite(best) & (best > 0), np.log(value / np.where(best > 0, best, 1.0)), np.nan)
    index = pd.MultiIndex.from_frame(mine[keys])
    return pd.DataFrame(
        {
            "depth": mine["depth"].to_numpy(),
            "activation": mine["activation"].to_numpy(),
            "seed": mine["seed"].to_numpy(),
            "xavier_end_loss": value,
            "best_init": best_init.reindex(index).to_numpy(),
            "log_gap": gap,
            "rank": rank.reindex(index).to_numpy().astype(int),
        },
        columns=columns,
    )


def _standing(rows: pd.DataFrame) -> dict[str, float | str]:
    """Xavier's rank by mean end loss, gap to the best mean, and P(Xavier beats He)."""
    means = rows.assign(score=stats.as_worst_if_nonfinite(rows["end_loss"])).groupby("init")["score"].mean()
    best = means.min()
    beats = stats.beat_probability(rows, ["depth"], "end_loss")
    pair = beats[(beats["a"] == EX2_INIT) & (beats["b"] == EX2_RIVAL)]
    return {
        "rank": int((means < means.get(EX2_INIT, math.inf)).sum()) + 1,
        "inits": int(len(means)),
        "mean_ratio": float(means.get(EX2_INIT, math.nan) / best) if best > 0 else math.nan,
        "best": "+".join(init_order(means[means == best].index)),
        "p_beats_rival": float(pair["p_a_beats_b"].iloc[0]) if len(pair) else math.nan,
    }


@same_inputs_once
def exercise_2(training: pd.DataFrame) -> Answer:
    """ "Replace ReLU with Tanh in MoonMLP. Does Xavier become more competitive?\""""
    both = pd.concat(
        [select_runs(training, act, LESSON_OPTIMIZER, all_depths=True) for act in (EX2_BASELINE, EX2_CHANGED)]
    )
    if both.empty or EX2_INIT not in set(both["init"]) or both["activation"].nunique() < 2:
        missing = f"the training table has no {EX2_INIT} runs under both {EX2_BASELINE} and {EX2_CHANGED}"
        return unanswerable(EX2_QUESTION, EX2_CRITERION, missing)
    gaps = (
        xavier_gaps(both)
        .pivot_table(index=["depth", "seed"], columns="activation", values="log_gap")
        .reindex(columns=[EX2_BASELINE, EX2_CHANGED])
    )
    rows, closer = [], {}
    for depth, per_depth in both.groupby("depth", sort=True):
        standings = {act: _standing(per_depth[per_depth["activation"] == act]) for act in (EX2_BASELINE, EX2_CHANGED)}
        paired = gaps.loc[depth].dropna() if depth in gaps.index.get_level_values(0) else pd.DataFrame()
        n_closer = int((paired[EX2_CHANGED] < paired[EX2_BASELINE]).sum()) if len(paired) else 0
        closer[depth] = (n_closer, int(len(paired)))
        row = {"depth": depth}
        for act, s in standings.items():
            row[f"rank_{act}"] = f"{s['rank']}/{s['inits']}"
            row[f"mean_end_loss_vs_best_{act}"] = s["mean_ratio"]
            row[f"median_seed_gap_{act}"] = float(np.exp(paired[act].median())) if len(paired) else math.nan
            row[f"{P_RIVAL}_{act}"] = s["p_beats_rival"]
            row[f"best_{act}"] = s["best"]
        row[f"seeds_closer_under_{EX2_CHANGED}"] = n_closer
        row["seeds"] = int(len(paired))
        rows.append(row)
    numbers = pd.DataFrame(rows)
    lesson_depth = closest(numbers["depth"], LESSON_DEPTH)
    head = numbers[numbers["depth"] == lesson_depth].iloc[0]
    n_closer, n_seeds = closer[lesson_depth]
    more = n_closer > n_seeds / 2
    other = {d: c for d, c in closer.items() if d != lesson_depth}
    holds_elsewhere = sum(1 for k, n in other.values() if (k > n / 2) == more)
    changed, baseline, mine, rival = (display(x) for x in (EX2_CHANGED, EX2_BASELINE, EX2_INIT, EX2_RIVAL))
    sentence = (
        f"{'Yes' if more else 'No'}: with {display(LESSON_OPTIMIZER)} at depth {lesson_depth:g} (the lesson's net), "
        f"{mine}'s median end loss is {sig(head[f'median_seed_gap_{EX2_BASELINE}'])}× the per-seed best init's "
        f"with {baseline} and {sig(head[f'median_seed_gap_{EX2_CHANGED}'])}× with {changed}; it is closer to the best "
        f"with {changed} in {n_closer}/{n_seeds} seeds. Rank by mean end loss: {head[f'rank_{EX2_BASELINE}']} "
        f"with {baseline}, {head[f'rank_{EX2_CHANGED}']} with {changed}; share of seeds where {mine} beats {rival}: "
        f"{_pct(head[f'{P_RIVAL}_{EX2_BASELINE}'])} → {_pct(head[f'{P_RIVAL}_{EX2_CHANGED}'])}."
    )
    if other:
        sentence += (
            f" The same verdict holds at {holds_elsewhere} of the {len(other)} other depths ({_depth_list(other)})."
        )
    agreeing = n_closer if more else n_seeds - n_closer
    summary = (
        f"{'Yes' if more else 'No'}: with {changed}, {mine} ends {'closer to' if more else 'no closer to'} the "
        f"best init than with {baseline} in {agreeing}/{n_seeds} seeds "
        f"(median end loss {sig(head[f'median_seed_gap_{EX2_CHANGED}'])}× the best init's, "
        f"against {sig(head[f'median_seed_gap_{EX2_BASELINE}'])}×; best: "
        f"{displays(str(head[f'best_{EX2_CHANGED}']).split('+'))})."
    )
    headline = summary + (
        f" {mine} beats {rival} in {_pct(head[f'{P_RIVAL}_{EX2_BASELINE}'])} of seeds with {baseline}, "
        f"{_pct(head[f'{P_RIVAL}_{EX2_CHANGED}'])} with {changed}."
    )
    return Answer(
        question=EX2_QUESTION,
        criterion=EX2_CRITERION,
        verdict="yes" if more else "no",
        sentence=sentence,
        numbers=numbers,
        seeds_agreeing=agreeing,
        seeds_total=n_seeds,
        summary=summary,
        headline=headline,
    )


def with_cause(answer: Answer, cause: str) -> Answer:
    """The answer whose headline gives the measured cause (the ablation's sentence, see
    :func:`initlab.report.answers.findings.exercise2_cause`) in place of the seed-count sentence,
    when Xavier does not become more competitive and a cause was measured."""
    if answer.verdict != "no" or not cause:
        return answer
    return replace(answer, headline=f"{answer.summary} {cause}")


def _depth_list(depths: Iterable[float]) -> str:
    return ", ".join(f"{d:g}" for d in sorted(depths))


def _pct(value: float) -> str:
    """A probability as a share of seeds ('n/a' when there is no pair)."""
    return "n/a" if pd.isna(value) else f"{value:.0%}"
