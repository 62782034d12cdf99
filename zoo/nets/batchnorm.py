"""Batch normalisation from scratch (book 5.10.2; Ioffe & Szegedy 2015, https://arxiv.org/abs/1502.03167).

`BatchNorm` computes the same outputs, gradients and running statistics as ``nn.BatchNorm1d`` (2-D input, per
feature) and ``nn.BatchNorm2d`` (4-D input, per channel), in training and in evaluation mode, and its state dict
has the same keys, so weights move freely between the two. Three details differ from the book's code, all so that
it equals PyTorch's layer:

* momentum: the book writes ``moving = momentum * moving + (1 - momentum) * batch`` with ``momentum=0.9``; PyTorch
  writes ``running = (1 - m) * running + m * batch`` with ``m=0.1``. This module keeps the book's convention, so
  ``BatchNorm(c, momentum=0.9)`` equals ``nn.BatchNorm2d(c, momentum=0.1)``.
* the running variance is updated with the unbiased batch variance (``n / (n - 1)`` times the biased one that
  normalises the batch), as PyTorch does; the book uses the biased one.
* the running variance starts at 1 (the book: 0), and gamma/beta are called ``weight``/``bias``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["BatchNorm", "batch_norm"]


def batch_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, running_mean: torch.Tensor,
               running_var: torch.Tensor, training: bool, momentum: float = 0.9, eps: float = 1e-5) -> torch.Tensor:
    """Normalise ``x`` (B, C) per feature or (B, C, H, W) per channel; in training, update the running stats in place.

    Training uses the batch mean and biased variance; evaluation uses ``running_mean``/``running_var``. The output
    is ``weight * x_hat + bias`` (gamma and beta of the book).
    """
    if x.dim() == 2:
        dims, shape = (0,), (1, -1)
    elif x.dim() == 4:
        dims, shape = (0, 2, 3), (1, -1, 1, 1)
    else:
        raise ValueError(f"batch_norm takes (B, C) or (B, C, H, W) input, got shape {tuple(x.shape)}")
    if training:
        count = x.numel() // x.shape[1]  # values per feature/channel
        if count < 2:
            raise ValueError(f"batch_norm needs more than 1 value per channel when training, got input "
                             f"{tuple(x.shape)}")
        mean = x.mean(dim=dims)  # (C,)
        var = ((x - mean.view(shape)) ** 2).mean(dim=dims)  # (C,), biased: what normalises the batch
        with torch.no_grad():
            running_mean.mul_(momentum).add_((1.0 - momentum) * mean)
            running_var.mul_(momentum).add_((1.0 - momentum) * var * count / (count - 1))
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
    return weight.view(shape) * x_hat + bias.view(shape)


class BatchNorm(nn.Module):
    """Batch normalisation over features (``num_dims=2``, after a linear layer) or channels (``num_dims=4``).

    Args:
        num_features: outputs of the previous linear layer, or channels of the previous conv layer.
        num_dims: 2 for (B, C) input, 4 for (B, C, H, W) input (the book's argument).
        eps: added to the variance (book and PyTorch: 1e-5).
        momentum: weight of the old running statistic, the book's convention (0.9 = PyTorch's 0.1).
    """

    def __init__(self, num_features: int, num_dims: int = 4, eps: float = 1e-5, momentum: float = 0.9) -> None:
        super().__init__()
        if num_dims not in (2, 4):
            raise ValueError(f"num_dims must be 2 (after a linear layer) or 4 (after a conv layer), got {num_dims}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1] (book convention: weight of the old value), got {momentum}")
        self.num_features, self.num_dims, self.eps, self.momentum = num_features, num_dims, eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))  # gamma
        self.bias = nn.Parameter(torch.zeros(num_features))  # beta
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != self.num_dims:
            raise ValueError(f"BatchNorm(num_dims={self.num_dims}) got a {x.dim()}-D input of shape {tuple(x.shape)}")
        if self.training:
            self.num_batches_tracked.add_(1)
        return batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, self.training,
                          self.momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, num_dims={self.num_dims}, eps={self.eps}, momentum={self.momentum}"
