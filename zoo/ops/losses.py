"""Losses and the softmax of book chapter 3, written from the book's formulas and kept numerically stable.

The book's from-scratch softmax regression returns ``softmax(X W + b)`` and its loss is ``-log(y_hat.gather(1, y))``.
Both overflow or take ``log(0)`` for large logits (``exp(1000)`` is ``inf``), a problem the book itself raises in
3.7.2. Here `cross_entropy` works from logits in log space with the max subtracted first (the log-sum-exp trick),
which gives the same numbers where the book's version is finite and stays finite elsewhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["cross_entropy", "log_softmax", "masked_sigmoid_bce", "softmax", "squared_loss"]


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean of ``(y_hat - y)^2 / 2`` over the batch (book 3.2.5's ``squared_loss``, averaged)."""
    return ((y_hat - y.view_as(y_hat)) ** 2 / 2).mean()


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """log softmax over the last dimension: ``o - max(o) - log(sum(exp(o - max(o))))``; every exp is <= 1."""
    shifted = logits - logits.max(dim=-1, keepdim=True).values
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def softmax(logits: torch.Tensor) -> torch.Tensor:
    """``exp(o_j) / sum_k exp(o_k)`` over the last dimension (book 3.6.3), with the max subtracted for stability."""
    shifted = (logits - logits.max(dim=-1, keepdim=True).values).exp()
    return shifted / shifted.sum(dim=-1, keepdim=True)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean of ``-log softmax(o)[y]`` over the batch (book 3.6.4), computed from logits (B, K) and labels (B,)."""
    picked = log_softmax(logits).gather(1, labels.long().unsqueeze(1))  # (B, 1)
    return -picked.mean()


def masked_sigmoid_bce(scores: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-example sigmoid binary cross-entropy over the unmasked positions (book 10.3.5.1), shape (B,).

    ``scores``, ``labels`` and ``mask`` are (B, L); positions with mask 0 (padding) count for nothing. The book takes
    the mean over all L positions with the masked ones weighted 0, then rescales by ``L / mask.sum()``: the mean over
    the unmasked positions, which this computes directly. Its sanity check: scores [[1.5, 0.3, -1, 2], [1.1, -0.6,
    2.2, 0.4]], labels [[1, 0, 0, 0], [1, 1, 0, 0]], mask [[1, 1, 1, 1], [1, 1, 1, 0]] give [0.8740, 1.2100].
    """
    mask = mask.to(scores.dtype)
    losses = F.binary_cross_entropy_with_logits(scores, labels.to(scores.dtype), weight=mask, reduction="none")
    return losses.sum(dim=1) / mask.sum(dim=1)
