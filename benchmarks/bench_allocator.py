"""Minor page faults of Adam-sized allocations, glibc's defaults against ``keep_freed_memory``.

    python benchmarks/bench_allocator.py [--repeats 5] [--steps 20]

A child process per run allocates 17 tensors of 256 KiB (as Adam's ``_foreach_sqrt`` does over
the weights of a stack) and frees them, ``steps`` times, and reports the minor page faults of
that loop (``ru_minflt``). With glibc's defaults each tensor is a fresh ``mmap`` (64 faults of
4 KiB each, so about 20 x 17 x 64 = 21,760 a run); with ``keep_freed_memory`` the blocks stay in
the heap and are reused (next to none). The counts depend on the machine's state (the kernel's
memory, transparent huge pages, what else runs), which is why this is a benchmark, not a test:
tests/engine/test_allocator.py checks what ``keep_freed_memory`` sets.

Last line: faults_default=<median> faults_kept=<median> ratio=<default / max(kept, 1)>
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CHILD = """
import resource, sys, torch
from initlab.engine.allocator import keep_freed_memory
took = keep_freed_memory() if sys.argv[1] == "keep" else None
steps = int(sys.argv[2])
weights = [torch.rand(16, 64, 64) for _ in range(17)]
torch._foreach_sqrt(weights)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(steps):
    torch._foreach_sqrt(weights)
print(took, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str, steps: int) -> int:
    """One child's minor page faults over ``steps`` steps (``mode``: ``default`` or ``keep``)."""
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(steps)], capture_output=True, text=True, check=True)
    took, count = out.stdout.split()
    if mode == "keep" and took != "True":
        raise SystemExit("keep_freed_memory() did not take (no glibc mallopt here?)")
    return int(count)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="child processes per mode")
    parser.add_argument("--steps", type=int, default=20, help="allocate-and-free steps per child")
    args = parser.parse_args(argv)
    runs: dict[str, list[int]] = {"default": [], "keep": []}
    for _ in range(args.repeats):
        for mode in runs:  # interleaved, so a change in the machine's state hits both alike
            runs[mode].append(faults(mode, args.steps))
    for mode, counts in runs.items():
        print(f"{mode:8s} minor faults per run of {args.steps} steps: {counts}")
    default, kept = statistics.median(runs["default"]), statistics.median(runs["keep"])
    print(f"faults_default={default:g} faults_kept={kept:g} ratio={default / max(kept, 1):.1f}")


if __name__ == "__main__":
    main()
