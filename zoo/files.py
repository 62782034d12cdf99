"""Writing a file so that a kill never leaves half of it: through a temporary file beside it and a rename.

One permission rule for every file the zoo writes (downloads, decoded caches, checkpoints, run files, exported
graphs, word-vector files): the permissions a plain ``open(path, "w")`` would give, ``0o666`` less the process's
umask (``0o644`` under the usual umask 022). A shared data cache, a run folder or an exported model is then readable
by whoever the user's umask allows, never more, and never owner-only by accident (``tempfile.mkstemp`` alone makes
``0o600`` files).

`check_output_file` is the one check of a path a command is asked to write (``--out``, ``--plot``,
``--attention-png``): run before any work, it refuses a folder, a path through a file, a folder that cannot be
written, a suffix the writer cannot produce, and the command's own input files, each in one line (`ConfigError`).

This module belongs to the foundation (with `zoo.errors` and `zoo.validation`): it imports nothing else of the zoo
but `zoo.errors`, so the data layer (``datamodules``) uses it too.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from zoo.errors import ConfigError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "check_output_file", "new_temp_file",
           "same_file", "umask"]


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


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` are one file on disk (the same name, a symbolic link or a hard link to it)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def check_output_file(path: str | os.PathLike[str] | None, suffixes: Sequence[str] | None = None, *,
                      flag: str | None = None, replace: bool = True,
                      inputs: Sequence[str | os.PathLike[str]] = (), example: str | None = None) -> Path:
    """``path`` as a `Path`, once a file can be written there; a one-line `ConfigError` otherwise.

    Refused: an empty path; a folder; a suffix not in ``suffixes`` (lower-case, with the dot: ``(".png", ".pdf")``),
    when given; a file that is one of ``inputs`` (by name, symbolic or hard link: a command never writes over what
    it reads); an existing file unless ``replace``; a path running through a file; a nearest existing folder that
    cannot be written (permissions, a read-only file system: an empty temporary file is created there and removed
    again to find out). Missing folders are fine: the writer creates them. ``flag`` names the option in messages
    (``"--out"``); ``example`` is a file name to suggest inside a folder given by mistake. Nothing else is created
    or changed here.
    """
    text = "" if path is None else os.fspath(path)
    name = f"{flag} {text}" if flag else text
    if not text.strip():
        raise ConfigError(f"{flag or 'the output path'} is empty; give the file to write")
    out = Path(text).expanduser()
    if out.is_dir():
        suggestion = out / (example or "out" + (suffixes[0] if suffixes else ""))
        raise ConfigError(f"{name} is a folder; give the file to write, e.g. {suggestion}")
    if suffixes is not None and out.suffix.lower() not in suffixes:
        got = f"a {out.suffix!r} file" if out.suffix else "a file without a suffix"
        raise ConfigError(f"{name}: cannot write {got}; give a name ending in {', '.join(suffixes)}")
    for source in inputs:
        if same_file(out, source):
            what = "" if os.fspath(source) == text else f" (the same file as {os.fspath(source)})"
            raise ConfigError(f"{name} is the input file{what}: writing it would replace what was read; give "
                              "another file to write")
    if out.exists() and not replace:
        raise ConfigError(f"{out} exists; pass --force to replace it")
    folder = next((p for p in out.parents if p.exists() or p.is_symlink()), Path("."))
    if not folder.is_dir():
        raise ConfigError(f"{name} runs through the file {folder}, not a folder; give a path in a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{name}: cannot write in {folder} (read-only or not yours); give a path in a folder you "
                          "can write to")
    try:  # what permissions do not tell: a read-only file system for root, a special file system (/proc, /sys)
        new_temp_file(folder, out.name).unlink()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot write in {folder} ({exc.strerror or exc}); give a path in a folder you "
                          "can write to") from None
    return out
