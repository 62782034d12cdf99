"""Cross-correlation written out as the book defines it (10.8.1), for checking and teaching; ``nn.Conv1d`` computes
the same thing (tests/test_text_classifiers.py compares them).
"""

from __future__ import annotations

import torch

__all__ = ["corr1d", "corr1d_multi_in"]


def corr1d(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """One-dimensional cross-correlation: ``y[i] = sum_j x[i + j] k[j]``; (n,) and (w,) -> (n - w + 1,)."""
    w = k.shape[0]
    windows = x.float().unfold(0, w, 1)  # (n - w + 1, w): every window of x
    return windows @ k.float()


def corr1d_multi_in(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Several input channels: correlate each channel with its kernel and add (book 10.8.1); (c, n), (c, w)."""
    return torch.stack([corr1d(xc, kc) for xc, kc in zip(x, k)]).sum(dim=0)
