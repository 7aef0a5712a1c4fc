"""engine.allocator: after keep_freed_memory, a freed block is reused instead of faulted in again."""

from __future__ import annotations

import subprocess
import sys

import pytest

# A child process allocates 17 tensors of 256 KiB (as Adam's _foreach_sqrt does over the
# weights of a stack) and frees them, 20 times, and reports the minor page faults of the loop:
# with glibc's defaults each is a fresh mmap (64 faults each); with the thresholds raised the
# blocks stay in the heap and are reused.
_CHILD = """
import resource, sys, torch
from initlab.engine.allocator import keep_freed_memory
took = keep_freed_memory() if sys.argv[1] == "keep" else None
weights = [torch.rand(16, 64, 64) for _ in range(17)]
torch._foreach_sqrt(weights)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    torch._foreach_sqrt(weights)
print(took, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True, check=True)
    took, faults = out.stdout.split()
    return took, int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_memory_is_reused_not_faulted_in_again():
    _, default_faults = _faults("default")
    took, kept_faults = _faults("keep")
    assert took == "True"
    assert default_faults > 20 * 17 * 32  # 64 a tensor with glibc's defaults
    assert kept_faults < default_faults / 10
