"""Keep freed memory in the process, so a tensor's memory is not page-faulted in again each step.

glibc's ``malloc`` serves a request above its mmap threshold (128 KiB to start with) by a fresh
``mmap``, and hands a freed heap top above its trim threshold back to the kernel; the next
allocation of that size then touches new pages, each a page fault that zero-fills 4 KiB. The
compute jobs allocate such blocks all the time (a probe layer's output is 256 KiB; Adam's
``_foreach_sqrt`` returns one 256 KiB tensor per parameter and step), and on the 2-core VM a
fault costs about 2.3 us: ``torch._foreach_sqrt`` over 17 tensors of (16, 64, 64) took 166 us
a tensor with glibc's defaults and 35 us (the arithmetic) with the thresholds below.

Where and how memory is allocated does not change any arithmetic: the tables stay the same
to the byte. On a C library without ``mallopt`` (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes

# mallopt's parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# The largest mmap threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2): blocks up to 32 MiB
# come from the heap and are reused; larger ones are rare here (a stack of 8 models at width
# 64 holds 0.9 MiB per layer).
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
# Never give the heap's top back while a job runs: a job lives seconds to minutes and its peak
# is its steady state, so what it frees it allocates again within a step.
TRIM_THRESHOLD_BYTES = 2**31 - 1


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True if the C library took them."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
