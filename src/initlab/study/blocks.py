"""Seed blocks: how the study's seeds are grouped into jobs, and how a block is named.

A seed belongs to block ``seed // block_size`` (by value, not by position in the list), so
adding seeds never moves an existing seed to another block: only new blocks, plus the one
block whose membership grew, have jobs to run. A block's name lists its seeds as ranges
(``0-9``, ``10-11``, ``3_7_40-41``), so a block whose seeds change gets a new file name and
Snakemake reruns exactly that job.

Pure Python on purpose: the workflow imports this while building the DAG, where importing
torch would cost seconds.
"""

from __future__ import annotations

import re
from itertools import groupby

_NAME = re.compile(r"^\d+(-\d+)?(_\d+(-\d+)?)*$")


def format_seeds(seeds: list[int]) -> str:
    """Name a set of seeds by its runs of consecutive values: [0, 1, 2, 5] -> '0-2_5'."""
    if not seeds:
        raise ValueError("a seed block needs at least one seed")
    ordered = sorted(set(seeds))
    parts = []
    for _, run in groupby(enumerate(ordered), key=lambda pair: pair[1] - pair[0]):
        values = [v for _, v in run]
        parts.append(str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}")
    return "_".join(parts)


def parse_seeds(name: str) -> list[int]:
    """Invert ``format_seeds``: '0-2_5' -> [0, 1, 2, 5]."""
    if not _NAME.match(name):
        raise ValueError(f"bad seed list {name!r}: expected runs like '0-9' or '3_7_40-41'")
    seeds: list[int] = []
    for part in name.split("_"):
        lo, _, hi = part.partition("-")
        seeds.extend(range(int(lo), int(hi or lo) + 1))
    return seeds


def seed_blocks(seeds: list[int], block_size: int) -> list[str]:
    """The block names for ``seeds`` grouped by ``seed // block_size``, in block order."""
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size!r}")
    by_block: dict[int, list[int]] = {}
    for seed in sorted(set(seeds)):
        by_block.setdefault(seed // block_size, []).append(seed)
    return [format_seeds(members) for _, members in sorted(by_block.items())]
