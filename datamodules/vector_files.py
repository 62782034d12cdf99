"""Word-vector files in the GloVe text format (one word and its D numbers a line; word2vec's text format, with a
first line "<count> <dimension>", is accepted and checked): reading them fast, with a decoded cache, and writing them.

A text file is parsed once and cached beside it as ``<file>.pt`` (`datamodules.cache`), rebuilt when the file
changes: 400,000 x 100 floats load in seconds after the first time. `zoo.pretrained.word_vectors.WordVectors` is
the class that queries them (``similar``, ``analogy``); this module only reads and writes the files.
"""

from __future__ import annotations

import logging
import os
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from datamodules.cache import load_cached
from zoo.errors import DataError
from zoo.files import atomic_path

__all__ = ["CACHE_VERSION", "parse_vector_file", "read_vector_file", "vector_file_in_zip", "write_vector_file"]

log = logging.getLogger(__name__)

CACHE_VERSION = 1


def read_vector_file(path: str | os.PathLike[str]) -> tuple[list[str], torch.Tensor]:
    """(words, vectors (V, D) float32) of a vector text file, parsed once and then read from its ``.pt`` cache."""
    path = Path(path)
    data = load_cached(path.with_name(path.name + ".pt"), [path], lambda: parse_vector_file(path), CACHE_VERSION)
    return data["tokens"], data["vectors"]


def vector_file_in_zip(archive: Path) -> str:
    """The vector file inside a GloVe zip (d2l's: ``glove.6B.50d/vec.txt``)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if n.endswith(".txt") and not n.startswith("__MACOSX")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{archive} is not a readable zip ({exc}); delete it and run again") from exc
    if not names:
        raise DataError(f"{archive} holds no .txt vector file; is it a GloVe archive?")
    return names[0]


def parse_vector_file(path: Path) -> dict[str, object]:
    """Words and vectors of a GloVe/word2vec text file; `DataError` naming the first line that is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start}); is it a vector file in the text format?") \
            from exc
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc})") from exc
    lines = text.splitlines()
    start, header = 0, None
    first = lines[0].split() if lines else []
    if len(first) == 2 and all(f.isdigit() for f in first) and not (len(lines) > 1 and len(lines[1].split()) == 2):
        header, start = (int(first[0]), int(first[1])), 1  # word2vec's "<count> <dimension>"
    words, rests = [], []
    for line in lines[start:]:
        word, _, rest = line.strip().partition(" ")
        if word:
            words.append(word)
            rests.append(rest)
    if not words:
        raise DataError(f"{path} holds no vectors")
    dim = len(rests[0].split())
    if dim < 1:
        raise DataError(f"{path}, line {start + 1}: {words[0]!r} has no numbers; expected 'word v1 v2 ... vD'")
    try:
        with warnings.catch_warnings():  # a value that is not a number stops the parse early (a warning or an error)
            warnings.simplefilter("ignore", DeprecationWarning)
            values = np.fromstring(" ".join(rests), dtype=np.float32, sep=" ")  # C speed: 40 million numbers/seconds
    except ValueError:
        values = np.zeros(0, dtype=np.float32)
    if values.size != len(words) * dim:
        _raise_bad_row(path, start, words, rests, dim)
    if header is not None and header != (len(words), dim):
        raise DataError(f"{path}: its first line says {header[0]} words of {header[1]} numbers, but it holds "
                        f"{len(words)} words of {dim}; the file is truncated or not in the word2vec text format")
    if header is not None:
        log.info("%s: read the word2vec header line '%d %d'", path, *header)
    return {"tokens": words, "vectors": torch.from_numpy(values.reshape(len(words), dim))}


def _raise_bad_row(path: Path, start: int, words: list[str], rests: list[str], dim: int) -> None:
    for number, (word, rest) in enumerate(zip(words, rests), start=start + 1):
        fields = rest.split()
        try:
            [float(v) for v in fields]
        except ValueError:
            raise DataError(f"{path}, line {number}: {word!r} has a value that is not a number; expected "
                            f"'word v1 ... v{dim}'") from None
        if len(fields) != dim:
            raise DataError(f"{path}, line {number}: {word!r} has {len(fields)} numbers, the first line "
                            f"{dim}; every line must hold a word and {dim} numbers") from None
    raise DataError(f"{path} could not be parsed as word vectors")


def write_vector_file(path: str | os.PathLike[str], tokens: Sequence[str], vectors: torch.Tensor,
                      header: bool = False) -> Path:
    """Write ``tokens`` and ``vectors`` in the GloVe text format (word2vec's with ``header``), atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        if header:
            f.write(f"{len(tokens)} {vectors.shape[1]}\n")
        for token, row in zip(tokens, vectors.tolist()):
            f.write(token + " " + " ".join(f"{v:.6g}" for v in row) + "\n")
    return Path(path)
