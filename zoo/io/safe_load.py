"""Reading checkpoints without running code: ``torch.load(weights_only=True)`` plus one allow-list.

A ``.ckpt`` file is a pickle, and unpickling can call any function the file names: ``torch.load(weights_only=False)``
on a crafted file runs its code. The zoo reads every checkpoint with ``weights_only=True``, where torch's restricted
unpickler builds only tensors, containers, numbers and strings, plus the types in `SAFE_GLOBALS`.

What zoo checkpoints hold was measured by training one recipe of every task kind (``gru_lyrics``,
``rnn_scratch_random_lyrics``, ``lenet_fashion_mnist``, ``lstm_rows_fashion_mnist``, ``resnet18_hotdog``,
``resnet18_cifar10_augment``, ``linreg_*_airfoil``, ``linreg_kaggle_house``, ``linreg_synthetic``, ``skipgram_ptb``,
``birnn_imdb``, ``textcnn_imdb``, ``seq2seq_attention_fr_en``, ``seq2seq_attention_fra_eng``) and asking
``torch.serialization.get_unsafe_globals_in_checkpoint``: none of them needs anything beyond torch's defaults, because
hyperparameters are primitives. The allow-list holds numpy arrays and scalars of plain number types,
which callbacks' resume state carries (``numpy.random.get_state()`` is a tuple holding a uint32 array).

`SAFE_GLOBALS` is the one place to extend: add a type there (never a function that can do I/O or run code) and every
zoo load accepts it. Importing this module registers it with ``torch.serialization.add_safe_globals``, so Lightning's
own loads (``Trainer.fit(ckpt_path=...)``, ``load_from_checkpoint``) accept zoo checkpoints too.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from zoo.errors import ConfigError

__all__ = ["SAFE_GLOBALS", "CheckpointError", "UnsafeCheckpointError", "register_safe_globals", "safe_load"]


def _numpy_globals() -> tuple[Any, ...]:
    """numpy's array and scalar rebuilders and the dtype classes of plain numbers (bool, ints, floats).

    Found from the objects themselves, so the names are right for numpy 1 (``numpy.core``) and 2 (``numpy._core``).
    An object-dtype array is not enabled by these: its items are unpickled by the same restricted unpickler.
    """
    try:
        import numpy as np
    except ImportError:  # numpy is optional for torch; without it no checkpoint can hold numpy objects either
        return ()
    numbers = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.float16,
               np.float32, np.float64)
    return (np.arange(1).__reduce__()[0], np.float64(0).__reduce__()[0], np.ndarray, np.dtype,
            *(type(np.dtype(t)) for t in numbers))


#: Everything beyond torch's defaults that a zoo checkpoint may contain. Extend here, in this one tuple.
SAFE_GLOBALS: tuple[Any, ...] = (*_numpy_globals(),)

_registered = False


def register_safe_globals() -> None:
    """Allow `SAFE_GLOBALS` in every ``torch.load(weights_only=True)`` of this process (done once, on import)."""
    global _registered
    if not _registered:
        torch.serialization.add_safe_globals(list(SAFE_GLOBALS))
        _registered = True


register_safe_globals()


class CheckpointError(ConfigError):
    """A checkpoint that cannot be used: missing, a folder, truncated, foreign, or altered after it was saved."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint whose unpickling would call something outside the allow-list (it could run code)."""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def _folder_hint(path: Path) -> str:
    """Checkpoints in the folder, a run folder's ``checkpoints/`` or its versions' (not a deep search of ``~``)."""
    found = sorted({*path.glob("*.ckpt"), *path.glob("checkpoints/*.ckpt"), *path.glob("*/checkpoints/*.ckpt")})[:3]
    if not found:
        return "it holds no .ckpt file"
    return "give a checkpoint file inside it, e.g. " + ", ".join(str(p) for p in found)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile, or a dangling link
        return 0.0


def _missing_hint(path: Path) -> str:
    """The files of the same kind beside a missing file (``*.ckpt`` for a checkpoint), newest first; else the
    checkpoints under its nearest existing folder, found as `_folder_hint` finds them; "" when there are none."""
    folder = path.parent
    if folder.is_dir():
        found = sorted(folder.glob(f"*{path.suffix or '.ckpt'}"), key=lambda p: (-_mtime(p), p.name))[:5]
        if found:
            return f"; beside it: {', '.join(str(p) for p in found)}"
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    if folder != path.parent and folder.is_dir():
        found = sorted({*folder.glob("*.ckpt"), *folder.glob("checkpoints/*.ckpt"),
                        *folder.glob("*/checkpoints/*.ckpt")})[:5]
        if found:
            return f"; {folder} holds {', '.join(str(p) for p in found)}"
    return ""


def _unsafe_names(path: Path, exc: BaseException) -> list[str]:
    """The globals the file would call, read from its pickle opcodes without running them, else from torch's
    message ([] when unknown)."""
    try:
        return list(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    except Exception:  # a legacy (non-zip) file or a damaged one: the names are only a courtesy
        return re.findall(r"GLOBAL ([\w.]+)", str(exc))[:3]


def check_file(path: str | Path, what: str = "checkpoint") -> Path:
    """``path`` as a `Path` when it is a regular file; `CheckpointError` saying what it is otherwise."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise CheckpointError(f"{what} {path} is a directory, not a file; {_folder_hint(path)}")
    if not path.exists():
        raise CheckpointError(f"{what} {path} does not exist{_missing_hint(path)}")
    if not path.is_file():
        raise CheckpointError(f"{what} {path} is not a regular file")
    return path


def safe_load(path: str | Path, map_location: Any = "cpu", mmap: bool = False, what: str = "checkpoint") -> Any:
    """``torch.load(path, weights_only=True)`` with the zoo's allow-list; every failure is one-line `CheckpointError`.

    ``mmap=True`` maps the tensors instead of reading them (only zip-format files, which ``torch.save`` writes).
    """
    path = check_file(path, what)
    register_safe_globals()
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise CheckpointError(f"cannot read {what} {path}: {exc.strerror or _one_line(exc)}") from exc
    try:
        try:
            return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
        except pickle.UnpicklingError:
            raise
        except Exception:
            if not mmap:
                raise
            # torch's legacy format cannot be mapped, and a damaged file reads better without mmap ("Invalid
            # argument" becomes what is wrong with the zip): read it again the ordinary way
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        names = _unsafe_names(path, exc)
        if names or any(sign in str(exc) for sign in ("Unsupported global", "allowlisted via", "allowlist")):
            called = ", ".join(names) if names else "a function or class outside the allow-list"
            raise UnsafeCheckpointError(
                f"refusing to load {what} {path}: unpickling it would call {called}, which no zoo checkpoint "
                "contains (it could run code); the file was not loaded. If you wrote it yourself and trust it, "
                "load it with torch.load(..., weights_only=False) outside the zoo") from exc
        raise CheckpointError(f"{path} is not a readable {what} ({_one_line(exc)})") from exc
    except Exception as exc:  # torch raises RuntimeError, EOFError, ValueError, ... for truncated or foreign files
        raise CheckpointError(f"{path} is not a readable {what}: it is truncated or was not written by torch.save "
                              f"({type(exc).__name__}: {_one_line(exc)})") from exc
