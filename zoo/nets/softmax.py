"""Softmax regression (book 3.4, 3.6 from scratch, 3.7 concise).

The network returns logits, not the book's ``softmax(X W + b)``: the from-scratch loss is `zoo.ops.losses
.cross_entropy`, a numerically stable form of the book's ``-log(y_hat.gather(1, y))``.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.nets.layers import BiasInit, LayerImpl, ScratchLinear, check_layer_impl, init_normal_

__all__ = ["SoftmaxRegressionNet"]


class SoftmaxRegressionNet(nn.Module):
    """One linear layer from flattened pixels to class scores; returns logits (B, num_classes).

    Args:
        num_inputs: pixels per image (book: 784 = 1x28x28).
        num_classes: output classes (book: 10).
        impl: ``"scratch"`` (``X @ W + b`` with W of shape (784, 10), book 3.6) or ``"nn"`` (``nn.Linear``, 3.7).
        init_std: weights drawn from N(0, init_std) (book: 0.01); ``None`` keeps PyTorch's default.
        init_bias: ``"zeros"`` (book) or ``"normal"`` (N(0, init_std)).
    """

    def __init__(self, num_inputs: int = 784, num_classes: int = 10, impl: LayerImpl = "scratch",
                 init_std: float | None = 0.01, init_bias: BiasInit = "zeros") -> None:
        super().__init__()
        check_layer_impl(impl)
        self.features = nn.Flatten()  # (B, C, H, W) -> (B, C*H*W)
        self.head = ScratchLinear(num_inputs, num_classes) if impl == "scratch" else nn.Linear(num_inputs, num_classes)
        if init_std is not None:
            init_normal_(self, init_std, init_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, num_classes)
        return self.head(self.features(x))
