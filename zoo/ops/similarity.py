"""Nearest words by cosine similarity (book 10.3.6 and 10.6.2): the `knn` behind ``similar`` and ``analogy``.

The book adds 1e-9 under the square root of the rows' squared norms "for numerical stability" (10.6.2.1,
``knn``), so a zero row (a word with no vector) has similarity 0 instead of a division by zero. A row whose
similarity is not a number (a NaN or infinite value in it) is never ranked, and a query that is zero or not finite
(no direction to compare with) is refused.
"""

from __future__ import annotations

import torch

from zoo.errors import ConfigError

__all__ = ["cosine_knn", "cosine_similarity"]


def cosine_similarity(matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Cosine of every row of ``matrix`` (V, D) with ``x`` (D,): (V,), as the book's ``knn`` computes it."""
    x = x.reshape(-1).to(matrix.dtype)
    return matrix @ x / ((matrix * matrix).sum(dim=1) + 1e-9).sqrt() / (x * x).sum().sqrt()


def cosine_knn(matrix: torch.Tensor, x: torch.Tensor, k: int,
               exclude: torch.Tensor | None = None) -> tuple[list[int], list[float]]:
    """Indices and cosines of the ``k`` rows most similar to ``x``, most similar first; rows in ``exclude`` and rows
    whose cosine is not finite are skipped, so fewer than ``k`` come back when fewer rows remain. `ConfigError` for a
    query ``x`` that is zero or not finite."""
    x = x.reshape(-1)
    if not bool(torch.isfinite(x).all()):
        raise ConfigError("the query vector has NaN or infinite values; it cannot be compared by cosine")
    if not bool(x.any()):
        raise ConfigError("the query vector is zero: it has no direction to compare by cosine")
    cos = cosine_similarity(matrix, x)  # (V,)
    cos = torch.where(torch.isfinite(cos), cos, torch.full_like(cos, float("-inf")))  # NaN rows are never ranked
    if exclude is not None and len(exclude):
        cos = cos.index_fill(0, exclude.long(), float("-inf"))
    k = min(k, int(torch.isfinite(cos).sum()))
    values, indices = torch.topk(cos, k=k)
    return indices.tolist(), values.tolist()
