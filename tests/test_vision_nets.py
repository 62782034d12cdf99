"""The plain networks of chapters 3 and 5: the book's printed shapes and layers, and the from-scratch pieces
(softmax, cross-entropy, dropout, BatchNorm, linear layer) against PyTorch's built-ins."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zoo.nets.alexnet import AlexNet
from zoo.nets.batchnorm import BatchNorm, batch_norm
from zoo.nets.densenet import DenseBlock, DenseNet, transition_block
from zoo.nets.googlenet import GoogLeNet, Inception
from zoo.nets.layers import ScratchLinear, init_normal_, output_shape
from zoo.nets.lenet import LeNet
from zoo.nets.mlp import MLPNet, ScratchDropout, dropout, relu
from zoo.nets.nin import NiN, nin_block
from zoo.nets.resnet import Residual, ResNet, resnet_block
from zoo.nets.row_encoder import RowClassifierNet
from zoo.nets.softmax import SoftmaxRegressionNet
from zoo.nets.vgg import VGG, VGG11_ARCH, vgg_block
from zoo.ops.losses import cross_entropy, log_softmax, softmax


def _trace(modules, x):
    """Shapes after each module, as the book's ``for blk in net.children(): X = blk(X); print(X.shape)``."""
    shapes = []
    for module in modules:
        x = module(x)
        shapes.append(tuple(x.shape))
    return shapes


def _reprs(modules) -> list[str]:
    """Layer reprs as the book prints them (its PyTorch printed ``Dropout(p=0.5)`` without ``inplace``)."""
    return [repr(m).replace(", inplace=False", "") for m in modules if not isinstance(m, nn.Flatten)]


# ------------------------------------------------------------------ layers and shapes the book prints
def test_lenet_layers_as_printed():  # L5122-L5139
    net = LeNet()
    assert _reprs(net.features) == [
        "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))", "Sigmoid()",
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
        "Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))", "Sigmoid()",
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"]
    assert _reprs(net.head) == [
        "Linear(in_features=256, out_features=120, bias=True)", "Sigmoid()",
        "Linear(in_features=120, out_features=84, bias=True)", "Sigmoid()",
        "Linear(in_features=84, out_features=10, bias=True)"]
    assert _trace(net.features, torch.rand(1, 1, 28, 28))[-1] == (1, 16, 4, 4)


def test_lenet_sizes_its_first_linear_layer_from_the_image():
    assert LeNet(in_channels=3, image_size=32).head[1].in_features == 16 * 5 * 5


def test_alexnet_layers_as_printed():  # L5352-L5378
    with torch.device("meta"):
        net = AlexNet()
        shapes = _trace(net.features, torch.empty(1, 1, 224, 224))
    assert _reprs(net.features) == [
        "Conv2d(1, 96, kernel_size=(11, 11), stride=(4, 4))", "ReLU()",
        "MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)",
        "Conv2d(96, 256, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))", "ReLU()",
        "MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)",
        "Conv2d(256, 384, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))", "ReLU()",
        "Conv2d(384, 384, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))", "ReLU()",
        "Conv2d(384, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))", "ReLU()",
        "MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)"]
    assert _reprs(net.head) == [
        "Linear(in_features=6400, out_features=4096, bias=True)", "ReLU()", "Dropout(p=0.5)",
        "Linear(in_features=4096, out_features=4096, bias=True)", "ReLU()", "Dropout(p=0.5)",
        "Linear(in_features=4096, out_features=10, bias=True)"]
    assert shapes[-1] == (1, 256, 5, 5)


def test_vgg11_shapes_as_printed():  # L5522-L5527
    with torch.device("meta"):
        net = VGG(VGG11_ARCH)
        shapes = _trace([*net.features, net.head], torch.empty(1, 1, 224, 224))
    assert [name for name, _ in net.features.named_children()] == [f"vgg_block_{i}" for i in range(1, 6)]
    assert shapes == [(1, 64, 112, 112), (1, 128, 56, 56), (1, 256, 28, 28), (1, 512, 14, 14), (1, 512, 7, 7),
                      (1, 10)]
    assert net.head[1].in_features == 512 * 7 * 7 and net.head[1].out_features == 4096


def test_narrow_vgg11_layers_as_printed():  # ratio 8, L5545-L5585
    net = VGG(VGG11_ARCH, ratio=8)
    convs = [m for m in net.features.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 8), (8, 16), (16, 32), (32, 32), (32, 64),
                                                                 (64, 64), (64, 64), (64, 64)]
    assert all(repr(c).endswith("kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))") for c in convs)
    assert _reprs(net.head) == [
        "Linear(in_features=3136, out_features=512, bias=True)", "ReLU()", "Dropout(p=0.5)",
        "Linear(in_features=512, out_features=512, bias=True)", "ReLU()", "Dropout(p=0.5)",
        "Linear(in_features=512, out_features=10, bias=True)"]


def test_nin_shapes_as_printed():  # L5702-L5711
    with torch.device("meta"):
        net = NiN()
        shapes = _trace([*net.features, *net.head], torch.empty(1, 1, 224, 224))
    assert shapes == [(1, 96, 54, 54), (1, 96, 26, 26), (1, 256, 26, 26), (1, 256, 12, 12), (1, 384, 12, 12),
                      (1, 384, 5, 5), (1, 384, 5, 5), (1, 10, 5, 5), (1, 10, 1, 1), (1, 10)]


def test_googlenet_shapes_as_printed():  # L5862-L5868; the book's b5 ends with the global pool, ours in the head
    with torch.device("meta"):
        net = GoogLeNet()
        shapes = _trace([*net.features, *net.head], torch.empty(1, 1, 96, 96))
    assert shapes[:4] == [(1, 64, 24, 24), (1, 192, 12, 12), (1, 480, 6, 6), (1, 832, 3, 3)]
    assert shapes[4] == (1, 1024, 3, 3)
    assert shapes[5:] == [(1, 1024, 1, 1), (1, 1024), (1, 10)]


def test_resnet18_shapes_as_printed():  # L6275-L6284
    with torch.device("meta"):
        net = ResNet(in_channels=1, num_classes=10)
        stem, *stages = net.features.children()
        shapes = _trace([*stem, *stages, net.head[0], nn.Sequential(*net.head[1:])], torch.empty(1, 1, 224, 224))
    assert shapes == [(1, 64, 112, 112)] * 3 + [(1, 64, 56, 56), (1, 64, 56, 56), (1, 128, 28, 28),
                                                (1, 256, 14, 14), (1, 512, 7, 7), (1, 512, 1, 1), (1, 10)]
    assert [n for n, _ in net.features.named_children()][1:] == [f"resnet_block{i}" for i in range(1, 5)]
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) + 2 == 18  # 16 3x3 convs + the stem conv + the linear layer: ResNet-18


def test_densenet_shapes_as_printed():  # L6460-L6474
    with torch.device("meta"):
        net = DenseNet()
        stem, *rest = net.features.children()
        shapes = _trace([*stem, *rest, net.head[0], nn.Sequential(*net.head[1:])], torch.empty(1, 1, 96, 96))
    assert shapes == [(1, 64, 48, 48)] * 3 + [
        (1, 64, 24, 24), (1, 192, 24, 24), (1, 96, 12, 12), (1, 224, 12, 12), (1, 112, 6, 6), (1, 240, 6, 6),
        (1, 120, 3, 3), (1, 248, 3, 3), (1, 248, 3, 3), (1, 248, 3, 3), (1, 248, 1, 1), (1, 10)]


def test_blocks_as_the_book_shows_them():
    x = torch.rand(4, 3, 6, 6)
    assert Residual(3, 3)(x).shape == (4, 3, 6, 6)  # L6207
    assert Residual(3, 6, use_1x1conv=True, stride=2)(x).shape == (4, 6, 3, 3)  # L6214
    y = DenseBlock(2, 3, 10)(torch.rand(4, 3, 8, 8))
    assert y.shape == (4, 23, 8, 8)  # L6388
    assert transition_block(23, 10)(y).shape == (4, 10, 4, 4)  # L6408
    assert vgg_block(2, 3, 8)(x).shape == (4, 8, 3, 3)
    assert nin_block(3, 5, kernel_size=3, stride=1, padding=1)(x).shape == (4, 5, 6, 6)
    inception = Inception(192, 64, (96, 128), (16, 32), 32)
    assert inception.out_channels == 256 and inception(torch.rand(1, 192, 4, 4)).shape == (1, 256, 4, 4)
    stage = resnet_block(64, 128, 2)
    assert len(stage) == 2 and stage(torch.rand(1, 64, 8, 8)).shape == (1, 128, 4, 4)


def test_residual_refuses_a_shape_change_without_projection():
    with pytest.raises(ValueError, match="use_1x1conv=True"):
        Residual(3, 6, use_1x1conv=False, stride=2)


@pytest.mark.parametrize(("net", "size"), [(AlexNet, 28), (VGG, 16), (LeNet, 8)])
def test_too_small_images_are_refused_at_construction(net, size):
    with pytest.raises(ValueError, match="pixels|too small"):
        net(image_size=size)


def test_output_shape_is_a_dry_run():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten())
    assert output_shape(net, (5, 1, 10, 10)) == (5, 4 * 8 * 8)
    assert all(p.device.type == "cpu" for p in net.parameters())
    with pytest.raises(RuntimeError):
        output_shape(nn.Conv2d(1, 4, 5), (1, 1, 3, 3))


# ------------------------------------------------------------------ softmax and cross-entropy (3.6)
def test_softmax_and_log_softmax_equal_torch():
    logits = torch.randn(5, 7) * 3
    assert torch.allclose(softmax(logits), torch.softmax(logits, dim=1), atol=1e-6)
    assert torch.allclose(softmax(logits).sum(dim=1), torch.ones(5))
    assert torch.allclose(log_softmax(logits), torch.log_softmax(logits, dim=1), atol=1e-6)


def test_softmax_and_cross_entropy_are_stable_for_large_logits():
    logits = torch.tensor([[1000.0, -1000.0, 0.0], [-5e4, 5e4, 5e4]], requires_grad=True)
    labels = torch.tensor([1, 0])
    probs = softmax(logits)
    assert torch.isfinite(probs).all() and torch.allclose(probs[1], torch.tensor([0.0, 0.5, 0.5]))
    ours = cross_entropy(logits, labels)
    ours.backward()
    ours_grad = logits.grad.clone()
    logits.grad = None
    ref = F.cross_entropy(logits, labels)
    ref.backward()
    assert torch.isfinite(ours) and torch.allclose(ours, ref)  # the naive -log(softmax) would be inf here
    assert torch.allclose(ours_grad, logits.grad)


def test_cross_entropy_equals_torch_on_ordinary_logits():
    logits, labels = torch.randn(64, 10), torch.randint(0, 10, (64,))
    assert torch.allclose(cross_entropy(logits, labels), F.cross_entropy(logits, labels), atol=1e-6)


# ------------------------------------------------------------------ dropout (3.13)
def test_dropout_keeps_the_right_fraction_and_rescales():
    torch.manual_seed(0)
    x = torch.ones(1_000_000)
    for p in (0.2, 0.5):
        y = dropout(x, p)
        dropped = (y == 0).float().mean().item()
        assert abs(dropped - p) < 0.003, f"p={p}: dropped {dropped}"  # the book's randn mask drops 0.21 / 0.31
        assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / (1 - p)))
        assert abs(y.mean().item() - 1.0) < 0.005


def test_dropout_edge_cases_and_eval_mode():
    x = torch.randn(3, 4)
    assert torch.equal(dropout(x, 0.7, training=False), x)
    assert torch.equal(dropout(x, 0.0), x)
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    layer = ScratchDropout(0.5)
    assert torch.equal(layer.eval()(x), x)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dropout(x, 1.5)


# ------------------------------------------------------------------ linear layers, ReLU, init (3.6, 3.9, 3.10)
def test_scratch_mlp_equals_nn_mlp_with_the_same_weights():
    torch.manual_seed(0)
    scratch = MLPNet(784, (32, 16), 10, dropout=(0.2, 0.5), impl="scratch").eval()
    concise = MLPNet(784, (32, 16), 10, dropout=(0.2, 0.5), impl="nn").eval()
    state = {k: v.T if v.ndim == 2 else v for k, v in scratch.state_dict().items()}  # (in, out) -> (out, in)
    concise.load_state_dict(state)
    x = torch.rand(8, 1, 28, 28)
    assert torch.allclose(scratch(x), concise(x), atol=1e-5)
    assert torch.equal(relu(torch.tensor([-1.0, 0.0, 2.0])), torch.tensor([0.0, 0.0, 2.0]))


def test_softmax_regression_scratch_equals_nn():
    scratch, concise = SoftmaxRegressionNet(impl="scratch"), SoftmaxRegressionNet(impl="nn")
    concise.head.weight.data.copy_(scratch.head.weight.T)
    concise.head.bias.data.copy_(scratch.head.bias)
    x = torch.rand(4, 1, 28, 28)
    assert torch.allclose(scratch(x), concise(x), atol=1e-6)


def test_book_initialisation():
    torch.manual_seed(0)
    net = init_normal_(nn.Sequential(nn.Linear(2000, 500), ScratchLinear(500, 300)), std=0.01)
    assert abs(net[0].weight.std().item() - 0.01) < 5e-4 and abs(net[1].weight.std().item() - 0.01) < 5e-4
    assert not net[0].bias.any() and not net[1].bias.any()
    init_normal_(net, std=0.01, bias="normal")
    assert abs(net[0].bias.std().item() - 0.01) < 2e-3
    default = SoftmaxRegressionNet(init_std=None)
    assert default.head.weight.abs().max() > 0.02  # PyTorch's uniform default, not N(0, 0.01)
    with pytest.raises(ValueError, match="'zeros' or 'normal'"):
        init_normal_(net, 0.01, bias="ones")


# ------------------------------------------------------------------ batch normalisation (5.10)
@pytest.mark.parametrize(("shape", "reference"), [((16, 5), nn.BatchNorm1d), ((6, 4, 5, 5), nn.BatchNorm2d)])
def test_scratch_batch_norm_equals_torch(shape, reference):
    torch.manual_seed(0)
    channels = shape[1]
    ours = BatchNorm(channels, num_dims=len(shape), momentum=0.9)  # the book's convention
    ref = reference(channels, momentum=0.1)  # PyTorch's convention
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.uniform_(-0.5, 0.5)
    ours.load_state_dict(ref.state_dict())
    for step in range(3):
        x = (torch.randn(shape) * (step + 1) + step).requires_grad_()
        x_ref = x.detach().clone().requires_grad_()
        y, y_ref = ours(x), ref(x_ref)
        assert torch.allclose(y, y_ref, atol=1e-5)
        (y * torch.arange(y.numel()).view_as(y)).sum().backward()
        (y_ref * torch.arange(y.numel()).view_as(y)).sum().backward()
        assert torch.allclose(x.grad, x_ref.grad, atol=1e-4)
    assert torch.allclose(ours.weight.grad, ref.weight.grad, atol=1e-3)
    assert torch.allclose(ours.bias.grad, ref.bias.grad, atol=1e-3)
    for name in ("running_mean", "running_var"):
        assert torch.allclose(getattr(ours, name), getattr(ref, name), atol=1e-5), name
    assert ours.num_batches_tracked == ref.num_batches_tracked == 3
    x = torch.randn(shape)
    assert torch.allclose(ours.eval()(x), ref.eval()(x), atol=1e-5)
    ref.load_state_dict(ours.state_dict())  # and back: the same keys and shapes


def test_lenet_with_scratch_batch_norm_equals_lenet_with_nn_batch_norm():
    torch.manual_seed(0)
    concise = LeNet(batch_norm="nn")
    scratch = LeNet(batch_norm="scratch")
    scratch.load_state_dict(concise.state_dict())
    x = torch.rand(8, 1, 28, 28)
    assert torch.allclose(scratch(x), concise(x), atol=1e-5)
    scratch.eval(), concise.eval()
    assert torch.allclose(scratch(x), concise(x), atol=1e-5)
    kinds = [type(m).__name__ for m in scratch.modules() if isinstance(m, BatchNorm)]
    assert len(kinds) == 4  # after both convs and both hidden linear layers (5.10.2.1)


def test_batch_norm_input_checks():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        BatchNorm(3, num_dims=2)(torch.randn(1, 3))
    with pytest.raises(ValueError, match="num_dims=4"):
        BatchNorm(3, num_dims=4)(torch.randn(2, 3))
    with pytest.raises(ValueError, match="num_dims must be 2"):
        BatchNorm(3, num_dims=3)
    with pytest.raises(ValueError, match=r"\(B, C\) or"):
        batch_norm(torch.randn(2, 3, 4), *[torch.ones(3)] * 4, training=True)


# ------------------------------------------------------------------ the RNN tutorial: images read row by row
@pytest.mark.parametrize(("cell", "module", "layers"), [("rnn", nn.RNN, 2), ("lstm", nn.LSTM, 1)])
def test_row_classifier_equals_the_seeds_batch_first_model(cell, module, layers):
    torch.manual_seed(0)
    net = RowClassifierNet(cell, 1, 28, 10, hidden_size=100, num_layers=layers).eval()
    seed_rnn = module(28, 100, num_layers=layers, batch_first=True)
    seed_rnn.load_state_dict(net.features.rnn.state_dict())
    images = torch.rand(5, 1, 28, 28)
    out, _ = seed_rnn(images.view(-1, 28, 28))  # (100, 28, 100) in the tutorial: (batch, sequence, feature)
    expected = net.head(out[:, -1, :])
    assert torch.allclose(net(images), expected, atol=1e-5)
    shapes = [tuple(p.shape) for p in net.parameters()]
    assert shapes[:2] == ([(100, 28), (100, 100)] if cell == "rnn" else [(400, 28), (400, 100)])  # 002 L150-L168
    assert shapes[-2:] == [(10, 100), (10,)]
    scratch = RowClassifierNet(cell, 1, 28, 10, hidden_size=100, num_layers=layers, impl="scratch").eval()
    scratch.load_state_dict(net.state_dict())  # the hand-written layer keeps PyTorch's parameter layout
    assert torch.allclose(scratch(images), expected, atol=1e-5)
