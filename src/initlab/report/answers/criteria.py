"""Answer records and named criteria: the shapes every answer shares."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from initlab.report.stats import METHODS as STATISTICAL_METHODS  # noqa: F401 (methods, measured coverage)


@dataclass(frozen=True)
class Answer:
    """A computed answer to one of the lesson's questions.

    ``seeds_agreeing``/``seeds_total`` count the seeds in which the verdict's
    claim holds on its own; where an answer has several parts (one per
    activation), it is the least-agreed part, so the count never overstates.
    """

    question: str
    criterion: str
    verdict: str
    sentence: str
    numbers: pd.DataFrame
    seeds_agreeing: int
    seeds_total: int
    #: The answer in one plain sentence, with the names a reader writes (the first screen's line).
    summary: str = ""
    #: What the section says first: ``summary`` and at most two more sentences (<= 60 words).
    headline: str = ""


@dataclass(frozen=True)
class Criterion:
    """A named test on table rows: ``test`` is True where a row fails (failure registries) or earns the label."""

    name: str
    description: str
    test: Callable[[pd.DataFrame], pd.Series]


def first_match(df: pd.DataFrame, criteria: Mapping[str, Criterion]) -> pd.Series:
    """Name of the first criterion whose test is True for each row ('' if none).

    Registry order is priority order: a NaN network is reported as
    non-finite rather than as exploded, a diverged run with a huge start
    loss as a Bad Start rather than a Warning Start. A test that cannot be
    evaluated (NaN) counts as True: missing evidence is not health.
    """
    mode = pd.Series("", index=df.index, dtype=object)
    for criterion in reversed(list(criteria.values())):
        mode = mode.mask(criterion.test(df).fillna(True).astype(bool), criterion.name)
    return mode


def criteria_text(criteria: Mapping[str, Criterion]) -> str:
    return "; ".join(f"{c.name}: {c.description}" for c in criteria.values())


def unanswerable(question: str, criterion: str, missing: str) -> Answer:
    """An answer that says which rows the tables lack instead of crashing the report."""
    return Answer(
        question=question,
        criterion=criterion,
        verdict="not answerable from these tables",
        sentence=f"Not answerable: {missing}.",
        numbers=pd.DataFrame(),
        seeds_agreeing=0,
        seeds_total=0,
        summary=f"Not answerable: {missing}.",
        headline=f"Not answerable: {missing}.",
    )
