"""How many models the stacked trainer trains as one: a plain constant, no torch.

Kept apart from ``initlab.engine.train`` so that the config check (run while Snakemake builds
the DAG, where importing torch would cost seconds) can estimate a training job's memory from it.
"""

from __future__ import annotations

# Models per stack in ``train_cell``. What decides it is the stack's working set against the
# cache it shares: a stack keeps every layer's output for the backward pass, K x 450 x width
# floats a layer (1.8 MB at K = 16, width 64; 31 MB at depth 16, the size of this machine's
# L3, which the study's other jobs use too). Measured with the hand-written pass (issue 16),
# depth 16, width 64, 32 models, best of three, with two other training processes running as
# in the study (2 cores): K = 8 ran at 40.0 / 27.2 / 25.8 GFLOP/s (relu, three runs) against
# 33.6 at K = 16 and 23.6-24.7 at K = 4; tanh 27.0 / 29.0 against 25.2 (K = 16) and 19.4
# (K = 4); depth 8 was even (23.4 vs 23.2). Alone on the machine K = 16 was up to 4 % ahead.
# Smaller stacks pay Python's per-operation cost more often (about 130 calls a step).
# A stack's numbers do not depend on its mates, so this changes speed (and memory) only.
MAX_STACK = 8
