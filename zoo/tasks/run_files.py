"""Where a run's files go, found without a collective call, and files written so a kill never leaves half of one.

``trainer.log_dir`` broadcasts rank 0's folder to every rank: under DDP it is a collective, so calling it in code
that only rank 0 runs (samples, summaries, plots) makes rank 0 wait forever for the others. `run_dir` reads the
logger's folder locally instead; call it on rank 0 (other ranks may not know the folder's version number).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.plugins.io import TorchCheckpointIO

__all__ = ["AtomicCheckpointIO", "atomic_write_text", "run_dir"]


def run_dir(trainer: L.Trainer) -> Path | None:
    """The run's log folder (``runs/<recipe>/version_N``), or None without a logger; never a collective."""
    logger = trainer.logger
    if logger is None:
        return None
    folder = getattr(logger, "log_dir", None) or getattr(logger, "save_dir", None)
    return Path(folder) if folder else None


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename (all or nothing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, but through a temporary file and a rename: a run killed while saving leaves
    the previous ``last.ckpt`` whole instead of a truncated one. Remote paths (``s3://...``) are written as before."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            super().save_checkpoint(checkpoint, tmp, storage_options)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
