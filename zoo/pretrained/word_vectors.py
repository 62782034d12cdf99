"""Pretrained word vectors (book 10.6): GloVe by name, any file in the GloVe text format, or a zoo word2vec checkpoint,
with ``similar``, ``analogy`` and lookups for a model's vocabulary.

    vectors = WordVectors.load("glove.6B.50d")        # d2l's GloVe zip, through the zoo's data layer
    vectors = WordVectors.load("my_vectors.txt")      # a local file: "word v1 v2 ... vD" a line
    vectors = WordVectors.load("runs/skipgram_ptb/version_0/checkpoints/last.ckpt")   # trained by the zoo
    vectors.similar("chip", 3)                         # [("chips", 0.856), ("intel", 0.749), ...] on glove.6B.50d
    vectors.analogy("man", "woman", "son")             # [("daughter", ...)]

GloVe comes as d2l hosts it (``glove.6B.50d.zip`` / ``glove.6B.100d.zip``, each a folder with ``vec.txt``), fetched
like every dataset: the cache folder, ``$ZOO_DATA_MIRROR``, the public URL, sha1-checked, with one clear error
offline. A text file is parsed once and cached in the zoo's cache folder, keyed on its content
(`datamodules.vector_files`): 400,000 x 100 floats load in seconds after the first time.

The text format: one word and its D numbers a line, separated by spaces (GloVe); the word2vec text format's first
line "<count> <dimension>" is accepted and checked; NaN or infinite values are refused, a repeated word keeps its first
row (with a warning). Unknown words follow a stated policy (`Unknown`).

Queries: a query whose vector is zero (or not finite) has no direction and is refused; a row that is not finite is
never ranked; when fewer words than asked can answer, the answers there are come back (``similar -k 5`` on a file
of three words gives two), and none at all is an error.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch

from datamodules.download import Resource, cache_root, ensure_extracted, fetch
from datamodules.vector_files import read_vector_file, vector_file_in_zip, write_vector_file
from zoo.errors import ConfigError
from zoo.ops.similarity import cosine_knn

__all__ = ["GLOVE", "Unknown", "WordVectors", "write_vector_file"]

log = logging.getLogger(__name__)

#: d2l's GloVe copies (the sha1s d2l publishes); resolved lazily to `datamodules.download.Resource`s.
GLOVE = {
    "glove.6B.50d": ("glove.6B.50d.zip", "http://d2l-data.s3-accelerate.amazonaws.com/glove.6B.50d.zip",
                     "0b8703943ccdb6eb788e6f091b8946e82231bc4d"),
    "glove.6B.100d": ("glove.6B.100d.zip", "http://d2l-data.s3-accelerate.amazonaws.com/glove.6B.100d.zip",
                      "cd43bfb07e44e6f27cbcc7bc9ae3d80284fdaf5a"),
}


#: A word without a vector: ``error`` refuses it, ``zero`` gives the zero vector (book 10.7's
#: ``load_pretrained_embedding``), ``random`` a draw from N(0, std of all vectors) (seeded), ``skip`` leaves it out.
Unknown = Literal["error", "zero", "random", "skip"]


class WordVectors:
    """Words and their vectors (V, D); index = row.

    Args:
        tokens: the words, in row order.
        vectors: float tensor (V, D).
        name: where they came from, for messages.
    """

    def __init__(self, tokens: Sequence[str], vectors: torch.Tensor, name: str = "word vectors") -> None:
        if vectors.ndim != 2 or vectors.shape[0] != len(tokens):
            raise ConfigError(f"{name}: {len(tokens)} words but vectors of shape {tuple(vectors.shape)}")
        self.tokens = list(tokens)
        self.vectors = vectors.float()
        self.name = name
        self.index: dict[str, int] = {}
        for i, token in enumerate(self.tokens):
            self.index.setdefault(token, i)  # a repeated word keeps its first vector

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    # ------------------------------------------------------------- loading
    @classmethod
    def load(cls, source: str | os.PathLike[str], data_dir: str | None = None) -> WordVectors:
        """A GloVe name (``glove.6B.50d``, ``glove.6B.100d``), a vector text file, or a zoo word2vec checkpoint."""
        text = str(source)
        if text in GLOVE:
            return cls.from_glove(text, data_dir)
        path = Path(text).expanduser()
        if not path.is_file():
            raise ConfigError(f"no word vectors {text!r}: not a known name ({', '.join(GLOVE)}) and no such file")
        if path.suffix == ".ckpt":
            return cls.from_checkpoint(path)
        return cls.from_file(path, data_dir=data_dir)

    @classmethod
    def from_glove(cls, name: str, data_dir: str | None = None) -> WordVectors:
        """d2l's GloVe zip through the data layer (cache, mirror, URL, sha1), unpacked safely once."""
        if name not in GLOVE:
            raise ConfigError(f"unknown GloVe vectors {name!r}; known: {', '.join(GLOVE)}")
        filename, url, sha1 = GLOVE[name]
        root = cache_root(data_dir)
        archive = fetch(Resource(filename, (url,), sha1), root)
        extracted = ensure_extracted(archive, root, vector_file_in_zip(archive))
        tokens, vectors = read_vector_file(extracted, cache=extracted.with_name(extracted.name + ".pt"))  # zoo's folder
        return cls(tokens, vectors, name)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], name: str | None = None,
                  data_dir: str | None = None) -> WordVectors:
        """A file in the GloVe (or word2vec) text format, parsed once and then read from its cache in the zoo's
        cache folder (``data_dir``, else ``$ZOO_DATA_DIR`` or ``~/.cache/lightning-zoo``), keyed on its content."""
        tokens, vectors = read_vector_file(path, data_dir)
        return cls(tokens, vectors, name or str(path))

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str]) -> WordVectors:
        """The word vectors of a zoo word-embedding checkpoint (``skipgram_ptb``), read straight from the file:
        the vocabulary from its hyperparameters and the table its ``zoo_word_vectors`` entry names (the centre
        embedding), after the digest check. No model is built, so a 10,000-word checkpoint answers at once."""
        from zoo.io.checkpoints import WORD_VECTORS_KEY, read_header, verify_digest

        header = read_header(path)
        verify_digest(header, path, note=False)
        vocab = (header.get("hyper_parameters") or {}).get("vocab")
        key = header.get(WORD_VECTORS_KEY, "net.center.weight")  # checkpoints written before the entry existed
        table = (header.get("state_dict") or {}).get(key)
        if not isinstance(vocab, (list, tuple)) or not isinstance(table, torch.Tensor) or table.ndim != 2:
            recorded = str(header.get("zoo_class", "an unknown class")).partition(":")[2] or "an unknown class"
            raise ConfigError(f"{path} holds a {recorded}, which has no word vectors; give a checkpoint of a "
                              "word-embedding model (skipgram_ptb) or a vector file")
        return cls(list(vocab), table.detach().float().clone(), str(path))

    # ------------------------------------------------------------- queries (book 10.6.2)
    def _row(self, word: str) -> int:
        if not isinstance(word, str) or not word.strip():
            raise ConfigError("the query is empty; give a word")
        if word not in self.index:
            hint = f" (it has {word.lower()!r})" if word.lower() in self.index and word != word.lower() else ""
            raise ConfigError(f"{word!r} is not among the {len(self):,} words of {self.name}{hint}")
        return self.index[word]

    def _query(self, x: torch.Tensor, what: str) -> torch.Tensor:
        """``x`` if it can be compared by cosine: not zero (no direction) and finite; else `ConfigError`."""
        if not bool(torch.isfinite(x).all()):
            raise ConfigError(f"{what} has NaN or infinite values in {self.name}; it cannot be compared with other "
                              "words")
        if not bool(x.any()):
            raise ConfigError(f"{what} is the zero vector in {self.name}: it has no direction, so no word is nearer "
                              "to it than another")
        return x

    def _answers(self, x: torch.Tensor, k: int, exclude: list[int], what: str) -> list[tuple[str, float]]:
        indices, cosines = cosine_knn(self.vectors, x, k, exclude=torch.tensor(exclude))
        if not indices:
            others = len(self) - len(set(exclude))
            raise ConfigError(f"no word of {self.name} can answer {what}: it holds {len(self):,} word"
                              f"{'s' if len(self) != 1 else ''}, {others:,} besides the query")
        return [(self.tokens[i], c) for i, c in zip(indices, cosines)]

    def similar(self, word: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` words closest to ``word`` by cosine similarity, the word left out (book 10.3.6, 10.6.2.1); fewer
        when fewer words can answer (`ConfigError` when none can, or when ``word``'s vector is zero)."""
        if k < 1:
            raise ConfigError(f"k must be >= 1, got {k}")
        row = self._row(word)
        x = self._query(self.vectors[row], f"the vector of {word!r}")
        return self._answers(x, k, [row], f"the neighbours of {word!r}")

    def analogy(self, a: str, b: str, c: str, k: int = 1, exclude_query: bool = True) -> list[tuple[str, float]]:
        """``a : b :: c : ?``: the words closest to vec(b) - vec(a) + vec(c) (book 10.6.2.2).

        ``exclude_query`` leaves out ``a``, ``b`` and ``c`` themselves, which the book's ``get_analogy`` does not (on
        GloVe its four examples give the same answers either way).
        """
        if k < 1:
            raise ConfigError(f"k must be >= 1, got {k}")
        rows = [self._row(w) for w in (a, b, c)]
        x = self.vectors[rows[1]] - self.vectors[rows[0]] + self.vectors[rows[2]]
        x = self._query(x, f"vec({b!r}) - vec({a!r}) + vec({c!r})")
        return self._answers(x, k, rows if exclude_query else [], f"{a} : {b} :: {c} : ?")

    # ------------------------------------------------------------- for models
    def lookup(self, words: Sequence[str], unknown: Unknown = "error", seed: int = 0) -> torch.Tensor:
        """The vectors of ``words`` (N, D), unknown words handled as ``unknown`` says (`Unknown`)."""
        return self.embedding_for(words, unknown, seed)[0]

    def embedding_for(self, words: Sequence[str], unknown: Unknown = "zero",
                      seed: int = 0) -> tuple[torch.Tensor, int]:
        """(vectors of ``words`` (N, D), how many were found): the rows of a model's embedding, in its vocabulary's
        order (book 10.7.2.2; the book meant to count the words without a vector and never did)."""
        if unknown not in ("error", "zero", "random", "skip"):
            raise ConfigError(f"unknown-word policy must be error, zero, random or skip, got {unknown!r}")
        found = [self.index.get(w) for w in words]
        missing = [w for w, i in zip(words, found) if i is None]
        if missing and unknown == "error":
            raise ConfigError(f"{len(missing):,} of {len(words):,} words have no vector in {self.name}, e.g. "
                              f"{', '.join(repr(w) for w in missing[:5])}")
        if unknown == "skip":
            found = [i for i in found if i is not None]
        out = torch.zeros(len(found), self.dim)
        hit = torch.tensor([i is not None for i in found], dtype=torch.bool)
        if hit.any():
            out[hit] = self.vectors[torch.tensor([i for i in found if i is not None])]
        if unknown == "random" and (~hit).any():
            generator = torch.Generator().manual_seed(seed)
            out[~hit] = torch.randn(int((~hit).sum()), self.dim, generator=generator) * float(self.vectors.std())
        return out, int(hit.sum())

    def save(self, path: str | os.PathLike[str], header: bool = False) -> Path:
        """Write the GloVe text format (with ``header``, word2vec's: a first line "<count> <dimension>")."""
        return write_vector_file(path, self.tokens, self.vectors, header)
