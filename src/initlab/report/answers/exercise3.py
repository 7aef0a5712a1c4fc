"""Exercise 3: SGD lr=0.1 instead of Adam — which init becomes fragile?"""

from __future__ import annotations

import math

import pandas as pd

from initlab.report import stats
from initlab.report.answers.criteria import Answer, unanswerable
from initlab.report.answers.runs import (
    LESSON_ACTIVATION,
    cell_text,
    failure_counts,
    select_runs,
    with_run_failure,
)
from initlab.report.answers.tables import init_order
from initlab.report.answers.text import capitalised, display, displays, sig, verb

EX3_BASELINE = "adam"
EX3_CHANGED = "sgd"
EX3_QUESTION = "Change Adam to SGD with lr=0.1. Which initialization becomes more fragile?"
EX3_CRITERION = (
    "A run fails by the run-failure criterion. Fragility of an init = its failure rate with "
    f"{display(EX3_CHANGED)} minus with {display(EX3_BASELINE)} (lesson's net, every activation shown; the verdict "
    f"uses {display(LESSON_ACTIVATION)}); ties broken by the ratio of median end losses. A seed agrees when the "
    f"named init fails with {display(EX3_CHANGED)} but not with {display(EX3_BASELINE)} with that seed."
)


def fragility(training: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, init) at the lesson's net: failure rates and end losses, Adam vs SGD, paired by seed."""
    rows = []
    for activation in sorted(training["activation"].unique()):
        base = with_run_failure(select_runs(training, activation, EX3_BASELINE))
        changed = with_run_failure(select_runs(training, activation, EX3_CHANGED))
        if base.empty or changed.empty:
            continue
        for init in init_order(set(base["init"]) & set(changed["init"])):
            b = base[base["init"] == init].set_index("seed")
            c = changed[changed["init"] == init].set_index("seed")
            seeds = b.index.intersection(c.index)
            b_end = stats.as_worst_if_nonfinite(b["end_loss"]).median()
            c_end = stats.as_worst_if_nonfinite(c["end_loss"]).median()
            rows.append(
                {
                    "activation": activation,
                    "init": init,
                    f"fail_rate_{EX3_BASELINE}": b["failed"].mean(),
                    f"fail_rate_{EX3_CHANGED}": c["failed"].mean(),
                    "fail_rate_increase": c["failed"].mean() - b["failed"].mean(),
                    f"median_end_loss_{EX3_BASELINE}": b_end,
                    f"median_end_loss_{EX3_CHANGED}": c_end,
                    "end_loss_ratio": c_end / b_end if b_end > 0 else math.nan,
                    "seeds_newly_failing": int((c.loc[seeds, "failed"] & ~b.loc[seeds, "failed"]).sum()),
                    "seeds_worse_end_loss": int(
                        (
                            stats.as_worst_if_nonfinite(c.loc[seeds, "end_loss"])
                            > stats.as_worst_if_nonfinite(b.loc[seeds, "end_loss"])
                        ).sum()
                    ),
                    "seeds": int(len(seeds)),
                    f"{EX3_CHANGED}_failures": failure_counts(c["failure"]),
                }
            )
    return pd.DataFrame(rows)


def exercise_3(training: pd.DataFrame) -> Answer:
    """ "Change Adam to SGD with lr=0.1. Which initialization becomes more fragile?\""""
    numbers = fragility(training)
    if numbers.empty or LESSON_ACTIVATION not in set(numbers["activation"]):
        missing = f"the training table has no {LESSON_ACTIVATION} runs under both {EX3_BASELINE} and {EX3_CHANGED}"
        return unanswerable(EX3_QUESTION, EX3_CRITERION, missing)
    lesson = numbers[numbers["activation"] == LESSON_ACTIVATION]
    top = lesson["fail_rate_increase"].max()
    cell = cell_text(select_runs(training, LESSON_ACTIVATION, EX3_CHANGED))
    if top > 0:
        named_rows = lesson[lesson["fail_rate_increase"] == top].sort_values("end_loss_ratio", ascending=False)
        named = named_rows["init"].tolist()
        agree = int(named_rows["seeds_newly_failing"].min())
        detail = "; ".join(
            f"{display(r.init)}: failure rate {r[f'fail_rate_{EX3_BASELINE}']:.0%} → "
            f"{r[f'fail_rate_{EX3_CHANGED}']:.0%} "
            f"({r[f'{EX3_CHANGED}_failures']}), median end loss ×{r.end_loss_ratio:.3g}"
            for _, r in named_rows.iterrows()
        )
        sentence = (
            f"{capitalised(displays(named))} {verb(named, 'becomes', 'become')} most fragile with "
            f"{display(EX3_CHANGED)} ({cell}): {detail}; "
            f"newly failing in {agree}/{int(named_rows['seeds'].min())} seeds."
        )
        verdict = displays(named)
        first = named_rows.iloc[0]
        summary = (
            f"{capitalised(displays(named))} {verb(named, 'becomes', 'become')} most fragile: with "
            f"{display(EX3_CHANGED)} it fails in {first[f'fail_rate_{EX3_CHANGED}']:.0%} of seeds "
            f"({first[f'{EX3_CHANGED}_failures']}), against "
            f"{first[f'fail_rate_{EX3_BASELINE}']:.0%} with {display(EX3_BASELINE)}."
        )
        headline = summary + (
            f" It fails with {display(EX3_CHANGED)} but not with {display(EX3_BASELINE)} in {agree} of "
            f"{int(named_rows['seeds'].min())} seeds."
        )
    else:
        worst = lesson.sort_values("end_loss_ratio", ascending=False).iloc[0]
        named = [worst["init"]]
        agree = int(worst["seeds_worse_end_loss"])
        sentence = (
            f"No init fails more often with {display(EX3_CHANGED)} than with {display(EX3_BASELINE)} ({cell}); by "
            f"median end loss {display(worst['init'])} degrades most (×{worst['end_loss_ratio']:.3g}), "
            f"worse in {agree}/{int(worst['seeds'])} seeds."
        )
        verdict = f"none by failure rate; {display(worst['init'])} by end loss"
        summary = (
            f"No init fails more often with {display(EX3_CHANGED)} than with {display(EX3_BASELINE)}; "
            f"{display(worst['init'])} degrades most (median end loss ×{sig(worst['end_loss_ratio'])})."
        )
        headline = summary + f" Worse in {agree}/{int(worst['seeds'])} seeds."
    return Answer(
        question=EX3_QUESTION,
        criterion=EX3_CRITERION,
        verdict=verdict,
        sentence=sentence,
        numbers=numbers,
        seeds_agreeing=agree,
        seeds_total=int(lesson.loc[lesson["init"].isin(named), "seeds"].min()),
        summary=summary,
        headline=headline,
    )
