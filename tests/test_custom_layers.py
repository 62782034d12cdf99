"""Book chapter 4 (zoo.nets.custom_layers): model construction, parameter access, custom init, shared parameters
and custom layers, checked against the values the book prints."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn

from zoo.errors import ConfigError
from zoo.nets.custom_layers import (
    CenteredLayer,
    FancyMLP,
    MyDense,
    MyDictDense,
    MyLinear,
    MySequential,
    NestMLP,
    count_parameters,
    describe_parameters,
    init_parameters_,
    init_weight_,
    parameter_shapes,
    shared_linear_pair,
    shared_parameters,
)


def test_centered_layer():
    out = CenteredLayer()(torch.tensor([1.0, 2, 3, 4, 5]))
    assert torch.equal(out, torch.tensor([-2.0, -1, 0, 1, 2]))  # book 4.4.1
    net = nn.Sequential(nn.Linear(8, 128), CenteredLayer())
    assert abs(net(torch.rand(4, 8)).mean().item()) < 1e-6
    assert list(CenteredLayer().parameters()) == []


def test_my_sequential_equals_nn_sequential():
    layers = [nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)]
    x = torch.rand(2, 784)
    torch.testing.assert_close(MySequential(*layers)(x), nn.Sequential(*layers)(x))
    named = MySequential(OrderedDict(hidden=nn.Linear(4, 3), act=nn.ReLU()))
    assert [n for n, _ in named.named_children()] == ["hidden", "act"]


def test_fancy_and_nested_models():
    fancy = FancyMLP(generator=torch.Generator().manual_seed(0))
    assert [n for n, _ in fancy.named_parameters()] == ["linear.weight", "linear.bias"]  # the constant is a buffer
    assert "rand_weight" in fancy.state_dict()
    net = nn.Sequential(NestMLP(), nn.Linear(30, 20), FancyMLP())
    assert net(torch.rand(2, 40)).shape == ()


def test_parameter_access():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    assert parameter_shapes(net) == [("0.weight", (3, 4)), ("0.bias", (3,)), ("2.weight", (1, 3)), ("2.bias", (1,))]
    assert describe_parameters(net).splitlines()[0] == "0.weight torch.Size([3, 4])"  # book 4.2.1
    assert count_parameters(net) == 12 + 3 + 3 + 1


def test_custom_initialisation():
    net = nn.Sequential(nn.Linear(40, 30), nn.ReLU(), nn.Linear(30, 20))
    assert init_parameters_(net, lambda p: nn.init.normal_(p, mean=0, std=0.01)) == ["0.weight", "2.weight"]
    assert net[0].weight.std().item() == pytest.approx(0.01, rel=0.2)
    assert init_parameters_(net, lambda p: nn.init.constant_(p, 0), which="bias") == ["0.bias", "2.bias"]
    assert net[0].bias.abs().sum() == 0
    w = init_weight_(torch.empty(1000), generator=torch.Generator().manual_seed(0))
    nonzero = w[w != 0]
    assert nonzero.abs().min() >= 5 and nonzero.abs().max() <= 10
    assert 0.4 < (w == 0).float().mean() < 0.6  # zero with probability 1/2
    with pytest.raises(ConfigError, match="which must be 'weight' or 'bias', got 'weights'"):
        init_parameters_(net, init_weight_, which="weights")


def test_shared_parameters_accumulate_gradients():
    net = shared_linear_pair(3.0)
    assert net[0] is net[1] and net[0].weight is net[1].weight
    assert shared_parameters(net) == [["0.weight", "1.weight"]]
    assert count_parameters(net) == 1
    y = net(torch.ones(1, 1)).sum()
    assert y.item() == 9.0  # book 4.2.4
    y.backward()
    assert net[0].weight.grad.item() == 6.0  # 3 + 3: one gradient per use


def test_dense_layers_with_their_own_parameters():
    g = torch.Generator().manual_seed(0)
    dense = MyDense(generator=g)
    assert [tuple(p.shape) for p in dense.params] == [(4, 4), (4, 4), (4, 4), (4, 1)]  # book 4.4.2
    assert dense(torch.ones(2, 4)).shape == (2, 1)
    assert [tuple(p.shape) for p in MyDense((3, 2)).params] == [(3, 2)]
    d = MyDictDense(generator=g)
    assert sorted(d.params.keys()) == ["linear1", "linear2", "linear3"]
    x = torch.ones(1, 4)
    assert [d(x, k).shape for k in ("linear1", "linear2", "linear3")] == [(1, 4), (1, 1), (1, 2)]
    layer = MyLinear(5, 3, generator=g)
    assert (layer(torch.randn(2, 5)) >= 0).all()  # ReLU
    plain = MyLinear(5, 3, activation=False)
    torch.testing.assert_close(plain(torch.zeros(1, 5)), plain.bias.detach().unsqueeze(0))


def test_error_messages():
    with pytest.raises(ConfigError, match="unknown choice 'linear4'; MyDictDense holds linear1, linear2, linear3"):
        MyDictDense()(torch.ones(1, 4), "linear4")
    with pytest.raises(ConfigError, match=r"sizes needs at least two positive sizes, got \(4,\)"):
        MyDense((4,))
    with pytest.raises(ConfigError, match="in_features and out_features must be >= 1, got 0 and 3"):
        MyLinear(0, 3)
