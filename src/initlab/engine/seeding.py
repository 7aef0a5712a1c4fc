"""The seeding rule: a configuration's numbers depend on that configuration alone.

- Weights: a fresh ``torch.Generator`` seeded with the configuration's ``seed`` draws, layer by
  layer, PyTorch's default ``nn.Linear`` init at construction and then the scheme's own draws.
  The same seed therefore gives every init scheme of a cell the same default draw (as the
  lesson's ``torch.manual_seed(9)`` before each model does), and seed 9 reproduces Lab 2.
- Probe inputs (and the probe's backward direction) come from a second generator seeded with
  ``derive_seed(seed, "probe-input")``, so every init and depth of a seed sees the same batch.
- Nothing reads or writes torch's global RNG, so what else runs in the process, and in which
  order, cannot change a configuration's numbers.
"""

from __future__ import annotations

import hashlib

import torch


def derive_seed(seed: int, *labels: str) -> int:
    """A 63-bit seed derived from ``seed`` and ``labels``, stable across runs, platforms and Pythons."""
    digest = hashlib.sha256(repr((int(seed),) + labels).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(seed: int) -> torch.Generator:
    """A fresh CPU generator seeded with ``seed`` (the same stream as ``torch.manual_seed(seed)``)."""
    return torch.Generator().manual_seed(int(seed))
