"""Multilayer perceptrons of book chapter 3: 3.9 (from scratch), 3.10 (concise) and 3.13 (dropout).

From-scratch pieces (``impl="scratch"``): `ScratchLinear` (``X @ W + b``), `relu` (``max(X, 0)``) and `dropout`.

Dropout (3.13.2) keeps each unit with probability ``1 - p`` and scales the survivors by ``1 / (1 - p)`` so that the
expectation is unchanged; in evaluation it is the identity. The mask is drawn from a **uniform** distribution,
``rand < 1 - p``. The book's code draws it with ``torch.randn`` (a standard normal), so its real drop rate is
``P(N(0,1) >= 1 - p)``: 0.21 instead of 0.2 and 0.31 instead of 0.5, while still scaling by ``1 / (1 - p)``. The
printed results of 3.13 come from that bug; this module does not copy it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.nets.layers import BiasInit, LayerImpl, ScratchLinear, check_layer_impl, init_normal_

__all__ = ["MLPNet", "ScratchDropout", "ScratchReLU", "dropout", "relu"]


def relu(x: torch.Tensor) -> torch.Tensor:
    """``max(x, 0)`` elementwise (book 3.9.2)."""
    return torch.max(x, torch.zeros_like(x))


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """Inverted dropout (book 3.13.2) with a uniform mask: each element is zeroed with probability ``p``.

    Survivors are divided by ``1 - p``; ``training=False`` returns ``x`` unchanged.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    keep = 1.0 - p
    mask = (torch.rand_like(x) < keep).to(x.dtype)
    return mask * x / keep


class ScratchReLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return relu(x)


class ScratchDropout(nn.Module):
    """`dropout` as a module: active in ``train()`` mode, the identity in ``eval()`` mode (like ``nn.Dropout``)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MLPNet(nn.Module):
    """Flatten, then ``Linear -> ReLU [-> Dropout]`` per hidden layer, then a linear head; returns logits.

    Args:
        num_inputs: pixels per image (book: 784).
        hidden_sizes: width of each hidden layer (book 3.9: ``[256]``; 3.13: ``[256, 256]``).
        num_classes: output classes.
        dropout: drop probability after each hidden layer (book 3.13: ``[0.2, 0.5]``); empty for none, or one
            value per hidden layer.
        impl: ``"scratch"`` (hand-written linear, ReLU and dropout) or ``"nn"`` (``nn.Linear``/``nn.ReLU``/
            ``nn.Dropout``).
        init_std: weights from N(0, init_std) (book: 0.01); ``None`` keeps PyTorch's default.
        init_bias: ``"zeros"`` (3.9, 3.13 from scratch) or ``"normal"`` (3.10, 3.13 concise initialise every
            parameter from N(0, 0.01)).
    """

    def __init__(self, num_inputs: int = 784, hidden_sizes: Sequence[int] = (256,), num_classes: int = 10,
                 dropout: Sequence[float] = (), impl: LayerImpl = "scratch", init_std: float | None = 0.01,
                 init_bias: BiasInit = "zeros") -> None:
        super().__init__()
        check_layer_impl(impl)
        hidden_sizes, dropout = list(hidden_sizes), list(dropout)
        if dropout and len(dropout) != len(hidden_sizes):
            raise ValueError(f"dropout needs one probability per hidden layer ({len(hidden_sizes)}), got {dropout}")
        linear = ScratchLinear if impl == "scratch" else nn.Linear
        layers: list[nn.Module] = [nn.Flatten()]  # (B, C, H, W) -> (B, C*H*W)
        width = num_inputs
        for i, size in enumerate(hidden_sizes):
            layers += [linear(width, size), ScratchReLU() if impl == "scratch" else nn.ReLU()]
            if dropout:
                layers.append(ScratchDropout(dropout[i]) if impl == "scratch" else nn.Dropout(dropout[i]))
            width = size
        self.features = nn.Sequential(*layers)  # (B, C, H, W) -> (B, hidden_sizes[-1])
        self.head = linear(width, num_classes)
        if init_std is not None:
            init_normal_(self, init_std, init_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, num_classes)
        return self.head(self.features(x))
