"""How many models the stacked trainer trains as one: plain arithmetic, no torch.

Kept apart from ``initlab.engine.train`` so that the config check (run while Snakemake builds
the DAG, where importing torch would cost seconds) can estimate a training job's memory from it.

What decides the size is the stack's working set against the cache it shares. A stack keeps
every layer's output for the backward pass, K x samples x width floats a layer: at depth 16,
width 64 and 16 models that is 31 MB, the size of this machine's L3, which the study's other
jobs use too. A shallow net holds little, and there a bigger stack saves Python's
per-operation cost (about 130 calls a step at depth 16, 50 at depth 2) more often.
"""

from __future__ import annotations

# Bytes of layer outputs one stack may hold. Measured with the hand-written pass,
# width 64, 450 samples, best of three, two other training processes sharing the 2 cores as in
# the study, GFLOP/s by stack size K:
#   depth 16: K = 8: 40.0 / 27.2 / 25.8 (relu, three runs), 27.0 / 29.0 (tanh); K = 16: 33.6 (relu),
#             25.2 (tanh); K = 4: 23.6-24.7 (relu), 19.4 (tanh). Alone, K = 16 was up to 4 % ahead.
#   depth 8: K = 8 / 16: 23.4 / 23.2.   depth 4: K = 8 / 16 / 32: relu 22.3 / 28.9 / 23.8,
#   tanh 15.8 / 19.0 / 19.8.   depth 2: K = 8 / 16 / 32 / 64: 11.0 / 11.8 / 13.6 / 12.3.
# 16 MiB gives K = 8 at depth 16, 16 at depth 8, 29 at depth 4 and the cap at depth 2.
STACK_BYTES = 16 * 2**20
# The most models one stack trains, whatever the budget allows.
MAX_STACK = 32
FLOAT_BYTES = 4


def stack_size(depth: int, width: int, samples: int) -> int:
    """Models per stack for MoonMLPs of this depth and width trained on ``samples`` points:
    as many as keep the stack's layer outputs within ``STACK_BYTES``, at least 1, at most
    ``MAX_STACK``. A stack's numbers do not depend on its mates, so this changes speed (and
    memory) only."""
    per_model = (depth + 1) * samples * width * FLOAT_BYTES
    return max(1, min(MAX_STACK, STACK_BYTES // per_model))
