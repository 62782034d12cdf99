"""The layers tutorial, part 1 (zoo.nets.handmade, zoo.studies.layer_study): the hand-written autograd Function, the
home-made layer's SGD step (the bias from its gradient, unlike the tutorial), Dense and DNN, stacked training equal to
separate training, and the layers-study command at a tiny scale."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from zoo.errors import ConfigError
from zoo.nets.handmade import DNN, Dense, HandmadeLinear, LinearDIY, StackedDNN, linear_function
from zoo.studies.layer_study import layers_study_command, train_dnn_study, train_linear_diy


def test_linear_function_gradients_pass_gradcheck():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 4, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(4, 3, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(linear_function, (x, w, b))
    assert torch.autograd.gradcheck(linear_function, (x, w))  # without a bias
    assert torch.autograd.gradcheck(linear_function, (x.detach(), w, b))  # no gradient for the input
    torch.testing.assert_close(linear_function(x, w, b), x @ w + b)


def test_the_diy_step_updates_the_bias_from_its_gradient():
    layer = LinearDIY(3, 2, generator=torch.Generator().manual_seed(0))
    x, y = torch.randn(5, 3), torch.randn(5, 2)
    before_w, before_b = layer.weight.detach().clone(), layer.bias.detach().clone()
    ((layer(x) - y) ** 2).mean().backward()
    grad_w, grad_b = layer.weight.grad.clone(), layer.bias.grad.clone()
    layer.step(lr=0.1)
    torch.testing.assert_close(layer.weight.detach(), before_w - 0.1 * grad_w)
    torch.testing.assert_close(layer.bias.detach(), before_b - 0.1 * grad_b)  # the tutorial used before_b * (1 - lr)
    assert layer.bias.grad.abs().sum() == 0 and layer.weight.grad.abs().sum() == 0
    with pytest.raises(ConfigError, match=r"LinearDIY.step needs gradients: call loss.backward\(\) first"):
        LinearDIY(2, 2).step()


def test_the_diy_layer_learns_the_linear_map():
    losses = train_linear_diy(steps=400, seed=1)
    assert losses[-50:].mean() < 1e-3 * losses[:20].mean()  # y = x W exactly: the error goes towards 0


def test_handmade_linear_module_matches_nn_linear():
    layer = HandmadeLinear(4, 3)
    reference = nn.Linear(4, 3)
    with torch.no_grad():
        reference.weight.copy_(layer.weight.t())
        reference.bias.copy_(layer.bias)
    x = torch.randn(6, 4)
    torch.testing.assert_close(layer(x), reference(x))
    layer(x).pow(2).sum().backward()
    reference(x).pow(2).sum().backward()
    torch.testing.assert_close(layer.weight.grad, reference.weight.grad.t())
    torch.testing.assert_close(layer.bias.grad, reference.bias.grad)
    assert layer.weight.abs().max() <= 0.1 and "bias=True" in repr(layer)
    assert HandmadeLinear(4, 3, bias=False).bias is None


def test_dense_and_dnn_shapes_and_linearity():
    dense = Dense()
    assert [tuple(p.shape) for p in dense.parameters()] == [(10, 10), (10,), (10, 10), (10,), (2, 10), (2,)]
    net = DNN(10, 10, 16, n_hidden=3)
    x1, x2 = torch.randn(4, 10), torch.randn(4, 10)
    zero = net(torch.zeros(1, 10))
    torch.testing.assert_close(net(x1 + x2) - zero, (net(x1) - zero) + (net(x2) - zero), atol=1e-5, rtol=1e-5)
    relu = DNN(10, 10, 16, n_hidden=3, activation="relu")
    assert relu(x1).shape == (4, 10) and len(relu.hiddens) == 3
    with pytest.raises(ConfigError, match="unknown activation 'tanh'; choose None"):
        DNN(10, 10, 16, activation="tanh")
    with pytest.raises(ConfigError, match="sizes must be >= 1, got hidden_size=0"):
        DNN(10, 10, 0)


def _separately(configs, steps, seed=1):
    """The tutorial's loop, one network at a time."""
    losses = {}
    for config in configs:
        torch.manual_seed(seed)
        x, y = torch.randn(500, 10), torch.randn(500, 10)
        net = DNN(10, 10, *config)
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.99 ** (s / 50))
        batches = torch.randint(0, 500, (steps, 5), generator=torch.Generator().manual_seed(seed))
        run = []
        for idx in batches:
            loss = nn.functional.mse_loss(net(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            run.append(loss.item())
        losses[config] = (torch.tensor(run), net)
    return losses


def test_stacked_training_equals_separate_training():
    configs = [(16, 1, None), (16, 3, "relu"), (16, 2, None), (8, 2, "relu")]
    stacked, nets = train_dnn_study(configs, steps=30)
    for config, (losses, net) in _separately(configs, 30).items():
        torch.testing.assert_close(stacked[config], losses, atol=1e-5, rtol=1e-4)
        for (name, p), q in zip(net.named_parameters(), nets[config].parameters()):
            torch.testing.assert_close(q, p, atol=1e-5, rtol=1e-4, msg=name)


def test_stacked_dnn_forward_and_errors():
    nets = [DNN(10, 10, 8, n, a) for n, a in ((1, None), (3, "relu"), (0, "relu"))]
    x = torch.randn(5, 10)
    stacked = StackedDNN(nets)
    out = stacked(x)  # (3, 5, 10)
    for m, net in enumerate(nets):
        torch.testing.assert_close(out[m], net(x), atol=1e-5, rtol=1e-5)
    with pytest.raises(ConfigError, match=r"StackedDNN stacks networks of one \(input, hidden, output\) size"):
        StackedDNN([DNN(10, 10, 8), DNN(10, 10, 16)])


def test_layers_study_command_at_a_tiny_scale(tmp_path, capsys):
    out = tmp_path / "study"
    assert layers_study_command(["--steps-scale", "0.0025", "--out-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "experiment 1 LinearDIY 10->2: final loss" in printed and "experiment 2 Dense 10-10-2: final loss" in printed
    assert "experiment 3 DNN on random targets, 50 Adam steps" in printed
    assert "hidden 128, n_hidden 5, relu" in printed and "hidden 256, n_hidden 3, no activation" in printed
    names = ["fig1_linear_diy", "fig2_dense", "fig4_depth_linear", "fig5_depth_relu", "fig6_width_linear",
             "fig7_width_relu"]
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(names)
    with pytest.raises(ConfigError, match=r"--steps-scale must be in \(0, 10\], got 0.0"):
        layers_study_command(["--steps-scale", "0"])
