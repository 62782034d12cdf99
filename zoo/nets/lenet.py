"""LeNet-5 (book 5.5; LeCun et al. 1998, "Gradient-based learning applied to document recognition") and LeNet with
batch normalisation (book 5.10.2 from scratch, 5.10.3 with ``nn.BatchNorm``).

As in the book: sigmoid activations and max pooling (the 1998 paper used average pooling and a Gaussian output
layer). The first fully connected layer is sized from ``image_size``: 16x4x4 = 256 inputs for 28x28 images.
Batch normalisation goes after every conv and linear layer except the last, before the sigmoid (5.10.2.1).
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.nets.batchnorm import BatchNorm
from zoo.nets.layers import LayerImpl, output_shape

__all__ = ["LeNet"]



def _norm(kind: LayerImpl | None, features: int, num_dims: int) -> list[nn.Module]:
    if kind is None:
        return []
    if kind == "scratch":
        return [BatchNorm(features, num_dims)]
    if kind == "nn":
        return [nn.BatchNorm2d(features) if num_dims == 4 else nn.BatchNorm1d(features)]
    raise ValueError(f"unknown batch_norm {kind!r}; choose None, 'scratch' (zoo.nets.batchnorm.BatchNorm) or 'nn'")


class LeNet(nn.Module):
    """Two conv/sigmoid/max-pool stages, then 120-84-classes fully connected layers; returns logits.

    Args:
        in_channels: image channels (Fashion-MNIST 1, CIFAR-10 3).
        num_classes: output classes.
        image_size: side of the square input (28 in the book); sizes the first linear layer.
        batch_norm: ``None`` (5.5), ``"scratch"`` (5.10.2, `zoo.nets.batchnorm.BatchNorm`) or ``"nn"`` (5.10.3).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28,
                 batch_norm: LayerImpl | None = None) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), *_norm(batch_norm, 6, 4), nn.Sigmoid(),  # (B, 6, S-4, S-4)
            nn.MaxPool2d(kernel_size=2, stride=2),  # (B, 6, (S-4)/2, (S-4)/2)
            nn.Conv2d(6, 16, kernel_size=5), *_norm(batch_norm, 16, 4), nn.Sigmoid(),
            nn.MaxPool2d(kernel_size=2, stride=2),  # (B, 16, 4, 4) for S = 28
        )
        try:
            flat = output_shape(self.features, (1, in_channels, image_size, image_size)).numel()
        except RuntimeError as exc:
            raise ValueError(f"LeNet needs images of at least 12x12 pixels, got {image_size}x{image_size}") from exc
        self.head = nn.Sequential(
            nn.Flatten(),  # (B, 16, h, w) -> (B, 16*h*w)
            nn.Linear(flat, 120), *_norm(batch_norm, 120, 2), nn.Sigmoid(),
            nn.Linear(120, 84), *_norm(batch_norm, 84, 2), nn.Sigmoid(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, S, S) -> (B, num_classes)
        return self.head(self.features(x))
