"""Word-vector files in the GloVe text format (one word and its D numbers a line; word2vec's text format, with a
first line "<count> <dimension>", is accepted and checked): reading them fast, with a decoded cache, and writing them.

A text file is parsed once and cached as a tensor file (`datamodules.cache`) in the zoo's own cache folder,
``<cache>/word-vectors/<name>-<digest of its path>.pt`` (``<cache>``: the ``data_dir`` given, else ``$ZOO_DATA_DIR``,
else ``~/.cache/lightning-zoo``), never beside the file: a user's ``mine.txt.pt`` is not the zoo's to replace. The
cache is keyed on the file's content (its SHA-256), so any edit, even one that keeps the size and modification time,
is parsed again: 400,000 x 100 floats load in seconds after the first time.

What a file may hold: a UTF-8 byte-order mark is skipped; a word given twice keeps its first row (the later ones are
left out, with a warning naming the lines, at every load); a value that is NaN or infinite is refused, naming the word
and the line (a NaN row would rank first in every cosine query). `zoo.pretrained.word_vectors.WordVectors` is the class
that queries them (``similar``, ``analogy``); this module only reads and writes the files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from datamodules.cache import load_cached
from datamodules.download import cache_root
from zoo.errors import DataError
from zoo.files import atomic_path

__all__ = ["CACHE_FOLDER", "CACHE_VERSION", "parse_vector_file", "read_vector_file", "vector_cache_path",
           "vector_file_in_zip", "write_vector_file"]

log = logging.getLogger(__name__)

CACHE_VERSION = 2  # 2: duplicates recorded, non-finite values refused
#: the folder of the parsed vector files, inside the data cache
CACHE_FOLDER = "word-vectors"


def vector_cache_path(path: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the parsed copy of the vector file ``path`` is cached: a name of the zoo's own in its cache folder
    (`cache_root`), one per source file (the digest of its absolute path), so it never stands beside the file."""
    source = Path(path).expanduser().resolve()
    tag = hashlib.sha256(str(source).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return cache_root(data_dir) / CACHE_FOLDER / f"{source.name}-{tag}.pt"


def read_vector_file(path: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None,
                     cache: str | os.PathLike[str] | None = None) -> tuple[list[str], torch.Tensor]:
    """(words, vectors (V, D) float32) of a vector text file, parsed once and then read from its cache
    (`vector_cache_path`, or ``cache`` when the caller owns a place for it), which is keyed on the file's content."""
    path = Path(path)
    where = Path(cache) if cache is not None else vector_cache_path(path, data_dir)
    data = load_cached(where, [path], lambda: parse_vector_file(path), CACHE_VERSION, by_content=True)
    _warn_duplicates(path, data.get("duplicates") or [])
    return data["tokens"], data["vectors"]


def _warn_duplicates(path: Path, duplicates: list[tuple[str, int, int]]) -> None:
    """Say which rows of a word given more than once were left out (the first row wins)."""
    if not duplicates:
        return
    shown = "; ".join(f"{word!r} on lines {first} and {line}" for word, first, line in duplicates[:3])
    more = f" (and {len(duplicates) - 3:,} more)" if len(duplicates) > 3 else ""
    log.warning("%s: %s row%s repeat%s an earlier word: %s%s; the first row of each word is used, the later ones are "
                "left out", path, f"{len(duplicates):,}", "s" if len(duplicates) > 1 else "",
                "" if len(duplicates) > 1 else "s", shown, more)


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
    """Words and vectors of a GloVe/word2vec text file; `DataError` naming the first line that is wrong.

    A byte-order mark is skipped; a repeated word keeps its first row and the later rows are listed in
    ``duplicates`` as (word, first line, repeated line); a NaN or infinite value is refused with its word and line.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a byte-order mark is not part of the first word
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
    words, rests, numbers = [], [], []
    for number, line in enumerate(lines[start:], start=start + 1):
        word, _, rest = line.strip().partition(" ")
        if word:
            words.append(word)
            rests.append(rest)
            numbers.append(number)
    if not words:
        raise DataError(f"{path} holds no vectors")
    dim = len(rests[0].split())
    if dim < 1:
        raise DataError(f"{path}, line {numbers[0]}: {words[0]!r} has no numbers; expected 'word v1 v2 ... vD'")
    try:
        with warnings.catch_warnings():  # a value that is not a number stops the parse early (a warning or an error)
            warnings.simplefilter("ignore", DeprecationWarning)
            values = np.fromstring(" ".join(rests), dtype=np.float32, sep=" ")  # C speed: 40 million numbers/seconds
    except ValueError:
        values = np.zeros(0, dtype=np.float32)
    if values.size != len(words) * dim:
        _raise_bad_row(path, numbers, words, rests, dim)
    if header is not None and header != (len(words), dim):
        raise DataError(f"{path}: its first line says {header[0]} words of {header[1]} numbers, but it holds "
                        f"{len(words)} words of {dim}; the file is truncated or not in the word2vec text format")
    if header is not None:
        log.info("%s: read the word2vec header line '%d %d'", path, *header)
    matrix = values.reshape(len(words), dim)
    finite = np.isfinite(matrix).all(axis=1)  # (V,)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        value = matrix[row][~np.isfinite(matrix[row])][0]
        raise DataError(f"{path}, line {numbers[row]}: {words[row]!r} has the value {value} (every value must be a "
                        "finite number); fix or remove that line")
    seen: dict[str, int] = {}
    keep, duplicates = [], []
    for i, word in enumerate(words):
        if word in seen:
            duplicates.append((word, numbers[seen[word]], numbers[i]))
        else:
            seen[word] = i
            keep.append(i)
    if duplicates:
        matrix = matrix[keep]
        words = [words[i] for i in keep]
    return {"tokens": words, "vectors": torch.from_numpy(np.ascontiguousarray(matrix)), "duplicates": duplicates}


def _raise_bad_row(path: Path, numbers: list[int], words: list[str], rests: list[str], dim: int) -> None:
    for number, word, rest in zip(numbers, words, rests):
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
