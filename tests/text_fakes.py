"""Small text files in their real formats: a ``ptb.zip`` (``ptb/ptb.{train,valid,test}.txt``, one sentence a line)
and word vectors in the GloVe text format (and d2l's GloVe zip layout, ``glove.6B.50d/vec.txt``) whose vectors are
built so that the book's similar-word and analogy examples (10.6) have determined answers."""

from __future__ import annotations

import math
import random
import zipfile
from pathlib import Path

import pytest
import torch

#: words of the fake PTB, the first ones most frequent (Zipf-like counts), with the book's probe words among them
PTB_WORDS = ["the", "<unk>", "N", "of", "to", "a", "in", "and", "chip", "intel", "market", "stock", "join", "computer",
             "maker", "price", "share", "company", "year", "new", "drives", "hard-disk", "says", "was"]


def ptb_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` sentences of 1 to 25 words drawn with weights 1/rank, so the top words pass min_count=5 easily."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(PTB_WORDS))]
    lengths = [rng.randint(1, 25) for _ in range(n)]
    return [" ".join(rng.choices(PTB_WORDS, weights, k=k)) for k in lengths]


def write_ptb_zip(path: Path, n_train: int = 300, n_valid: int = 40, n_test: int = 40) -> Path:
    """A zip in the real layout (a ``ptb/`` folder, lines starting with a space as the real files do)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ptb/", "")
        for split, n, seed in (("train", n_train, 0), ("valid", n_valid, 1), ("test", n_test, 2)):
            zf.writestr(f"ptb/ptb.{split}.txt", "".join(f" {s} \n" for s in ptb_sentences(n, seed)))
    return path


def install_ptb(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datamodules.ptb as mod
    from tests.fakes import point_resource_at  # here: tests.fakes imports this module

    path = write_ptb_zip(root / mod.PTB.filename)
    point_resource_at(monkeypatch, mod, "PTB", path)


# ------------------------------------------------------------------ word vectors with determined answers
#: (query, [(neighbour, cosine), ...]): the book's printed neighbours on glove.6B.50d (10.6.2.1)
BOOK_SIMILAR = {
    "chip": [("chips", 0.856), ("intel", 0.749), ("electronics", 0.748)],
    "baby": [("babies", 0.839), ("boy", 0.800), ("girl", 0.792)],
    "beautiful": [("lovely", 0.921), ("gorgeous", 0.893), ("wonderful", 0.830)],
}
#: a : b :: c : d, the book's four analogies (10.6.2.2)
BOOK_ANALOGIES = [("man", "woman", "son", "daughter"), ("beijing", "china", "tokyo", "japan"),
                  ("bad", "worst", "big", "biggest"), ("do", "did", "go", "went")]


def book_vectors(dim: int = 50, distractors: int = 40, seed: int = 0) -> tuple[list[str], torch.Tensor]:
    """Words and vectors on which the book's examples come out exactly as printed.

    Each query word is a basis vector and each neighbour has the printed cosine with it (the rest of its length in a
    direction of its own); each analogy is a = x + p, b = x + q, c = y + p, d = y + q with x, y, p, q orthonormal, so
    vec(b) - vec(a) + vec(c) = vec(d). Distractors are small random vectors.
    """
    basis = iter(range(dim))
    rows: dict[str, torch.Tensor] = {}

    def unit() -> torch.Tensor:
        return torch.eye(dim)[next(basis)]

    for query, neighbours in BOOK_SIMILAR.items():
        rows[query] = unit()
        for word, cosine in neighbours:
            rows[word] = cosine * rows[query] + math.sqrt(1 - cosine**2) * unit()
    for a, b, c, d in BOOK_ANALOGIES:
        x, y, p, q = unit(), unit(), unit(), unit()
        rows.update({a: x + p, b: x + q, c: y + p, d: y + q})
    generator = torch.Generator().manual_seed(seed)
    for i in range(distractors):
        rows[f"word{i}"] = 0.3 * torch.randn(dim, generator=generator)
    return list(rows), torch.stack(list(rows.values()))


def write_vector_text(path: Path, tokens: list[str], vectors: torch.Tensor, header: bool = False) -> Path:
    """The GloVe text format, written independently of the zoo's writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{len(tokens)} {vectors.shape[1]}"] if header else []
    lines += [" ".join([t, *(f"{v:.6f}" for v in row)]) for t, row in zip(tokens, vectors.tolist())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_glove_zip(path: Path, name: str = "glove.6B.50d") -> Path:
    """d2l's layout: ``<name>/vec.txt`` inside ``<name>.zip``."""
    tokens, vectors = book_vectors()
    text = path.parent / "vec.txt"
    write_vector_text(text, tokens, vectors)
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(text, f"{name}/vec.txt")
    text.unlink()
    return path
