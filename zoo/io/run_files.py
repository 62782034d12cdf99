"""Where a run's files go, found without a collective call, and files written so a kill never leaves half of one.

``trainer.log_dir`` broadcasts rank 0's folder to every rank: under DDP it is a collective, so calling it in code
that only rank 0 runs (samples, summaries, plots) makes rank 0 wait forever for the others. `run_dir` reads the
logger's folder locally instead; call it on rank 0 (other ranks may not know the folder's version number).

A run folder that cannot take a file (a full disk, a read-only folder) is a `RunFolderError`: one line naming the
folder and what to do, instead of an ``OSError`` traceback (`run_folder_error`).
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.plugins.io import TorchCheckpointIO

from zoo.errors import ZooError
from zoo.files import atomic_path

__all__ = ["AtomicCheckpointIO", "RunFolderError", "is_storage_error", "run_dir", "run_folder_error"]

_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


class RunFolderError(ZooError):
    """The run's folder cannot take a file: the disk is full, or the folder cannot be written."""


def run_dir(trainer: L.Trainer) -> Path | None:
    """The run's log folder (``runs/<recipe>/version_N``), or None without a logger; never a collective."""
    logger = trainer.logger
    if logger is None:
        return None
    folder = getattr(logger, "log_dir", None) or getattr(logger, "save_dir", None)
    return Path(folder) if folder else None


def is_storage_error(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it was raised from) is a full disk or a folder that cannot be written."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, RunFolderError) or (isinstance(exc, OSError) and exc.errno in (*_NO_SPACE,
                                                                                          *_NOT_WRITABLE)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def run_folder_error(exc: BaseException, folder: str | Path, what: str) -> RunFolderError | None:
    """A one-line `RunFolderError` when ``exc`` is a full disk or a folder that cannot be written, else None.
    ``folder`` is the run folder (or the folder written to), ``what`` the file."""
    if isinstance(exc, RunFolderError):
        return exc
    if not isinstance(exc, OSError) or exc.errno not in (*_NO_SPACE, *_NOT_WRITABLE):
        return None
    folder = Path(folder)
    if exc.errno in _NO_SPACE:
        try:
            existing = next(p for p in (folder, *folder.parents) if p.exists())
            free = f"{shutil.disk_usage(existing).free / 1e6:,.1f} MB free"
        except (OSError, StopIteration):
            free = "free space unknown"
        return RunFolderError(f"no space left on device in the run folder {folder} while writing {what} ({free}): "
                              "free some space there, or set --trainer.default_root_dir to a folder on a disk with "
                              "room; the files written before are kept")
    return RunFolderError(f"cannot write {what} in the run folder {folder} ({exc.strerror or exc}): make it writable, "
                          "or set --trainer.default_root_dir to a folder you can write to")


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, but through a temporary file and a rename: a run killed while saving leaves
    the previous ``last.ckpt`` whole instead of a truncated one, and a full disk (or a folder that cannot be written)
    leaves no partial file and stops the run with a `RunFolderError` naming the folder. Remote paths
    (``s3://...``) are written as before."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        try:
            with atomic_path(path) as tmp:
                super().save_checkpoint(checkpoint, tmp, storage_options)
        except OSError as exc:  # Lightning may wrap it; its cause tells
            problem = run_folder_error(exc, Path(path).parent, Path(path).name)
            if problem is None:
                raise
            raise problem from exc
        except RuntimeError as exc:  # torch.save reports a failed write as a RuntimeError from its writer
            cause = exc.__cause__ or exc.__context__
            problem = run_folder_error(cause, Path(path).parent, Path(path).name) if cause is not None else None
            if problem is None and "No space left on device" in str(exc):
                problem = run_folder_error(OSError(errno.ENOSPC, "No space left on device"), Path(path).parent,
                                           Path(path).name)
            if problem is None:
                raise
            raise problem from exc
