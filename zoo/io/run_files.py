"""Where a run's files go, found without a collective call, and files written so a kill never leaves half of one.

``trainer.log_dir`` broadcasts rank 0's folder to every rank: under DDP it is a collective, so calling it in code
that only rank 0 runs (samples, summaries, plots) makes rank 0 wait forever for the others. `run_dir` reads the
logger's folder locally instead; call it on rank 0 (other ranks may not know the folder's version number).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.plugins.io import TorchCheckpointIO

from zoo.files import atomic_path

__all__ = ["AtomicCheckpointIO", "run_dir"]


def run_dir(trainer: L.Trainer) -> Path | None:
    """The run's log folder (``runs/<recipe>/version_N``), or None without a logger; never a collective."""
    logger = trainer.logger
    if logger is None:
        return None
    folder = getattr(logger, "log_dir", None) or getattr(logger, "save_dir", None)
    return Path(folder) if folder else None


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, but through a temporary file and a rename: a run killed while saving leaves
    the previous ``last.ckpt`` whole instead of a truncated one. Remote paths (``s3://...``) are written as before."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        with atomic_path(path) as tmp:
            super().save_checkpoint(checkpoint, tmp, storage_options)
