"""Two-dimensional cross-correlation and pooling written out as book 5.1 to 5.4 defines them, for teaching and for
checking ``F.conv2d``/``F.max_pool2d``/``F.avg_pool2d`` (tests/test_conv_scratch.py compares them on random inputs).

The book's versions loop over every output position in Python. Here every function gathers all windows at once with
``Tensor.unfold`` (a view, no copy) and reduces them, which computes the same sums and is differentiable, so the
hand-written layer of `zoo.nets.conv2d_scratch` trains with autograd.

Conventions, as in PyTorch:

* ``padding`` is the number of zero rows/columns added on **each** side (an int or a (p_h, p_w) pair). The book's
  5.2 formula counts the total over both sides: its p_h is ``2 * padding[0]`` here;
* ``stride`` is an int or an (s_h, s_w) pair; output side ``floor((n + 2p - k) / s) + 1`` (`conv_output_shape`);
* inputs may carry leading dimensions (a batch): a (h, w) image, a (c, h, w) stack or a (B, c, h, w) batch.

>>> corr2d(torch.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]]), torch.tensor([[0, 1], [2, 3]]))
tensor([[19., 25.],
        [37., 43.]])
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from zoo.errors import ConfigError

__all__ = [
    "conv_output_shape",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "pad2d",
    "pair",
    "pool2d",
    "windows2d",
]

Size2 = int | tuple[int, int]


def pair(value: Size2, name: str = "size") -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(3, 5)`` stays; anything else raises `ConfigError`."""
    if isinstance(value, int):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ConfigError(f"{name} must be an int or a pair of ints, got {value!r}")
    return value


def conv_output_shape(size: Size2, kernel_size: Size2, padding: Size2 = 0, stride: Size2 = 1) -> tuple[int, int]:
    """Output (height, width) of a window of ``kernel_size`` sliding over ``size`` (book 5.2.2):
    ``floor((n + 2p - k) / s) + 1`` per side, ``p`` the padding on each side.

    Raises `ConfigError` for a window larger than the padded input, a negative padding or a stride below 1.
    """
    (n_h, n_w), (k_h, k_w) = pair(size, "input size"), pair(kernel_size, "kernel_size")
    (p_h, p_w), (s_h, s_w) = pair(padding, "padding"), pair(stride, "stride")
    if min(p_h, p_w) < 0:
        raise ConfigError(f"padding must be >= 0, got {(p_h, p_w)}")
    if min(s_h, s_w) < 1:
        raise ConfigError(f"stride must be >= 1, got {(s_h, s_w)}")
    if min(k_h, k_w) < 1:
        raise ConfigError(f"kernel_size must be >= 1, got {(k_h, k_w)}")
    if k_h > n_h + 2 * p_h or k_w > n_w + 2 * p_w:
        raise ConfigError(f"a {k_h}x{k_w} window does not fit in a {n_h}x{n_w} input padded by {(p_h, p_w)}")
    return (n_h + 2 * p_h - k_h) // s_h + 1, (n_w + 2 * p_w - k_w) // s_w + 1


def pad2d(x: torch.Tensor, padding: Size2, value: float = 0.0) -> torch.Tensor:
    """``x`` (..., h, w) with ``padding`` rows above and below and columns left and right: (..., h + 2p_h, w + 2p_w)."""
    p_h, p_w = pair(padding, "padding")
    if min(p_h, p_w) < 0:
        raise ConfigError(f"padding must be >= 0, got {(p_h, p_w)}")
    if p_h == p_w == 0:
        return x
    return F.pad(x, (p_w, p_w, p_h, p_h), value=value)


def _floating(x: torch.Tensor) -> torch.Tensor:
    """Integer inputs become float32, as the book's functions return float tensors."""
    return x if x.is_floating_point() else x.float()


def windows2d(x: torch.Tensor, kernel_size: Size2, padding: Size2 = 0, stride: Size2 = 1,
              pad_value: float = 0.0) -> torch.Tensor:
    """Every ``kernel_size`` window of ``x`` (..., h, w): a view of shape (..., out_h, out_w, k_h, k_w)."""
    if x.dim() < 2:
        raise ConfigError(f"expected an input of at least 2 dimensions (..., height, width), got shape "
                          f"{tuple(x.shape)}")
    (k_h, k_w), (s_h, s_w) = pair(kernel_size, "kernel_size"), pair(stride, "stride")
    conv_output_shape(tuple(x.shape[-2:]), (k_h, k_w), padding, (s_h, s_w))  # validates
    x = pad2d(x, padding, pad_value)  # (..., h + 2p_h, w + 2p_w)
    return x.unfold(-2, k_h, s_h).unfold(-2, k_w, s_w)  # (..., out_h, w', k_h) -> (..., out_h, out_w, k_h, k_w)


def corr2d(x: torch.Tensor, k: torch.Tensor, padding: Size2 = 0, stride: Size2 = 1) -> torch.Tensor:
    """Two-dimensional cross-correlation (book 5.1.1): ``y[i, j] = sum_ab x[i s_h + a, j s_w + b] k[a, b]``.

    Args:
        x: input (h, w), or (..., h, w) to correlate every trailing plane with the same kernel.
        k: kernel (k_h, k_w).
        padding, stride: as in the module docstring (5.2).

    Returns:
        (..., out_h, out_w), float.
    """
    if k.dim() != 2:
        raise ConfigError(f"corr2d takes a 2-D kernel (k_h, k_w), got shape {tuple(k.shape)}")
    windows = windows2d(_floating(x), tuple(k.shape), padding, stride)  # (..., out_h, out_w, k_h, k_w)
    return (windows * _floating(k)).sum(dim=(-2, -1))


def _check_channels(x: torch.Tensor, k: torch.Tensor, what: str) -> None:
    if x.dim() < 3:
        raise ConfigError(f"{what} takes an input (..., c_i, h, w), got shape {tuple(x.shape)}")
    if x.shape[-3] != k.shape[-3]:
        raise ConfigError(f"{what}: the input has {x.shape[-3]} channels but the kernel has {k.shape[-3]}")


def corr2d_multi_in(x: torch.Tensor, k: torch.Tensor, padding: Size2 = 0, stride: Size2 = 1) -> torch.Tensor:
    """Several input channels, one output channel (book 5.3.1): correlate each channel with its kernel and add.

    Args:
        x: (c_i, h, w) or (..., c_i, h, w).
        k: (c_i, k_h, k_w).

    Returns:
        (..., out_h, out_w).
    """
    if k.dim() != 3:
        raise ConfigError(f"corr2d_multi_in takes a kernel (c_i, k_h, k_w), got shape {tuple(k.shape)}")
    _check_channels(x, k, "corr2d_multi_in")
    windows = windows2d(_floating(x), tuple(k.shape[-2:]), padding, stride)  # (..., c_i, out_h, out_w, k_h, k_w)
    return torch.einsum("...chwab,cab->...hw", windows, _floating(k))


def corr2d_multi_in_out(x: torch.Tensor, k: torch.Tensor, padding: Size2 = 0, stride: Size2 = 1) -> torch.Tensor:
    """Several input and output channels (book 5.3.2): output channel o is ``corr2d_multi_in(x, k[o])``.

    Args:
        x: (c_i, h, w) or (..., c_i, h, w), e.g. a batch (B, c_i, h, w).
        k: (c_o, c_i, k_h, k_w), the layout of ``nn.Conv2d.weight``.

    Returns:
        (..., c_o, out_h, out_w): what ``F.conv2d(x, k, padding=padding, stride=stride)`` computes.
    """
    if k.dim() != 4:
        raise ConfigError(f"corr2d_multi_in_out takes a kernel (c_o, c_i, k_h, k_w), got shape {tuple(k.shape)}")
    _check_channels(x, k, "corr2d_multi_in_out")
    windows = windows2d(_floating(x), tuple(k.shape[-2:]), padding, stride)  # (..., c_i, out_h, out_w, k_h, k_w)
    return torch.einsum("...chwab,ocab->...ohw", windows, _floating(k))


def corr2d_multi_in_out_1x1(x: torch.Tensor, k: torch.Tensor, padding: Size2 = 0, stride: Size2 = 1) -> torch.Tensor:
    """A 1x1 convolution as one matrix product (book 5.3.3): pixels are examples, channels are features.

    Args:
        x: (c_i, h, w) or (..., c_i, h, w).
        k: (c_o, c_i, 1, 1) or (c_o, c_i).

    Returns:
        (..., c_o, out_h, out_w), equal to `corr2d_multi_in_out` with the same 1x1 kernel.
    """
    if k.dim() == 4 and tuple(k.shape[-2:]) != (1, 1):
        raise ConfigError(f"corr2d_multi_in_out_1x1 takes a 1x1 kernel, got shape {tuple(k.shape)}")
    if k.dim() not in (2, 4):
        raise ConfigError(f"corr2d_multi_in_out_1x1 takes a kernel (c_o, c_i, 1, 1) or (c_o, c_i), got shape "
                          f"{tuple(k.shape)}")
    weight = _floating(k).reshape(k.shape[0], k.shape[1])  # (c_o, c_i)
    if x.dim() < 3 or x.shape[-3] != weight.shape[1]:
        raise ConfigError(f"corr2d_multi_in_out_1x1: the input has shape {tuple(x.shape)}, the kernel expects "
                          f"(..., {weight.shape[1]}, h, w)")
    s_h, s_w = pair(stride, "stride")
    conv_output_shape(tuple(x.shape[-2:]), 1, padding, (s_h, s_w))  # validates
    x = pad2d(_floating(x), padding)[..., ::s_h, ::s_w]  # (..., c_i, out_h, out_w)
    c_i, h, w = x.shape[-3:]
    flat = x.reshape(*x.shape[:-3], c_i, h * w)  # (..., c_i, h*w): one column per pixel
    return (weight @ flat).reshape(*x.shape[:-3], weight.shape[0], h, w)  # (c_o, c_i) @ (..., c_i, h*w)


def pool2d(x: torch.Tensor, pool_size: Size2, mode: Literal["max", "avg"] = "max", padding: Size2 = 0,
           stride: Size2 = 1) -> torch.Tensor:
    """Maximum or mean of every ``pool_size`` window (book 5.4.1); each channel is pooled on its own (5.4.3).

    Args:
        x: (h, w) or (..., h, w).
        pool_size: window (p_h, p_w) or an int.
        mode: ``"max"`` or ``"avg"``.
        padding: on each side; ``max`` pads with -inf (padding never wins), ``avg`` with zeros that count in the
            mean, as ``F.avg_pool2d``'s default ``count_include_pad=True``.
        stride: 1 by default, as the book's ``pool2d``; note that ``nn.MaxPool2d`` defaults to the window size.

    Returns:
        (..., out_h, out_w), float.
    """
    if mode not in ("max", "avg"):
        raise ConfigError(f"unknown pooling mode {mode!r}; choose 'max' or 'avg'")
    x = _floating(x)
    fill = float("-inf") if mode == "max" else 0.0
    windows = windows2d(x, pool_size, padding, stride, pad_value=fill)  # (..., out_h, out_w, p_h, p_w)
    if mode == "max":
        return windows.amax(dim=(-2, -1))
    return windows.mean(dim=(-2, -1))
