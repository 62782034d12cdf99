"""Softmax regression (book 3.4, 3.6 from scratch, 3.7 concise) with a numerically stable softmax and cross-entropy.

The book's from-scratch model returns ``softmax(X W + b)`` and its loss is ``-log(y_hat.gather(1, y))``. Both
overflow or take ``log(0)`` for large logits (``exp(1000)`` is ``inf``), a problem the book itself raises in 3.7.2.
Here the network returns logits and `cross_entropy` works in log space with the max subtracted first (the
log-sum-exp trick), which gives the same numbers where the book's version is finite and stays finite elsewhere.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from zoo.nets.layers import BiasInit, ScratchLinear, init_normal_

__all__ = ["Impl", "SoftmaxRegressionNet", "cross_entropy", "log_softmax", "softmax"]

Impl = Literal["scratch", "nn"]


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


def _check_impl(impl: str) -> None:
    if impl not in ("scratch", "nn"):
        raise ValueError(f"unknown impl {impl!r}; choose 'scratch' (the book's hand-written layers) or 'nn'")


class SoftmaxRegressionNet(nn.Module):
    """One linear layer from flattened pixels to class scores; returns logits (B, num_classes).

    Args:
        num_inputs: pixels per image (book: 784 = 1x28x28).
        num_classes: output classes (book: 10).
        impl: ``"scratch"`` (``X @ W + b`` with W of shape (784, 10), book 3.6) or ``"nn"`` (``nn.Linear``, 3.7).
        init_std: weights drawn from N(0, init_std) (book: 0.01); ``None`` keeps PyTorch's default.
        init_bias: ``"zeros"`` (book) or ``"normal"`` (N(0, init_std)).
    """

    def __init__(self, num_inputs: int = 784, num_classes: int = 10, impl: Impl = "scratch",
                 init_std: float | None = 0.01, init_bias: BiasInit = "zeros") -> None:
        super().__init__()
        _check_impl(impl)
        self.features = nn.Flatten()  # (B, C, H, W) -> (B, C*H*W)
        self.head = ScratchLinear(num_inputs, num_classes) if impl == "scratch" else nn.Linear(num_inputs, num_classes)
        if init_std is not None:
            init_normal_(self, init_std, init_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, num_classes)
        return self.head(self.features(x))
