"""A 2-D convolution whose weight gradient is one matrix product of the input's windows, for small output maps.

The weight gradient of a cross-correlation (book 5.1.1) sums, over every image and output position, the output
gradient times the input window under the kernel: with the windows laid out as rows, ``dW = dY^T @ X_windows``, (O,
B*Ho*Wo) @ (B*Ho*Wo, kh*kw*C). oneDNN's bf16 backward-weights kernel on the AMX units is slow on maps of a few
positions: on the last stage of ResNet-18 at 96x96 (512 channels, 3x3 maps, batch 256) it took 64 ms per convolution,
3% of the units' peak and 3.5 times its own forward pass, while the matrix product above, windows copied out included,
took 10 ms. From 12x12 maps on, and for small weights (DenseNet's 32-filter convolutions on 6x6 maps: 1.2 against 2.0
ms), oneDNN is faster, so only maps of at most `SMALL_MAP` positions with at least `MANY_WEIGHTS` weights take this
way (measured kernel by kernel at the recipes' batch sizes; ``bench/vision_cpu.py`` times whole steps).

The forward pass and the input gradient stay oneDNN's (``aten.convolution_backward`` with the weight masked out).
Under autocast the inputs are cast as autocast would cast them for ``conv2d`` (to its lower precision), so the
computation is the one a plain ``F.conv2d`` does, up to the order of the gradient's sums.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["MANY_WEIGHTS", "SMALL_MAP", "conv2d_small_map"]

#: Output maps of at most this many positions (6x6) get the matrix-product weight gradient ...
SMALL_MAP = 36
#: ... when the weight has at least this many elements (C x O x kh x kw).
MANY_WEIGHTS = 1 << 16


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[-1]))


def _windows(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int],
             padding: tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) -> (B*Ho*Wo, kh*kw*C): every input window under the kernel as one row, channels fastest."""
    ph, pw = padding
    rows = F.pad(x, (pw, pw, ph, ph)).permute(0, 2, 3, 1)  # (B, H+2ph, W+2pw, C)
    rows = rows.unfold(1, kernel[0], stride[0]).unfold(2, kernel[1], stride[1])  # (B, Ho, Wo, C, kh, kw)
    return rows.permute(0, 1, 2, 4, 5, 3).reshape(-1, kernel[0] * kernel[1] * x.shape[1])


class _Conv2dMatmulWeightGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
        return F.conv2d(x, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = torch.ops.aten.convolution_backward(
                grad_out, x, weight, None, list(ctx.stride), list(ctx.padding), [1, 1], False, [0, 0], 1,
                [True, False, False])[0]
        if need_w:
            o, c, kh, kw = weight.shape
            dy = grad_out.permute(0, 2, 3, 1).reshape(-1, o)  # (B*Ho*Wo, O)
            grad_w = (dy.t() @ _windows(x, (kh, kw), ctx.stride, ctx.padding))  # (O, kh*kw*C)
            grad_w = grad_w.view(o, kh, kw, c).permute(0, 3, 1, 2)  # (O, C, kh, kw), channels-last strides
        if need_b and ctx.has_bias:
            grad_b = grad_out.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None


def conv2d_small_map(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                     stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0) -> torch.Tensor:
    """``F.conv2d`` (dilation 1, one group, numeric zero padding) whose weight gradient is a matrix product when the
    output map has at most `SMALL_MAP` positions and the weight `MANY_WEIGHTS` elements; others go to ``F.conv2d``."""
    stride, padding = _pair(stride), _pair(padding)
    kh, kw = weight.shape[-2:]
    ho = (x.shape[-2] + 2 * padding[0] - kh) // stride[0] + 1
    wo = (x.shape[-1] + 2 * padding[1] - kw) // stride[1] + 1
    if x.dim() != 4 or ho * wo > SMALL_MAP or weight.numel() < MANY_WEIGHTS or not torch.is_grad_enabled():
        return F.conv2d(x, weight, bias, stride, padding)
    if torch.is_autocast_enabled(x.device.type):
        dtype = torch.get_autocast_dtype(x.device.type)
        x, weight = x.to(dtype), weight.to(dtype)
        bias = bias.to(dtype) if bias is not None else None
        with torch.autocast(x.device.type, enabled=False):
            return _Conv2dMatmulWeightGrad.apply(x, weight, bias, stride, padding)
    return _Conv2dMatmulWeightGrad.apply(x, weight, bias, stride, padding)
