"""Next Probe: deeper MoonMLP — which init becomes fragile?"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from initlab.report.answers.criteria import Answer, unanswerable
from initlab.report.answers.runs import LESSON_ACTIVATION, LESSON_OPTIMIZER, select_runs, with_run_failure
from initlab.report.answers.tables import init_order
from initlab.report.answers.text import capitalised, display, displays, verb

NEXT_QUESTION = "Make the network deeper and compare which strategy becomes fragile."
NEXT_CRITERION = (
    f"Runs of the lesson's net ({display(LESSON_ACTIVATION)}, {display(LESSON_OPTIMIZER)}) at every trained depth, "
    "judged by the "
    "run-failure criterion. An init becomes fragile at the smallest depth "
    "where it fails in a strict majority of seeds; inits already failing that way at the shallowest depth are "
    "bad starts, not depth effects, and are excluded. Rise = failure rate at the deepest minus the shallowest depth."
)


def depth_failure_rates(training: pd.DataFrame) -> pd.DataFrame:
    """Per (init, depth) of the lesson's net: failures, seeds and failure rate."""
    rows = with_run_failure(select_runs(training, LESSON_ACTIVATION, LESSON_OPTIMIZER, all_depths=True))
    grouped = rows.groupby(["init", "depth"], sort=True)
    table = grouped.agg(failures=("failed", "sum"), seeds=("seed", "nunique")).reset_index()
    table["failure_rate"] = table["failures"] / table["seeds"]
    return table


def next_probe(training: pd.DataFrame) -> Answer:
    """The lesson's Next Probe: which init's failure rate rises with depth, first failing in most seeds."""
    rates = depth_failure_rates(training)
    if rates.empty:
        missing = f"the training table has no {LESSON_ACTIVATION}/{LESSON_OPTIMIZER} runs"
        return unanswerable(NEXT_QUESTION, NEXT_CRITERION, missing)
    depths = sorted(rates["depth"].unique())
    if len(depths) < 2:  # one depth: nothing to compare across depths
        return unanswerable(
            NEXT_QUESTION, NEXT_CRITERION, f"the training table has one depth ({depths[0]:g}); it needs two or more"
        )
    majority_fail = rates[rates["failures"] > rates["seeds"] / 2]
    first_fail = majority_fail.groupby("init")["depth"].min()
    wide = rates.pivot(index="init", columns="depth", values="failure_rate")
    numbers = pd.DataFrame({"init": init_order(wide.index)}).set_index("init")
    for depth in depths:
        numbers[f"fail_rate_depth_{depth:g}"] = wide[depth]
    numbers["fragile_from_depth"] = first_fail.reindex(numbers.index).astype(float).fillna(math.inf)
    numbers["rise"] = wide[depths[-1]] - wide[depths[0]]
    numbers = numbers.reset_index()
    candidates = numbers[numbers["fragile_from_depth"] > depths[0]]
    span = f"depths {depths[0]:g}–{depths[-1]:g}"
    if len(candidates) and np.isfinite(candidates["fragile_from_depth"].min()):
        depth = candidates["fragile_from_depth"].min()
        named = init_order(candidates.loc[candidates["fragile_from_depth"] == depth, "init"])
        at_depth = rates[(rates["depth"] == depth) & rates["init"].isin(named)]
        agree, total = int(at_depth["failures"].min()), int(at_depth["seeds"].min())
        rise = numbers.set_index("init").loc[named, "rise"]
        sentence = (
            f"{capitalised(displays(named))} {verb(named, 'becomes', 'become')} fragile first: "
            f"trains at depth {depths[0]:g} but fails "
            f"in a majority of seeds from depth {depth:g} ({agree}/{total} seeds there); failure rate rises by "
            f"{', '.join(f'{v:+.0%}' for v in rise)} over {span}."
        )
        verdict = f"{displays(named)} (from depth {depth:g})"
        summary = (
            f"{capitalised(displays(named))} {verb(named, 'becomes', 'become')} fragile first: "
            f"{verb(named, 'it trains', 'they train')} at depth {depths[0]:g} but {verb(named)} in most seeds "
            f"from depth {depth:g}."
        )
        headline = summary + f" {agree}/{total} seeds fail there."
    else:
        riser = candidates.sort_values("rise", ascending=False).iloc[0] if len(candidates) else None
        total = int(rates["seeds"].min())
        if riser is not None and riser["rise"] > 0:
            worst = rates[(rates["init"] == riser["init"]) & (rates["depth"] == depths[-1])]
            agree = int(worst["failures"].iloc[0])
            sentence = (
                f"No init that trains at depth {depths[0]:g} fails in a majority of seeds up to depth {depths[-1]:g}; "
                f"the largest rise in failure rate is {display(riser['init'])} ({riser['rise']:+.0%}, failing in "
                f"{agree}/{total} seeds at depth {depths[-1]:g})."
            )
            verdict = f"none in a majority; {display(riser['init'])} rises most"
            summary = (
                f"No init that trains at depth {depths[0]:g} fails in most seeds up to depth {depths[-1]:g}; "
                f"{display(riser['init'])}'s failure rate rises most ({riser['rise']:+.0%})."
            )
            headline = summary + f" It fails in {agree}/{total} seeds at depth {depths[-1]:g}."
        else:
            agree = total
            sentence = f"No init that trains at depth {depths[0]:g} becomes more likely to fail over {span}."
            verdict = "none"
            summary = headline = sentence
    return Answer(
        question=NEXT_QUESTION,
        criterion=NEXT_CRITERION,
        verdict=verdict,
        sentence=sentence,
        numbers=numbers,
        seeds_agreeing=agree,
        seeds_total=total,
        summary=summary,
        headline=headline,
    )
