"""GoogLeNet (book 5.9; Szegedy et al. 2014, "Going Deeper with Convolutions", https://arxiv.org/abs/1409.4842).

`Inception` runs four paths in parallel and concatenates them on the channel axis: a 1x1 conv; 1x1 then 3x3; 1x1
then 5x5; 3x3 max pool then 1x1 (every conv followed by ReLU). The net has five stages separated by 3x3/2 max
pools: a 7x7/2 stem, a 1x1 + 3x3 conv stage, then 2, 5 and 2 Inception blocks, global average pooling and one
linear layer. As printed in the book, stage 2 has no ReLU after its convs, and the paper's auxiliary classifiers
and local response normalisation are left out. The book trains it at 96x96.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GoogLeNet", "Inception"]


class Inception(nn.Module):
    """Args:
        in_channels: input channels.
        c1: output channels of the 1x1 path.
        c2: (1x1 reduce, 3x3 output) channels of the second path.
        c3: (1x1 reduce, 5x5 output) channels of the third path.
        c4: output channels of the pool path's 1x1 conv.

    Output channels: ``c1 + c2[1] + c3[1] + c4``; height and width are kept.
    """

    def __init__(self, in_channels: int, c1: int, c2: Sequence[int], c3: Sequence[int], c4: int) -> None:
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in, H, W) -> (B, out_channels, H, W)
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


def _pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(kernel_size=3, stride=2, padding=1)


class GoogLeNet(nn.Module):
    """Stages ``b1`` to ``b5`` in ``features`` (channel counts of book 5.9.2); ``head`` = global average pool,
    flatten, linear.

    Args:
        in_channels: image channels.
        num_classes: output classes.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        b1 = nn.Sequential(nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3), nn.ReLU(), _pool())
        b2 = nn.Sequential(nn.Conv2d(64, 64, kernel_size=1), nn.Conv2d(64, 192, kernel_size=3, padding=1), _pool())
        b3 = nn.Sequential(Inception(192, 64, (96, 128), (16, 32), 32),  # 256 channels
                           Inception(256, 128, (128, 192), (32, 96), 64), _pool())  # 480
        b4 = nn.Sequential(Inception(480, 192, (96, 208), (16, 48), 64),  # 512
                           Inception(512, 160, (112, 224), (24, 64), 64),  # 512
                           Inception(512, 128, (128, 256), (24, 64), 64),  # 512
                           Inception(512, 112, (144, 288), (32, 64), 64),  # 528
                           Inception(528, 256, (160, 320), (32, 128), 128), _pool())  # 832
        b5 = nn.Sequential(Inception(832, 256, (160, 320), (32, 128), 128),  # 832
                           Inception(832, 384, (192, 384), (48, 128), 128))  # 1024
        # at 96x96: b1 (B, 64, 24, 24), b2 (B, 192, 12, 12), b3 (B, 480, 6, 6), b4 (B, 832, 3, 3), b5 (B, 1024, 3, 3)
        self.features = nn.Sequential(b1, b2, b3, b4, b5)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, S, S) -> (B, num_classes)
        return self.head(self.features(x))
