"""bf16 on the machine at hand: whether it has matrix units for it, and a warning when it does not.

The fast path of the vision recipes is ``--trainer.precision bf16-mixed`` (Lightning autocasts convolutions and
matrix products to bfloat16) with the image classifiers' weights and batches in the channels-last layout, which the
task switches on by itself under bf16 (`zoo.tasks.classification`). On a CPU it is fast only where oneDNN can run
bf16 on matrix units: Intel's AMX (``amx_bf16`` in ``/proc/cpuinfo``; ``brg_conv``/``brg_matmul`` ``..._amx``
kernels in ``ONEDNN_VERBOSE=1``). Elsewhere bf16 is emulated or runs on vector units and is slower than fp32, so
`PrecisionCheck` says so once at the start of the run instead of letting it run slow silently. ``ONEDNN_MAX_CPU_ISA``
(for example ``AVX512_CORE``) caps what oneDNN may use, and is honoured here too.

On a GPU, bf16 needs compute capability 8.0 or newer (Ampere); Lightning refuses it on older cards by itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_warn

__all__ = ["PrecisionCheck", "cpu_flags", "cpu_has_bf16_matrix_units", "uses_bf16"]

#: ``ONEDNN_MAX_CPU_ISA`` values under which oneDNN may still use AMX for bf16.
_AMX_ISAS = ("AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16", "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16", "ALL", "DEFAULT")


def cpu_flags() -> set[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where it cannot be read, e.g. not Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_bf16_matrix_units() -> bool:
    """Whether oneDNN can run bf16 convolutions and matrix products on AMX here: the CPU has ``amx_bf16`` and
    ``ONEDNN_MAX_CPU_ISA``, if set, does not forbid it."""
    if "amx_bf16" not in cpu_flags() or not torch.backends.mkldnn.is_available():
        return False
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    return not cap or cap in _AMX_ISAS


def uses_bf16(trainer: L.Trainer) -> bool:
    """Whether the Trainer computes in bfloat16 (``bf16-mixed`` or ``bf16-true``)."""
    return "bf16" in str(getattr(trainer, "precision", ""))


class PrecisionCheck(L.Callback):
    """Warns once, at the start of a run, that bf16 on this CPU will be slower than fp32 (no matrix units)."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if uses_bf16(trainer) and pl_module.device.type == "cpu" and not cpu_has_bf16_matrix_units():
            isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
            why = f"ONEDNN_MAX_CPU_ISA={isa} forbids oneDNN its AMX kernels" if isa and "amx_bf16" in cpu_flags() \
                else "this CPU has no AMX matrix units (amx_bf16)"
            rank_zero_warn(f"--trainer.precision {trainer.precision}: {why}, so bfloat16 runs slower than float32 "
                           "here; use --trainer.precision 32-true for speed (the run goes on in bf16)")
