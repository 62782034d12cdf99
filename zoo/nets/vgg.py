"""VGG (book 5.7; Simonyan & Zisserman 2014, https://arxiv.org/abs/1409.1556).

A stack of `vgg_block`s (3x3 convs with padding 1 and ReLU, then a 2x2/2 max pool that halves height and width),
then three fully connected layers with dropout. ``conv_arch`` lists ``(num_convs, out_channels)`` per block; the
book's tuples also carry each block's input channels, which here follow from ``in_channels`` and the previous
block. ``ratio`` divides every width, as the book does to train a narrow VGG-11 on Fashion-MNIST (ratio 8: channels
8-16-32-64-64, hidden 512). The first linear layer is sized from ``image_size`` (512x7x7 at 224 for VGG-11).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from zoo.nets.layers import output_shape

__all__ = ["VGG", "VGG11_ARCH", "vgg_block"]

#: VGG-11: 8 conv layers in 5 blocks (book 5.7.2: ``((1, 1, 64), (1, 64, 128), (2, 128, 256), ...)``).
VGG11_ARCH: tuple[tuple[int, int], ...] = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` x (3x3 conv, padding 1, ReLU), then 2x2 max pool: (B, in, H, W) -> (B, out, H/2, W/2)."""
    if num_convs < 1:
        raise ValueError(f"a VGG block needs at least one conv layer, got num_convs={num_convs}")
    layers: list[nn.Module] = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, kernel_size=3, padding=1),
                   nn.ReLU()]
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """Args:
        conv_arch: ``(num_convs, out_channels)`` per block; default `VGG11_ARCH`.
        in_channels: image channels.
        num_classes: output classes.
        image_size: side of the square input (book: 224); must survive one halving per block.
        fc_hidden: width of the two hidden linear layers before ``ratio`` (book: 4096).
        ratio: divide every conv width and ``fc_hidden`` by this (book 5.7.3 trains ratio 8).
        dropout: drop probability after each hidden linear layer (book: 0.5).
    """

    def __init__(self, conv_arch: Sequence[Sequence[int]] = VGG11_ARCH, in_channels: int = 1, num_classes: int = 10,
                 image_size: int = 224, fc_hidden: int = 4096, ratio: int = 1, dropout: float = 0.5) -> None:
        super().__init__()
        if ratio < 1:
            raise ValueError(f"ratio must be a positive integer, got {ratio}")
        blocks, channels = [], in_channels
        for i, spec in enumerate(conv_arch):
            if len(spec) != 2:
                raise ValueError(f"conv_arch entries are (num_convs, out_channels); entry {i} is {tuple(spec)}")
            num_convs, out_channels = spec
            if out_channels // ratio < 1:
                raise ValueError(f"ratio {ratio} leaves block {i} ({out_channels} channels) without channels")
            blocks.append((f"vgg_block_{i + 1}", vgg_block(num_convs, channels, out_channels // ratio)))
            channels = out_channels // ratio
        self.features = nn.Sequential(OrderedDict(blocks))  # (B, C, S, S) -> (B, channels, S/2^n, S/2^n)
        try:
            flat = output_shape(self.features, (1, in_channels, image_size, image_size)).numel()
        except RuntimeError as exc:
            raise ValueError(f"VGG with {len(blocks)} blocks halves the image {len(blocks)} times: "
                             f"{image_size}x{image_size} is too small (the book uses 224)") from exc
        hidden = fc_hidden // ratio
        self.head = nn.Sequential(
            nn.Flatten(),  # (B, 512, 7, 7) -> (B, 25088) for VGG-11 at 224
            nn.Linear(flat, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, S, S) -> (B, num_classes)
        return self.head(self.features(x))
