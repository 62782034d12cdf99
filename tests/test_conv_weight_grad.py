"""The convolution whose weight gradient on small maps is one matrix product (`zoo.ops.conv_weight_grad`,
`zoo.nets.small_map_conv`): the same output and gradients as ``F.conv2d`` (to float32 rounding; under bf16 autocast,
the same forward kernel and gradients to bf16 rounding), the matrix product taken only where it is meant to be, and
the module switch keeping a network's parameters and checkpoint keys."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zoo.nets.small_map_conv import SmallMapConv2d, use_small_map_conv
from zoo.ops.conv_weight_grad import MANY_WEIGHTS, SMALL_MAP, conv2d_small_map

#: (channels in, out, kernel, stride, padding, input side): output maps of at most 6x6, weights of at least 2^16
CASES = [(96, 96, 3, 1, 1, 6), (96, 128, 3, 2, 1, 6), (256, 256, 1, 2, 0, 6), (64, 128, 3, 1, 0, 5),
         (128, 64, 3, 1, 1, 3)]


def _grads(conv, x, w, b, stride, padding):
    x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
    b = b.clone().requires_grad_() if b is not None else None
    out = conv(x, w, b, stride, padding)
    out.float().pow(2).sum().backward()  # a loss whose output gradient differs at every position
    return out, x.grad, w.grad, (b.grad if b is not None else None)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cin, cout, k, stride, padding, side", CASES)
def test_output_and_gradients_are_those_of_conv2d(cin, cout, k, stride, padding, side, bias):
    torch.manual_seed(0)
    x = torch.randn(4, cin, side, side).contiguous(memory_format=torch.channels_last)
    w = (torch.randn(cout, cin, k, k) * 0.05).contiguous(memory_format=torch.channels_last)
    b = torch.randn(cout) if bias else None
    assert w.numel() >= MANY_WEIGHTS
    x_req = x.clone().requires_grad_()
    assert type(conv2d_small_map(x_req, w, b, stride, padding).grad_fn).__name__ == "_Conv2dMatmulWeightGradBackward"
    ours, reference = _grads(conv2d_small_map, x, w, b, stride, padding), _grads(F.conv2d, x, w, b, stride, padding)
    for got, want in zip(ours, reference):
        if want is not None:
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_under_bf16_autocast_it_is_the_same_bf16_convolution():
    torch.manual_seed(0)
    x = torch.randn(8, 128, 6, 6).contiguous(memory_format=torch.channels_last)
    w = (torch.randn(256, 128, 3, 3) * 0.05).contiguous(memory_format=torch.channels_last)
    b = torch.randn(256)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours, reference = _grads(conv2d_small_map, x, w, b, 1, 1), _grads(F.conv2d, x, w, b, 1, 1)
    assert ours[0].dtype == reference[0].dtype == torch.bfloat16
    assert torch.equal(ours[0], reference[0])  # one kernel computes both outputs
    for got, want in zip(ours[1:], reference[1:]):
        assert got.dtype == want.dtype == torch.float32  # the gradients of the float32 leaves
        torch.testing.assert_close(got, want, rtol=2e-2, atol=2e-2 * want.abs().max().item())


@pytest.mark.parametrize("shape, weight", [((4, 96, 12, 12), (96, 96, 3, 3)),  # a 12x12 map: oneDNN's
                                           ((4, 32, 3, 3), (32, 32, 3, 3))])    # few weights: oneDNN's
def test_large_maps_and_small_weights_stay_with_conv2d(shape, weight):
    x, w = torch.randn(shape, requires_grad=True), torch.randn(weight)
    assert shape[-1] ** 2 > SMALL_MAP or w.numel() < MANY_WEIGHTS
    assert type(conv2d_small_map(x, w, None, 1, 1).grad_fn).__name__ == "ConvolutionBackward0"


def test_the_switch_keeps_parameters_and_checkpoint_keys_and_leaves_other_layers():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(96, 96, 3, padding=1), nn.ReLU(), nn.Conv2d(96, 96, 3, padding=1, groups=2),
                        nn.Conv1d(3, 3, 1))
    keys, first = list(net.state_dict()), net[0].weight
    assert use_small_map_conv(net) == 2
    assert isinstance(net[0], SmallMapConv2d) and net[0].weight is first and list(net.state_dict()) == keys
    assert type(net[3]) is nn.Conv1d
    x = torch.randn(2, 96, 6, 6, requires_grad=True)
    assert type(net[0](x).grad_fn).__name__ == "_Conv2dMatmulWeightGradBackward"
    assert type(net[2](x).grad_fn).__name__ == "ConvolutionBackward0"  # two groups: nn.Conv2d's own
    with torch.no_grad():
        torch.testing.assert_close(net[0](x), F.conv2d(x, first, net[0].bias, 1, 1))
