"""Derived files made once from slow-to-parse data and remade when the sources change (decoded images, a tokenised
corpus, parsed word vectors).

`load_cached` stamps the result with the name, size and modification time of every source file (and a format
number), or, with ``by_content=True``, with their SHA-256 digests, so that an edit that keeps a file's size and
modification time is still seen; a cache whose stamp differs from the sources as they are now, or that cannot be read,
is rebuilt. It is written under a temporary name with the user's normal permissions (not ``mkstemp``'s 0600) and
renamed into place, and read with ``weights_only=True`` (tensors, strings, numbers, lists and dicts only), so a cache
file can never run code. A file at the cache's path that is not a cache the zoo wrote is never replaced (the result
is built and used without caching, with a warning). A folder that cannot be written (read-only, full) only costs the
speed-up.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from zoo.files import new_temp_file

__all__ = ["content_stamp", "file_digest", "load_cached", "stamp"]

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def stamp(sources: Sequence[Path]) -> list[tuple[str, int, int]]:
    """(name, size, modification time in ns) of each source file."""
    stamps = []
    for path in sources:
        st = Path(path).stat()
        stamps.append((Path(path).name, st.st_size, st.st_mtime_ns))
    return stamps


def file_digest(path: str | os.PathLike[str]) -> str:
    """``"sha256:<hex>"`` of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def content_stamp(sources: Sequence[Path]) -> list[tuple[str, int, str]]:
    """(name, size, SHA-256 digest) of each source file: what its bytes are, whatever its modification time says."""
    return [(Path(path).name, Path(path).stat().st_size, file_digest(path)) for path in sources]


def load_cached(cache: Path, sources: Sequence[Path], build: Callable[[], dict[str, Any]],
                version: int = 1, by_content: bool = False) -> dict[str, Any]:
    """The dict ``build()`` returns, read from ``cache`` when it was made from ``sources`` as they are now (by their
    name, size and modification time, or with ``by_content`` by their digests). A file at ``cache`` that is not a
    cache of this kind (no zoo cache's ``key`` and ``data``) is left as it is."""
    key = {"format": version, "sources": content_stamp(sources) if by_content else stamp(sources)}
    if cache.is_file() or cache.is_symlink():
        try:
            blob = torch.load(cache, map_location="cpu", weights_only=True)
        except Exception as exc:  # a foreign, truncated or unsafe file: build, and leave the file alone
            first = (str(exc).strip().splitlines() or [""])[0]
            blob, problem = None, f"{type(exc).__name__}: {first}"
        else:
            problem = "not a cache this program writes"
        if isinstance(blob, dict) and set(blob) == {"key", "data"} and not cache.is_symlink():
            if blob["key"] == key:
                return blob["data"]
            log.info("%s is stale (its source files changed); building it again", cache)
        else:
            log.warning("%s is not a cache the zoo wrote (%s); it is left as it is and the data are built without "
                        "caching: delete or move it to let the zoo cache there", cache, problem)
            return build()
    data = build()
    tmp: Path | None = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = new_temp_file(cache.parent, cache.name)
        torch.save({"key": key, "data": data}, tmp)
        os.replace(tmp, cache)
        tmp = None
    except OSError as exc:
        log.warning("could not write the cache %s (%s); the next run builds it again", cache, exc)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return data
