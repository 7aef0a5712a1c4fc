"""engine.allocator: keep_freed_memory raises glibc's mmap and trim thresholds, and says whether
the C library took them. (How many page faults that saves depends on the machine's state:
benchmarks/bench_allocator.py measures it.)"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from initlab.engine import allocator
from initlab.engine.allocator import MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES, keep_freed_memory

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")


class _Libc:
    """A stand-in C library: records mallopt calls, answers ``answer``."""

    def __init__(self, answer: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []

        def mallopt(param: int, value: int) -> int:  # a plain function: takes argtypes/restype
            self.calls.append((param, value))
            return answer

        self.mallopt = mallopt


def test_sets_the_mmap_and_trim_thresholds(monkeypatch):
    libc = _Libc()
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda name: libc)
    assert keep_freed_memory() is True
    # malloc.h: M_MMAP_THRESHOLD = -3, M_TRIM_THRESHOLD = -1
    assert libc.calls == [(-3, MMAP_THRESHOLD_BYTES), (-1, TRIM_THRESHOLD_BYTES)]
    assert MMAP_THRESHOLD_BYTES == 32 * 1024 * 1024  # glibc's largest on 64-bit: HEAP_MAX_SIZE / 2
    assert TRIM_THRESHOLD_BYTES == 2**31 - 1  # the largest an int takes: never trim


def test_says_false_when_the_c_library_refuses(monkeypatch):
    libc = _Libc(answer=0)
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda name: libc)
    assert keep_freed_memory() is False


def test_says_false_without_mallopt(monkeypatch):
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda name: object())  # no mallopt attribute
    assert keep_freed_memory() is False

    def no_library(name):
        raise OSError("no C library")

    monkeypatch.setattr(allocator.ctypes, "CDLL", no_library)
    assert keep_freed_memory() is False


# In a child process (the thresholds are the process's for good): the heap now serves a 1 MiB
# block (below the new 32 MiB threshold) where glibc's defaults would mmap it, and still mmaps
# a block above 32 MiB. glibc marks an mmapped chunk in its size word, just before the block
# (IS_MMAPPED, 0x2): that bit, not a fault count, is what is checked.
_CHILD = """
import ctypes, sys
from initlab.engine.allocator import keep_freed_memory
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
took = keep_freed_memory() if sys.argv[1] == "keep" else None
def mmapped(size):
    block = libc.malloc(size)
    flag = bool(ctypes.c_size_t.from_address(block - ctypes.sizeof(ctypes.c_size_t)).value & 2)
    libc.free(block)
    return flag
print(took, mmapped(1 << 20), mmapped(64 << 20))
"""


def _child(mode: str) -> list[str]:
    # without the environment's malloc settings (MALLOC_MMAP_THRESHOLD_=..., GLIBC_TUNABLES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True, check=True, env=env)
    return out.stdout.split()


@glibc
def test_glibc_takes_the_thresholds_and_keeps_mid_sized_blocks_in_the_heap():
    assert _child("keep") == ["True", "False", "True"]


@glibc
def test_glibc_defaults_mmap_a_mib_block():
    """The contrast: what keep_freed_memory changes (glibc's default threshold starts at 128 KiB)."""
    assert _child("default") == ["None", "True", "True"]
