"""Network in Network (book 5.8; Lin, Chen & Yan 2013, https://arxiv.org/abs/1312.4400).

`nin_block`: one conv followed by two 1x1 convs that act as a per-pixel MLP, each with ReLU. The net uses AlexNet's
kernel sizes and widths (11/4, 5, 3; 96, 256, 384 channels), 3x3/2 max pools, dropout 0.5, and a last NiN block
with one channel per class whose global average is the class score (no fully connected layer). As in the book the
last block ends in a ReLU, so scores are >= 0. Needs inputs of at least 67x67 (the book uses 224).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["NiN", "nin_block"]


def nin_block(in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int) -> nn.Sequential:
    """Conv(kernel_size, stride, padding) + ReLU, then two 1x1 conv + ReLU (book 5.8.1)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
    )


class NiN(nn.Module):
    """Args:
        in_channels: image channels.
        num_classes: output classes (= channels of the last NiN block).
        dropout: drop probability before the last block (book: 0.5).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nin_block(in_channels, 96, kernel_size=11, stride=4, padding=0),  # (B, 96, 54, 54) at 224
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 96, 26, 26)
            nin_block(96, 256, kernel_size=5, stride=1, padding=2),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 256, 12, 12)
            nin_block(256, 384, kernel_size=3, stride=1, padding=1),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 384, 5, 5)
            nn.Dropout(dropout),
        )
        self.head = nn.Sequential(
            nin_block(384, num_classes, kernel_size=3, stride=1, padding=1),  # (B, classes, 5, 5)
            nn.AdaptiveAvgPool2d(1),  # global average pooling: (B, classes, 1, 1)
            nn.Flatten(),  # (B, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, S, S) -> (B, num_classes)
        return self.head(self.features(x))
