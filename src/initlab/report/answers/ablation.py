"""The layer-swap ablation's answer: how much of the A-vs-B gap each layer accounts for.

Reads ``ablation.csv`` (written by the ablation jobs, see :mod:`initlab.engine.ablation`).
Per seed, the gap is ``log(end_loss(all-B) / end_loss(all-A))`` and a swap's effect is
``log(end_loss(A with layer L from B) / end_loss(all-A))``; a layer's *share* is the mean effect
over seeds divided by the mean gap. Logs because end losses span orders of magnitude across
inits (0.03 to 0.7), so a ratio is what "closer to B" means; means over seeds (not per-seed
ratios) because a seed whose gap is near zero would make its own ratio explode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from initlab.engine.cells import AblationCell, TrainSpec
from initlab.report import stats
from initlab.report.answers.text import display, sig

#: A layer *carries* the gap when swapping it alone moves the end loss at least half of the way
#: from A to B: then it accounts for more of the gap than every other layer together could
#: (if single-layer effects add up; ``share_sum`` in the numbers shows how far they do).
CARRIES_SHARE = 0.5
#: Ablation columns naming one cell (the cell's own fields; seeds and variants vary inside it).
ABLATION_CELL = AblationCell.ROW_FIELDS


@dataclass(frozen=True)
class AblationResult:
    """One configured ablation, read: each layer's share and the layer(s) carrying the gap."""

    cell: dict[str, object]
    sentence: str
    numbers: pd.DataFrame
    carriers: tuple[int, ...]
    seeds: int


def ablation_cells(ablation: pd.DataFrame | None) -> list[dict[str, object]]:
    """Every configured ablation cell in the table (as column -> value dicts)."""
    if ablation is None or ablation.empty:
        return []
    return ablation[list(ABLATION_CELL)].drop_duplicates().to_dict("records")


def configured_only(ablation: pd.DataFrame | None, entries: list[dict[str, object]] | None) -> pd.DataFrame | None:
    """The rows of the ablations the study's config lists (``entries``; None: every row).

    ``results/tables/ablation.csv`` outlives a config change: a study whose ``ablations`` list
    dropped an entry must not report that entry's stale rows.
    """
    if ablation is None or entries is None:
        return ablation
    keys = {tuple(str(e[c]) if c not in ("lr",) else repr(float(e[c])) for c in ABLATION_CELL) for e in entries}  # type: ignore[arg-type]
    mine = ablation[list(ABLATION_CELL)].apply(
        lambda r: tuple(str(r[c]) if c != "lr" else repr(float(r[c])) for c in ABLATION_CELL), axis=1
    )
    return ablation[mine.isin(keys)] if len(ablation) else ablation


def find_ablation(ablation: pd.DataFrame | None, cell: dict[str, object], init_a: str, init_b: str) -> pd.DataFrame:
    """Rows of the ablation of ``cell`` between ``init_a`` and ``init_b`` (either way round)."""
    if ablation is None or ablation.empty:
        return pd.DataFrame()
    mask = np.ones(len(ablation), dtype=bool)
    for col in TrainSpec.ROW_FIELDS:
        mask &= (ablation[col] == cell[col]).to_numpy()
    pair = ((ablation["init_a"] == init_a) & (ablation["init_b"] == init_b)) | (
        (ablation["init_a"] == init_b) & (ablation["init_b"] == init_a)
    )
    rows = ablation[mask & pair.to_numpy()]
    if rows.empty:
        return rows
    first = rows.iloc[0]
    return rows[(rows["init_a"] == first["init_a"]) & (rows["init_b"] == first["init_b"])]


def layer_shares(rows: pd.DataFrame) -> pd.DataFrame:
    """Per swapped layer: fan-in/out, the weight std each scheme drew there (median over seeds),
    the mean log effect, the share of the gap, and the seeds where the swap moves toward B."""
    scored = rows.assign(log_loss=np.log(stats.as_worst_if_nonfinite(rows["end_loss"]).astype(float)))
    wide = scored.pivot_table(index="seed", columns=["variant", "layer"], values="log_loss", aggfunc="first")
    base = wide[("all_a", 0)]
    gap = wide[("all_b", 0)] - base
    mean_gap = float(gap.mean())
    out = []
    swaps = scored[scored["variant"] == "swap"]
    for layer, group in swaps.groupby("layer", sort=True):
        effect = wide[("swap", layer)] - base
        out.append(
            {
                "layer": int(layer),
                "fan_in": int(group["fan_in"].iloc[0]),
                "fan_out": int(group["fan_out"].iloc[0]),
                "weight_std_a": float(group["weight_std_a"].median()),
                "weight_std_b": float(group["weight_std_b"].median()),
                "std_ratio_b_over_a": float((group["weight_std_b"] / group["weight_std_a"]).median()),
                "mean_log_effect": float(effect.mean()),
                "share_of_gap": float(effect.mean()) / mean_gap if mean_gap != 0 else math.nan,
                "seeds_toward_b": int((np.sign(effect) == np.sign(gap)).sum()),
                "seeds": int(effect.notna().sum()),
            }
        )
    numbers = pd.DataFrame(out)
    # Single-layer effects need not add up to the gap: what they leave over (or overshoot) is the
    # layers' interaction, named so that the shares plus it make 100 %.
    numbers.attrs["interaction_share"] = 1.0 - float(numbers["share_of_gap"].sum()) if len(numbers) else math.nan
    numbers.attrs["mean_log_gap"] = mean_gap
    numbers.attrs["seeds_b_worse"] = int((gap > 0).sum())
    numbers.attrs["seeds"] = int(gap.notna().sum())
    numbers.attrs["median_end_loss_a"] = float(np.exp(base.median()))
    numbers.attrs["median_end_loss_b"] = float(np.exp(wide[("all_b", 0)].median()))
    return numbers


def _layer_name(layer: int, depth: int) -> str:
    return "the output layer" if layer == depth + 1 else f"hidden layer {layer}"


def ablation_answer(rows: pd.DataFrame) -> AblationResult:
    """The sentence: which layer(s) carry the A-vs-B gap, its share, and what the layer is."""
    first = rows.iloc[0]
    a, b, depth = display(first["init_a"]), display(first["init_b"]), int(first["depth"])
    cell = {col: first[col] for col in ABLATION_CELL}
    numbers = layer_shares(rows)
    n = numbers.attrs["seeds"]
    gap = numbers.attrs["mean_log_gap"]
    where = (
        f"{display(first['activation'])}, depth {depth}, width {first['width']}, {display(first['optimizer'])} lr "
        f"{first['lr']:g}, {first['steps']} steps"
    )
    head = (
        f"Layer-swap ablation ({where}; {n} seeds, paired): {a} ends at a median loss of "
        f"{numbers.attrs['median_end_loss_a']:.3g}, {b} at {numbers.attrs['median_end_loss_b']:.3g} "
        f"({b} worse in {numbers.attrs['seeds_b_worse']}/{n} seeds; mean log gap {sig(gap)})."
    )
    if numbers.empty or not math.isfinite(gap) or gap == 0:
        return AblationResult(cell, head + " There is no gap to share out.", numbers, (), n)
    carriers = numbers[numbers["share_of_gap"] >= CARRIES_SHARE].sort_values("share_of_gap", ascending=False)
    shares = ", ".join(f"layer {r.layer} {r.share_of_gap:.0%}" for r in numbers.itertuples())
    shares += f"; interaction {interaction_text(numbers.attrs['interaction_share'])}"
    if carriers.empty:
        top = numbers.sort_values("share_of_gap", ascending=False).iloc[0]
        body = (
            f" No single layer carries half of the gap (shares: {shares}); the largest is "
            f"{_layer_name(int(top['layer']), depth)} ({top['share_of_gap']:.0%})."
        )
    else:
        described = "; ".join(
            f"{_layer_name(r.layer, depth)} (fan-in {r.fan_in}, fan-out {r.fan_out}), which accounts for "
            f"{r.share_of_gap:.0%} of it: swapping it alone to {b} moves the loss toward {b}'s in "
            f"{r.seeds_toward_b}/{r.seeds} seeds. There {a} draws weights with std {r.weight_std_a:.3g} and {b} "
            f"{r.weight_std_b:.3g} (×{sig(r.std_ratio_b_over_a)})"
            for r in carriers.itertuples()
        )
        others = numbers[~numbers["layer"].isin(carriers["layer"])]
        ratios = ", ".join(f"layer {r.layer} ×{sig(r.std_ratio_b_over_a)}" for r in others.itertuples())
        body = (
            f" The gap sits in {described}."
            + (f" Elsewhere the two schemes' weight stds differ by {ratios}." if len(others) else "")
            + f" Shares of every layer: {shares}."
        )
    return AblationResult(cell, head + body, numbers, tuple(int(x) for x in carriers["layer"]), n)


#: An interaction share smaller than this (either way) is "the single-layer effects add up".
ADDITIVE_WITHIN = 0.1


def interaction_text(share: float) -> str:
    """The interaction share in words: what the single-layer shares leave over, and what it means."""
    if not math.isfinite(share):
        return "n/a"
    if abs(share) < ADDITIVE_WITHIN:
        return f"{share:.0%} (the single-layer effects add up to the gap)"
    if share < 0:
        return (
            f"{share:.0%} (the single-layer effects overlap: each swap alone already moves much of the "
            "way, so their shares add up to more than the whole gap)"
        )
    return f"{share:+.0%} (the layers act together: the gap needs more than one layer swapped)"
