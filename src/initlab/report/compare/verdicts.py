"""The conclusions compared: every answer, the evidence labels, the lesson reproduction.

:data:`VERDICTS` is a registry: each entry turns one side's tables into verdicts (a
stable key, the question, the verdict text, how many seeds agree). A new kind of
conclusion joins the comparison with one line there, e.g. the lesson's claims checked::

    "claims": lambda t: [Verdict(f"claim/{c.key}", c.claim, c.verdict, c.seeds_agreeing, c.seeds_total) ...],

Answers registered in :data:`initlab.report.answers.ANSWERS` join automatically.

Where the two sides ran different seeds, a verdict is a majority over seeds, so it can
change by chance. :func:`compare_verdicts` says how likely that is from the seeds'
agreement counts (see :func:`flip_chance` and :func:`support_p_value`), instead of a
bare "changed".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scipy import stats as scipy_stats

from initlab.report import answers
from initlab.report.answers.claims import check_claims
from initlab.report.answers.tables import Tables

#: A changed verdict whose seeds' support differs with Fisher p below this is more than
#: seed noise: the per-seed support itself moved (the conventional 5 % level).
SUPPORT_ALPHA = 0.05


@dataclass(frozen=True)
class Verdict:
    """One conclusion of one result set. ``seeds_total`` 0: the verdict does not depend on seeds."""

    key: str
    question: str
    verdict: str
    seeds_agreeing: int
    seeds_total: int


def answer_verdicts(tables: Tables) -> list[Verdict]:
    """Every exercise answer and the Next Probe (the report's :data:`answers.ANSWERS`)."""
    out = []
    for key, compute in answers.ANSWERS.items():
        answer = compute(tables)
        out.append(Verdict(key, answer.question, answer.verdict, answer.seeds_agreeing, answer.seeds_total))
    return out


def evidence_verdicts(tables: Tables) -> list[Verdict]:
    """The lesson's record: each init's majority label (Bad / Warning / Usable Start) in the lesson's cell."""
    evidence = answers.evidence_to_keep(tables.training)
    return [
        Verdict(
            f"evidence/{row.init}", f"Evidence label of {row.init}", row.label, int(row.seeds_agreeing), int(row.seeds)
        )
        for row in evidence.numbers.itertuples()
    ]


def lesson_verdict(tables: Tables) -> list[Verdict]:
    """Which of the lesson's printed values this run reproduces (seed-free: the labs' own seeds)."""
    table = answers.lab_reproduction(tables.lab_reproduction).table
    off = table.loc[~table["matches"]]
    verdict = (
        "all match" if off.empty else "mismatch: " + ", ".join(f"{r.lab} {r.row} {r.metric}" for r in off.itertuples())
    )
    return [
        Verdict("lesson-reproduced", "Which printed values of the lesson does the replay reproduce?", verdict, 0, 0)
    ]


def claim_verdicts(tables: Tables) -> list[Verdict]:
    """The lesson's claims checked (:mod:`initlab.report.answers.claims`): holds / fails / untested."""
    return [
        Verdict(f"claim/{c.claim.key}", c.claim.paraphrase, c.verdict, c.seeds_agreeing, c.seeds_total)
        for c in check_claims(tables)
    ]


#: Kind of conclusion -> its verdicts from one side's tables. Order is display order.
VERDICTS: dict[str, Callable[[Tables], list[Verdict]]] = {
    "lesson": lesson_verdict,
    "answers": answer_verdicts,
    "claims": claim_verdicts,
    "evidence": evidence_verdicts,
}


@dataclass(frozen=True)
class VerdictComparison:
    """A's and B's verdict on one question, and what the seeds say about a difference.

    ``status`` is 'same', 'changed', 'only in A' or 'only in B'. ``flip_chance`` is the
    probability that two independent seed sets of these sizes name different verdicts,
    at the pooled per-seed support (NaN where the seeds are the same or the verdict does
    not depend on seeds). ``support_p`` is Fisher's exact p that A's and B's seeds
    support A's verdict equally often (NaN where it does not apply).
    """

    kind: str
    key: str
    question: str
    a: Verdict | None
    b: Verdict | None
    status: str
    flip_chance: float
    support_p: float
    note: str

    @property
    def changed(self) -> bool:
        return self.status != "same"


def _support_for_a(a: Verdict, b: Verdict) -> tuple[int, int, int, int]:
    """(seeds for A's verdict in A, in A, seeds for A's verdict in B, in B).

    A seed either supports a verdict or not: where B names another verdict, B's
    non-agreeing seeds are counted as A's support (an upper bound when a question has
    more than two possible verdicts).
    """
    k_b = b.seeds_agreeing if b.verdict == a.verdict else b.seeds_total - b.seeds_agreeing
    return a.seeds_agreeing, a.seeds_total, k_b, b.seeds_total


def flip_chance(k_a: int, n_a: int, k_b: int, n_b: int) -> float:
    """P(two independent seed sets of n_a and n_b seeds name different verdicts).

    Each seed supports the verdict independently with the pooled rate
    p = (k_a + k_b) / (n_a + n_b); a set names it when more than half its seeds do.
    """
    if n_a == 0 or n_b == 0:
        return math.nan
    p = (k_a + k_b) / (n_a + n_b)
    q_a = float(scipy_stats.binom.sf(n_a // 2, n_a, p))
    q_b = float(scipy_stats.binom.sf(n_b // 2, n_b, p))
    return q_a * (1 - q_b) + (1 - q_a) * q_b


def support_p_value(k_a: int, n_a: int, k_b: int, n_b: int) -> float:
    """Fisher's exact test: do A's and B's seeds support the verdict at the same rate?"""
    if n_a == 0 or n_b == 0:
        return math.nan
    return float(scipy_stats.fisher_exact([[k_a, n_a - k_a], [k_b, n_b - k_b]]).pvalue)


def compare_one(kind: str, a: Verdict | None, b: Verdict | None, same_seeds: bool) -> VerdictComparison:
    """A's and B's verdict on one question, with the chance of a difference where the seeds differ."""
    head = a or b
    assert head is not None
    if a is None or b is None:
        status = "only in B" if a is None else "only in A"
        return VerdictComparison(
            kind, head.key, head.question, a, b, status, math.nan, math.nan, "the other side has no such conclusion"
        )
    status = "same" if a.verdict == b.verdict else "changed"
    if same_seeds or not (a.seeds_total and b.seeds_total):
        why = "the same seeds" if same_seeds else "it does not depend on seeds"
        note = f"changed on {why}: the numbers moved" if status == "changed" else ""
        return VerdictComparison(kind, a.key, a.question, a, b, status, math.nan, math.nan, note)
    counts = _support_for_a(a, b)
    chance, p = flip_chance(*counts), support_p_value(*counts)
    if status == "same":
        note = ""  # the flip chance says it
    elif p < SUPPORT_ALPHA:
        note = (
            f"the seeds' support moved (Fisher p = {p:.2g}): more than seed noise; "
            f"at the pooled support two such seed sets disagree with probability {chance:.2g}"
        )
    else:
        note = (
            f"within seed noise (Fisher p = {p:.2g}): at the pooled support two such seed sets "
            f"disagree with probability {chance:.2g}"
        )
    return VerdictComparison(kind, a.key, a.question, a, b, status, chance, p, note)


def compare_verdicts(
    tables_a: Tables, tables_b: Tables, same_seeds: bool, identical: bool = False
) -> list[VerdictComparison]:
    """Every registered verdict of A against B's, matched by key (computed once when the tables are identical)."""
    out = []
    for kind, compute in VERDICTS.items():
        va = {v.key: v for v in compute(tables_a)}
        vb = va if identical else {v.key: v for v in compute(tables_b)}
        for key in [*va, *(k for k in vb if k not in va)]:
            out.append(compare_one(kind, va.get(key), vb.get(key), same_seeds))
    return out
