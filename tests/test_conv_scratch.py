"""Book 5.1-5.4 from scratch: the cross-correlations and pooling of zoo.ops.conv_scratch against F.conv2d and the
pooling functions of PyTorch, the book's printed examples, the hand-written layers, and E5.1's kernel learning."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from zoo.errors import ConfigError
from zoo.nets.conv2d_scratch import Conv2D, ScratchConv2d, edge_image, learn_edge_kernel
from zoo.ops.conv_scratch import (
    conv_output_shape,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    pool2d,
)

# (c_i, c_o, h, w, kernel, padding, stride)
CASES = [
    (1, 1, 3, 3, (2, 2), 0, 1),
    (1, 1, 8, 8, (3, 3), 1, 1),
    (2, 3, 8, 8, (5, 3), (2, 1), 1),
    (3, 2, 8, 8, (3, 3), 1, 2),
    (2, 4, 8, 9, (3, 5), (0, 1), (3, 4)),
    (3, 1, 7, 5, (1, 2), (1, 0), (2, 1)),
]


def _random(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("c_i, c_o, h, w, kernel, padding, stride", CASES)
def test_every_correlation_matches_conv2d(c_i, c_o, h, w, kernel, padding, stride):
    x = _random((2, c_i, h, w), 0)  # a batch of 2
    k = _random((c_o, c_i, *kernel), 1)
    expected = F.conv2d(x, k, padding=padding, stride=stride)  # (2, c_o, H', W')
    assert expected.shape[-2:] == conv_output_shape((h, w), kernel, padding, stride)
    torch.testing.assert_close(corr2d_multi_in_out(x, k, padding, stride), expected)
    torch.testing.assert_close(corr2d_multi_in_out(x[0], k, padding, stride), expected[0])  # unbatched (c_i, h, w)
    torch.testing.assert_close(corr2d_multi_in(x[0], k[0], padding, stride), expected[0, 0])
    torch.testing.assert_close(corr2d(x[0, 0], k[0, 0], padding, stride),
                               F.conv2d(x[:1, :1], k[:1, :1], padding=padding, stride=stride)[0, 0])


@pytest.mark.parametrize("padding, stride", [(0, 1), (1, 1), (0, 2), ((1, 0), (2, 3))])
def test_1x1_convolution_is_a_matrix_product(padding, stride):
    x, k = _random((2, 3, 5, 6), 2), _random((4, 3, 1, 1), 3)
    expected = F.conv2d(x, k, padding=padding, stride=stride)
    torch.testing.assert_close(corr2d_multi_in_out_1x1(x, k, padding, stride), expected)
    torch.testing.assert_close(corr2d_multi_in_out_1x1(x[1], k.view(4, 3), padding, stride), expected[1])
    # book 5.3.3's check: the same numbers as the general multi-channel correlation
    assert (corr2d_multi_in_out_1x1(x[0], k) - corr2d_multi_in_out(x[0], k)).norm() < 1e-6


@pytest.mark.parametrize("size, padding, stride", [((2, 2), 0, 1), ((3, 3), 0, 3), ((3, 3), 1, 2),
                                                   ((2, 4), (1, 2), (2, 3)), ((3, 2), (1, 0), (1, 2))])
def test_pooling_matches_pytorch(size, padding, stride):
    x = _random((2, 3, 7, 9), 4)
    torch.testing.assert_close(pool2d(x, size, "max", padding, stride),
                               F.max_pool2d(x, size, stride=stride, padding=padding))
    torch.testing.assert_close(pool2d(x, size, "avg", padding, stride),
                               F.avg_pool2d(x, size, stride=stride, padding=padding))


def test_the_books_printed_examples():
    x = torch.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    k = torch.tensor([[0, 1], [2, 3]])
    assert torch.equal(corr2d(x, k), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))  # 5.1.1
    x2 = torch.stack([x, x + 1])
    k2 = torch.stack([k, k + 1])
    assert torch.equal(corr2d_multi_in(x2, k2), torch.tensor([[56.0, 72.0], [104.0, 120.0]]))  # 5.3.1
    out = corr2d_multi_in_out(x2, torch.stack([k2, k2 + 1, k2 + 2]))  # 5.3.2, kernel (3, 2, 2, 2)
    assert torch.equal(out[2], torch.tensor([[96.0, 128.0], [192.0, 224.0]]))
    assert torch.equal(pool2d(x, (2, 2)), torch.tensor([[4.0, 5.0], [7.0, 8.0]]))  # 5.4.1
    assert torch.equal(pool2d(x, (2, 2), "avg"), torch.tensor([[2.0, 3.0], [5.0, 6.0]]))
    x16 = torch.arange(16.0).view(4, 4)  # 5.4.2 with the stride and padding of nn.MaxPool2d
    assert torch.equal(pool2d(x16, 3, stride=3), torch.tensor([[10.0]]))
    assert torch.equal(pool2d(x16, 3, padding=1, stride=2), torch.tensor([[5.0, 7.0], [13.0, 15.0]]))
    assert torch.equal(pool2d(x16, (2, 4), padding=(1, 2), stride=(2, 3)),
                       torch.tensor([[1.0, 3.0], [9.0, 11.0], [13.0, 15.0]]))
    assert conv_output_shape(8, 3, 1, 2) == (4, 4) and conv_output_shape(8, (3, 5), (0, 1), (3, 4)) == (2, 2)  # 5.2


def test_edge_image_and_its_edges():
    x, y = edge_image()
    assert x.shape == (6, 8) and y.shape == (6, 7)
    assert torch.equal(y[0], torch.tensor([0.0, 1, 0, 0, 0, -1, 0])) and torch.equal(y, y[:1].expand(6, 7))


def test_scratch_conv2d_matches_nn_conv2d_and_trains():
    layer = ScratchConv2d(3, 4, (3, 5), padding=(1, 2), stride=2)
    reference = torch.nn.Conv2d(3, 4, (3, 5), padding=(1, 2), stride=2)
    reference.load_state_dict(layer.state_dict())
    x = torch.randn(2, 3, 9, 10)
    torch.testing.assert_close(layer(x), reference(x))
    layer(x).sum().backward()
    reference(x).sum().backward()
    torch.testing.assert_close(layer.weight.grad, reference.weight.grad)
    torch.testing.assert_close(layer.bias.grad, reference.bias.grad)
    assert "kernel_size=(3, 5)" in repr(layer)
    assert ScratchConv2d(2, 1, 1, bias=False)(torch.randn(2, 4, 4)).shape == (1, 4, 4)


def test_the_books_conv2d_layer():
    layer = Conv2D((1, 2), generator=torch.Generator().manual_seed(0))
    assert layer(torch.ones(6, 8)).shape == (6, 7)
    assert [p.shape for p in layer.parameters()] == [torch.Size([1, 2]), torch.Size([1])]


CONTRACTION_20_STEPS = 0.0776  # |1 - 0.01 * 12| ** 20; see the test below


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_learning_the_edge_kernel(seed):
    """E5.1. The loss is quadratic in theta = (w0, w1, b): sum((A theta - y)^2) with A^T A = [[18, 12, 18],
    [12, 18, 18], [18, 18, 42]] over the 42 output pixels, minimised exactly at theta* = (1, -1, 0). Gradient descent
    with lr 0.01 multiplies the error theta - theta* by I - 0.02 A^T A, whose eigenvalues are 0.88, 0.80 and -0.24,
    so after 20 steps ||theta - theta*|| <= 0.88^20 = 0.0776 times its start, whatever the random start. That bound
    is the tolerance, scaled by each seed's own start; the book's start is unknown; it ended 0.013 away."""
    fit = learn_edge_kernel(steps=20, lr=0.01, seed=seed)
    theta = torch.cat([fit.layer.weight.detach().flatten(), fit.layer.bias.detach()])
    target = torch.tensor([1.0, -1.0, 0.0])
    assert (theta - target).norm() <= CONTRACTION_20_STEPS * (fit.start - target).norm() + 1e-5
    assert len(fit.losses) == 20 and fit.losses[-1] < fit.losses[0]
    report = fit.report()
    assert report.splitlines()[3].startswith("Step 20, loss ") and "weight: [[" in report


def test_the_seeded_run_lands_near_the_books_numbers():
    fit = learn_edge_kernel(seed=0)
    w = fit.layer.weight.detach().flatten()
    assert abs(w[0] - 1) < 0.05 and abs(w[1] + 1) < 0.05 and abs(fit.layer.bias.item()) < 0.05
    assert fit.losses[-1] < 0.05


def test_error_messages():
    with pytest.raises(ConfigError, match=r"a 3x3 window does not fit in a 2x2 input padded by \(0, 0\)"):
        corr2d(torch.ones(2, 2), torch.ones(3, 3))
    with pytest.raises(ConfigError, match="the input has 2 channels but the kernel has 3"):
        corr2d_multi_in_out(torch.ones(2, 4, 4), torch.ones(1, 3, 2, 2))
    with pytest.raises(ConfigError, match="unknown pooling mode 'sum'; choose 'max' or 'avg'"):
        pool2d(torch.ones(4, 4), 2, "sum")
    with pytest.raises(ConfigError, match=r"stride must be >= 1, got \(0, 1\)"):
        corr2d(torch.ones(4, 4), torch.ones(2, 2), stride=(0, 1))
    with pytest.raises(ConfigError, match=r"padding must be >= 0, got \(-1, -1\)"):
        pool2d(torch.ones(4, 4), 2, padding=-1)
    with pytest.raises(ConfigError, match="corr2d_multi_in_out_1x1 takes a 1x1 kernel"):
        corr2d_multi_in_out_1x1(torch.ones(3, 4, 4), torch.ones(2, 3, 2, 2))
    with pytest.raises(ConfigError, match="kernel_size must be an int or a pair of ints"):
        ScratchConv2d(1, 1, (1, 2, 3))
    with pytest.raises(ConfigError, match="corr2d takes a 2-D kernel"):
        corr2d(torch.ones(4, 4), torch.ones(1, 2, 2))


def test_edge_kernel_command_prints_the_books_report(capsys):
    from zoo.cli.main import COMMANDS

    assert COMMANDS["edge-kernel"].load()(["--steps", "20", "--seed", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[3] == f"Step 20, loss {learn_edge_kernel(seed=0).losses[-1]:.3f}"
    assert out[4].startswith("weight: [[") and out[5].startswith("bias: [")
