"""Hand-written convolutional layers on the cross-correlations of `zoo.ops.conv_scratch` (book 5.1 to 5.3), and the
book's 5.1.4 experiment: learning the edge-detecting kernel from data.

* `Conv2D`: the book's 5.1.2 layer, one channel in and out: ``corr2d(x, weight) + bias`` with weight (k_h, k_w)
  and bias (1,) drawn from N(0, 1), as the book draws them;
* `ScratchConv2d`: several input and output channels, padding and stride (5.2, 5.3), weight (c_o, c_i, k_h, k_w) as
  ``nn.Conv2d``, initialised as ``nn.Conv2d`` is; tests compare it with ``F.conv2d``;
* `edge_image` and `learn_edge_kernel` (E5.1): the 6x8 image with a black band, its edges ``corr2d(X, [[1, -1]])``,
  and 20 steps of plain gradient descent (lr 0.01) on the summed squared error. The book prints step 20 loss 0.003
  and learns weight [[0.9948, -1.0092]], bias [0.0080] from a random start.

Nothing here imports Lightning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from zoo.errors import ConfigError
from zoo.ops.conv_scratch import Size2, corr2d, corr2d_multi_in_out, pair

__all__ = ["Conv2D", "KernelFit", "ScratchConv2d", "edge_image", "learn_edge_kernel"]


class Conv2D(nn.Module):
    """The book's single-channel convolutional layer (5.1.2): (h, w) -> (h - k_h + 1, w - k_w + 1).

    Args:
        kernel_size: (k_h, k_w) or an int.
        generator: source of the N(0, 1) initial weight and bias (``None``: the global RNG, as the book).
    """

    def __init__(self, kernel_size: Size2, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(pair(kernel_size, "kernel_size"), generator=generator))
        self.bias = nn.Parameter(torch.randn(1, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (h, w) -> (out_h, out_w)
        return corr2d(x, self.weight) + self.bias


class ScratchConv2d(nn.Module):
    """A convolutional layer with several input and output channels, padding and stride (book 5.2, 5.3), computed by
    `zoo.ops.conv_scratch.corr2d_multi_in_out`; the same numbers as ``nn.Conv2d`` with the same parameters.

    Args:
        in_channels, out_channels: c_i and c_o.
        kernel_size: (k_h, k_w) or an int.
        padding: zero rows/columns on each side (an int or a pair).
        stride: an int or a pair.
        bias: add a learned bias per output channel.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Size2, padding: Size2 = 0,
                 stride: Size2 = 1, bias: bool = True) -> None:
        super().__init__()
        if in_channels < 1 or out_channels < 1:
            raise ConfigError(f"in_channels and out_channels must be >= 1, got {in_channels} and {out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.padding, self.stride = pair(padding, "padding"), pair(stride, "stride")
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Conv2d``'s default: weight and bias uniform in +-1/sqrt(c_i k_h k_w)."""
        bound = 1 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, c_i, H, W) or (c_i, H, W) -> (..., c_o, H', W')
        y = corr2d_multi_in_out(x, self.weight, self.padding, self.stride)
        if self.bias is not None:
            y = y + self.bias[:, None, None]  # (c_o,) -> (c_o, 1, 1), broadcast over the pixels
        return y

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, padding={self.padding}, "
                f"stride={self.stride}, bias={self.bias is not None}")


def edge_image() -> tuple[torch.Tensor, torch.Tensor]:
    """Book 5.1.3: X (6, 8) of ones with columns 2-5 zero, and its edges Y = corr2d(X, [[1, -1]]) (6, 7): 1 where
    white turns black, -1 where black turns white, 0 elsewhere."""
    x = torch.ones(6, 8)
    x[:, 2:6] = 0
    return x, corr2d(x, torch.tensor([[1.0, -1.0]]))


@dataclass
class KernelFit:
    """What `learn_edge_kernel` returns: the layer, the loss before each update (step 1 first), the start."""

    layer: Conv2D
    losses: list[float]
    start: torch.Tensor  # [w0, w1, b] before training

    def report(self, every: int = 5) -> str:
        """The book's lines: ``Step 5, loss 1.844`` ... then ``weight: [[...]]`` and ``bias: [...]``."""
        lines = [f"Step {i}, loss {loss:.3f}" for i, loss in enumerate(self.losses, start=1) if i % every == 0]
        w = ", ".join(f"{v:.4f}" for v in self.layer.weight.detach().flatten().tolist())
        lines += [f"weight: [[{w}]]", f"bias: [{self.layer.bias.item():.4f}]"]
        return "\n".join(lines)


def learn_edge_kernel(steps: int = 20, lr: float = 0.01, seed: int | None = 0) -> KernelFit:
    """E5.1 (book 5.1.4): fit a (1, 2) `Conv2D` to map `edge_image`'s X to Y by gradient descent.

    Each step computes ``l = sum((conv(X) - Y)^2)`` and updates ``p <- p - lr * p.grad`` for the weight and the bias
    (the gradient of the *sum*, not a mean, as the book). The recorded loss of step i is the one computed before
    its update, which is what the book prints.

    Args:
        steps: gradient steps (book: 20).
        lr: learning rate (book: 0.01).
        seed: seed of the N(0, 1) initial weight and bias; ``None`` draws from the global RNG as the book.
    """
    if steps < 0 or lr <= 0:
        raise ConfigError(f"steps must be >= 0 and lr > 0, got {steps} and {lr}")
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    x, y = edge_image()
    layer = Conv2D((1, 2), generator=generator)
    start = torch.cat([layer.weight.detach().flatten(), layer.bias.detach()])
    losses = []
    for _ in range(steps):
        loss = ((layer(x) - y) ** 2).sum()
        layer.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in (layer.weight, layer.bias):
                p -= lr * p.grad
        losses.append(loss.item())
    return KernelFit(layer, losses, start)
