"""`SmallMapConv2d`: ``nn.Conv2d`` whose weight gradient on small output maps is one matrix product
(`zoo.ops.conv_weight_grad`), and `use_small_map_conv`, which switches a network's convolutions to it in place.

The image classifiers switch to it when they train in bf16 on the CPU (`zoo.tasks.classification`), where oneDNN's
backward-weights kernel is slow on the 3x3 and 6x6 maps of the last stages of ResNet-18, GoogLeNet and DenseNet.
Parameters, buffers and ``state_dict`` keys stay those of ``nn.Conv2d``; without gradients (evaluation, export) the
forward pass is ``nn.Conv2d``'s own.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.ops.conv_weight_grad import conv2d_small_map

__all__ = ["SmallMapConv2d", "use_small_map_conv"]


class SmallMapConv2d(nn.Conv2d):
    """``nn.Conv2d`` with the matrix-product weight gradient on small output maps (zero padding, dilation 1, one
    group; other convolutions are computed by ``nn.Conv2d`` unchanged)."""

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if (self.padding_mode != "zeros" or isinstance(self.padding, str) or self.groups != 1
                or self.dilation != (1, 1)):
            return super()._conv_forward(input, weight, bias)
        return conv2d_small_map(input, weight, bias, self.stride, self.padding)


def use_small_map_conv(net: nn.Module) -> int:
    """Turn every plain ``nn.Conv2d`` in ``net`` into a `SmallMapConv2d` in place (the same module objects and
    parameters, so optimizers and hooks keep them); returns how many were switched."""
    switched = 0
    for module in net.modules():
        if type(module) is nn.Conv2d:
            module.__class__ = SmallMapConv2d
            switched += 1
    return switched
