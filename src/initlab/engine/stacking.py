"""How many models the stacked trainer trains as one: a plain constant, no torch.

Kept apart from ``initlab.engine.train`` so that the config check (run while Snakemake builds
the DAG, where importing torch would cost seconds) can estimate a training job's memory from it.
"""

from __future__ import annotations

# Models per stack in ``train_cell``. Measured on the 2-core x86 machine (one thread, the 110
# models of a depth-16 cell, 40 steps, best of two): stacks of 8 / 11 / 16 / 22 / 33 ran at
# 0.56 / 0.57 / 0.59 / 0.56 / 0.54 of the single-thread matmul peak, and one stack of 110 slower
# still (its activations no longer fit in cache). A stack's numbers do not depend on its mates,
# so this changes speed (and memory) only.
MAX_STACK = 16
