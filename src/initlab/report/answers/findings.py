"""The report's first screen: every exercise's answer, then every lesson claim that does not hold
here with its measured cause, each a plain sentence computed from the answers and claim checks.

A cause comes from the layer-swap ablation where one is configured (the layer carrying the gap
and the weight-scale ratio there, read from ``ablation.csv`` by :mod:`.ablation`), otherwise
from what the failing cells' seeds showed (the probe's failure mode, say).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from initlab.report.answers.ablation import CARRIES_SHARE, AblationResult, ablation_answer, find_ablation
from initlab.report.answers.claims import DOES_NOT_HOLD, IN_PART, ClaimCheck, agreement_text, exercise2_pair
from initlab.report.answers.criteria import Answer
from initlab.report.answers.exercise2 import EX2_INIT, EX2_RIVAL
from initlab.report.answers.models import ModelResult
from initlab.report.answers.tables import Tables
from initlab.report.answers.text import display, sig


@dataclass(frozen=True)
class Finding:
    """One line of the first screen: what it is about, the sentence, and the anchor of its evidence."""

    label: str
    sentence: str
    link: str
    departure: bool  # a place where the data departs from the lesson


def layer_name(layer: int, depth: int) -> str:
    return "the output layer" if layer == depth + 1 else f"hidden layer {layer}"


def ablation_cause(result: AblationResult) -> str:
    """'With Tanh, hidden layer 1 (2 inputs → 64 units) carries 93% of the Xavier–He gap; there
    Xavier draws weights 5.74× smaller than He.' — the layer with the largest share."""
    numbers = result.numbers
    if numbers.empty:
        return ""
    top = numbers.sort_values("share_of_gap", ascending=False).iloc[0]
    a, b = display(result.cell["init_a"]), display(result.cell["init_b"])
    ratio = float(top["std_ratio_b_over_a"])
    small, big, factor = (a, b, ratio) if ratio >= 1 else (b, a, 1 / ratio)
    carries = "carries" if int(top["layer"]) in result.carriers else "carries the largest share,"
    return (
        f"With {display(result.cell['activation'])}, {layer_name(int(top['layer']), int(result.cell['depth']))} "
        f"({int(top['fan_in'])} inputs → {int(top['fan_out'])} units) {carries} {top['share_of_gap']:.0%} of the "
        f"{a}–{b} gap; there {small} draws weights {sig(factor)}× smaller than {big}."
    )


def plain_layer_name(layer: int, depth: int) -> str:
    """'the first layer', 'the output layer', else 'hidden layer 3'."""
    return "the first layer" if layer == 1 else layer_name(layer, depth)


def exercise2_cause(tables: Tables) -> str:
    """Exercise 2's cause in plain words, from its layer-swap ablation: 'The cause is the first layer:
    with only 2 inputs, Xavier draws weights 5.74× smaller than He there; taking just that layer from
    He closes 93% of the gap.' Empty without that ablation. 'The cause is' only for a layer that
    carries the gap (:data:`CARRIES_SHARE`); otherwise the largest share is named as such."""
    pair = exercise2_pair(tables, "")
    found = find_ablation(tables.ablation, pair, EX2_INIT, EX2_RIVAL) if pair is not None else None
    if found is None or found.empty:
        return ""
    result = ablation_answer(found)
    if result.numbers.empty:
        return ""
    top = result.numbers.sort_values("share_of_gap", ascending=False).iloc[0]
    a, b = display(result.cell["init_a"]), display(result.cell["init_b"])
    ratio = float(top["std_ratio_b_over_a"])
    small, big, factor = (a, b, ratio) if ratio >= 1 else (b, a, 1 / ratio)
    fan_in, fan_out, share = int(top["fan_in"]), int(top["fan_out"]), float(top["share_of_gap"])
    where = plain_layer_name(int(top["layer"]), int(result.cell["depth"]))
    lead = f"The cause is {where}" if share >= CARRIES_SHARE else f"The largest part of the gap is in {where}"
    closes = f"closes all of the gap ({share:.0%})" if share >= 1 else f"closes {share:.0%} of the gap"
    return (
        f"{lead}: with {'only ' if fan_in < fan_out else ''}{fan_in} inputs, {small} draws weights "
        f"{sig(factor)}× smaller than {big} there; taking just that layer from {b} {closes}."
    )


def claim_cause(check: ClaimCheck) -> str:
    """The measured cause of a claim that does not hold: its ablations, else what the failing cells showed."""
    causes = [c for c in (ablation_cause(a) for a in check.ablations) if c]
    if causes:
        return " ".join(causes)
    failing = check.numbers[~check.numbers["supports"].astype(bool)] if len(check.numbers) else check.numbers
    shown = [f"{r['label'] or r['cell']}: {r['seeds_showed']}" for _, r in failing.iterrows() if r["seeds_showed"]]
    return f"Where it fails, the seeds showed {'; '.join(shown)}." if shown else ""


def findings(
    computed: Mapping[str, Answer],
    titles: Mapping[str, str],
    checks: Sequence[ClaimCheck],
    models: Sequence[ModelResult] = (),
) -> list[Finding]:
    """Each exercise's answer (its summary), each configured model's ranking, then each claim that holds
    only in part or not at all."""
    out = [Finding(titles[key], answer.summary or answer.sentence, key, False) for key, answer in computed.items()]
    out += [Finding(f"Your model {m.model}", m.summary, m.anchor, False) for m in models]
    for check in checks:
        if check.verdict not in (IN_PART, DOES_NOT_HOLD):
            continue
        sentence = f"“{check.claim.paraphrase}” {check.verdict} (seeds where it holds: {agreement_text(check)})."
        cause = claim_cause(check)
        label = (
            f"Reference answer, {titles[check.claim.exercise]}" if check.claim.exercise in titles else "Lesson claim"
        )
        out.append(Finding(label, f"{sentence} {cause}".strip(), check.claim.key, True))
    return out
