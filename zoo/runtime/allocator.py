"""Large freed blocks kept for the next training step instead of handed back to the kernel (glibc's malloc).

glibc serves every allocation above its mmap threshold (32 MiB at most) with a fresh ``mmap`` and unmaps it again on
``free``. A training step of the book's convnets allocates its activations and their gradients anew every step: at
224x224 and batch 128, NiN's are 72 MB each, 1.4 GB a step. The kernel zero-fills each new mapping page by page on
first touch: on 2 cores that was 383,000 page faults and 0.66 s of system time in a 1.1 s bf16 step of NiN (the
profiler shows it as ReLUs taking a third of the step). Told never to use ``mmap`` for the heap and never to trim it
(``mallopt(M_MMAP_MAX, 0)``, ``mallopt(M_TRIM_THRESHOLD, ...)``), malloc reuses the freed blocks and the same step,
with the same kernels on the same numbers, takes 0.6 s (``bench/cpu_allocator.py`` measures it for each model).

The price: the process keeps the memory of its largest step until it ends (its resident size stays at its peak
instead of falling between steps), which is what a training process needs anyway. Elsewhere than glibc (macOS,
musl) nothing is changed. The zoo's command line adds `KeepFreedMemory` to every run; in your own Lightning project
add it to the Trainer's callbacks, or call `keep_freed_memory` once before training.
"""

from __future__ import annotations

import ctypes
import platform

import lightning as L

__all__ = ["KeepFreedMemory", "keep_freed_memory"]

#: ``mallopt`` parameters, from glibc's ``malloc.h``.
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: Free memory at the top of the heap beyond this many bytes goes back to the kernel: the largest value ``mallopt``
#: takes (2 GiB), so in practice never.
TRIM_THRESHOLD = 2**31 - 1


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed blocks for reuse: no ``mmap`` for large blocks, no trimming of the heap.

    Applies to the whole process (and to processes it forks afterwards, such as DataLoader workers) until it ends;
    calling it again sets the same values. Returns whether the setting is in force: False where the C library is not
    glibc.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    # mallopt returns 1 on success; the trim threshold first, so the heap does not shrink once mmap is off
    return bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(libc.mallopt(M_MMAP_MAX, 0))


class KeepFreedMemory(L.Callback):
    """Calls `keep_freed_memory` when a Trainer sets up a model that runs on the CPU (on a GPU the activations live
    in the caching allocator of CUDA, which already reuses them)."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if pl_module.device.type == "cpu":
            keep_freed_memory()
