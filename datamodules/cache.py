"""Derived files kept beside their sources: a tensor file made once from slow-to-parse data and remade when the
sources change (decoded images, a tokenised corpus, parsed word vectors).

`load_cached` stamps the result with the name, size and modification time of every source file (and a format
number); a cache whose stamp differs from the sources as they are now, or that cannot be read, is rebuilt. It is
written under a temporary name with the user's normal permissions (not ``mkstemp``'s 0600) and renamed into place,
and read with ``weights_only=True`` (tensors, strings, numbers, lists and dicts only), so a cache file can never run
code. A folder that cannot be written (read-only, full) only costs the speed-up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from zoo.files import new_temp_file

__all__ = ["load_cached", "stamp"]

log = logging.getLogger(__name__)


def stamp(sources: Sequence[Path]) -> list[tuple[str, int, int]]:
    """(name, size, modification time in ns) of each source file."""
    stamps = []
    for path in sources:
        st = Path(path).stat()
        stamps.append((Path(path).name, st.st_size, st.st_mtime_ns))
    return stamps


def load_cached(cache: Path, sources: Sequence[Path], build: Callable[[], dict[str, Any]],
                version: int = 1) -> dict[str, Any]:
    """The dict ``build()`` returns, read from ``cache`` when it was made from ``sources`` as they are now."""
    key = {"format": version, "sources": stamp(sources)}
    if cache.is_file():
        try:
            blob = torch.load(cache, map_location="cpu", weights_only=True)
            if isinstance(blob, dict) and blob.get("key") == key:
                return blob["data"]
            log.info("%s is stale (its source files changed); building it again", cache)
        except Exception as exc:  # a truncated or foreign file: build again
            log.warning("ignoring unreadable cache %s (%s)", cache, exc)
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
