"""The layer-swap ablation's variants, without torch: which models one ablation cell trains.

Kept apart from ``initlab.engine.ablation`` (which trains them) so that the study stage can list
the rows an ablation job promises (``initlab.study.expected``) while building the DAG or checking
a table, without paying for ``import torch``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Variant names; ``swap`` rows carry the swapped layer's number, the other two layer 0.
ALL_A, SWAP, ALL_B = "all_a", "swap", "all_b"


@dataclass(frozen=True)
class Variant:
    """One ablation variant: which layer (if any) comes from B."""

    name: str
    layer: int  # 1-based Linear index for SWAP; 0 for ALL_A and ALL_B


def variants(depth: int) -> list[Variant]:
    """all-A, one swap per Linear (``depth`` hidden + the output layer), all-B."""
    return [Variant(ALL_A, 0), *(Variant(SWAP, layer) for layer in range(1, depth + 2)), Variant(ALL_B, 0)]
