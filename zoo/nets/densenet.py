"""DenseNet (book 5.12; Huang et al. 2016, "Densely Connected Convolutional Networks",
https://arxiv.org/abs/1608.06993).

`DenseBlock`: ``num_convs`` `conv_block`s (BN -> ReLU -> 3x3 conv, ``growth_rate`` channels each), every one fed
the concatenation of the block input and all earlier outputs, so a block adds ``num_convs * growth_rate``
channels. `transition_block` (BN -> ReLU -> 1x1 conv -> 2x2/2 average pool) halves the channels and the size
between blocks. The net uses ResNet's stem, four dense blocks of four convs with growth rate 32, then BN, ReLU,
global average pooling and a linear layer: 248 channels at the end (book 5.12.3).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["DenseBlock", "DenseNet", "conv_block", "transition_block"]


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """BN -> ReLU -> 3x3 conv with padding 1 (the pre-activation order of the DenseNet paper)."""
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    """Args:
        num_convs: conv blocks in the dense block.
        in_channels: input channels.
        out_channels: channels each conv block adds (the growth rate).

    ``self.out_channels = in_channels + num_convs * out_channels``; height and width are kept.
    """

    def __init__(self, num_convs: int, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.net = nn.ModuleList(conv_block(in_channels + i * out_channels, out_channels) for i in range(num_convs))
        self.out_channels = in_channels + num_convs * out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in, H, W) -> (B, out_channels, H, W)
        for blk in self.net:
            x = torch.cat((x, blk(x)), dim=1)  # concatenate on the channel axis
        return x


def transition_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """BN -> ReLU -> 1x1 conv -> 2x2/2 average pool: (B, in, H, W) -> (B, out, H/2, W/2)."""
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, out_channels, kernel_size=1),
                         nn.AvgPool2d(kernel_size=2, stride=2))


class DenseNet(nn.Module):
    """Args:
        in_channels: image channels.
        num_classes: output classes.
        num_channels: channels after the stem (book: 64).
        growth_rate: channels added by each conv block (book: 32).
        block_sizes: conv blocks per dense block (book: ``(4, 4, 4, 4)``).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, num_channels: int = 64, growth_rate: int = 32,
                 block_sizes: Sequence[int] = (4, 4, 4, 4)) -> None:
        super().__init__()
        stem = nn.Sequential(nn.Conv2d(in_channels, num_channels, kernel_size=7, stride=2, padding=3),
                             nn.BatchNorm2d(num_channels), nn.ReLU(),
                             nn.MaxPool2d(kernel_size=3, stride=2, padding=1))  # (B, 64, S/4, S/4)
        stages: list[tuple[str, nn.Module]] = [("stem", stem)]
        channels = num_channels
        for i, num_convs in enumerate(block_sizes):
            block = DenseBlock(num_convs, channels, growth_rate)
            stages.append((f"dense_block{i}", block))
            channels = block.out_channels
            if i != len(block_sizes) - 1:
                stages.append((f"transition_block{i}", transition_block(channels, channels // 2)))
                channels //= 2
        stages += [("bn", nn.BatchNorm2d(channels)), ("relu", nn.ReLU())]
        self.features = nn.Sequential(OrderedDict(stages))  # (B, C, S, S) -> (B, 248, S/32, S/32)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, S, S) -> (B, num_classes)
        return self.head(self.features(x))
