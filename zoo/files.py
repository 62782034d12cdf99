"""Writing a file so that a kill never leaves half of it: through a temporary file beside it and a rename.

One permission rule for every file the zoo writes (downloads, decoded caches, checkpoints, run files, exported
graphs, word-vector files): the permissions a plain ``open(path, "w")`` would give, ``0o666`` less the process's
umask (``0o644`` under the usual umask 022). A shared data cache, a run folder or an exported model is then readable
by whoever the user's umask allows, never more, and never owner-only by accident (``tempfile.mkstemp`` alone makes
``0o600`` files).

This module belongs to the foundation (with `zoo.errors` and `zoo.validation`): it imports nothing else of the zoo,
so the data layer (``datamodules``) uses it too.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "new_temp_file", "umask"]


def umask() -> int:
    """The process's umask, read without changing it where Linux shows it (a thread-safe read)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but only where /proc is missing)
    os.umask(mask)
    return mask


def new_temp_file(folder: str | os.PathLike[str], name: str) -> Path:
    """An empty file ``folder/.<name>.<random>.part`` with the module's permission rule; `OSError` when the folder
    cannot be written. Rename it into place (``os.replace``) once it is complete."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(fd)
    os.chmod(tmp_name, 0o666 & ~umask())
    return Path(tmp_name)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on a normal exit it replaces ``path`` (all or nothing), on an
    exception it is deleted and ``path`` is left as it was. The parent folder is created if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temp_file(path.parent, path.name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
