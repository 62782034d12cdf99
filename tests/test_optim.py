"""The hand-written optimizers of chapter 7: same trajectory as PyTorch's built-ins, by name, with honest eps notes."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from zoo.errors import ConfigError
from zoo.optim import SCRATCH_OPTIMIZERS, AdaGradScratch, AdamScratch, MomentumScratch, RMSPropScratch
from zoo.optim.builder import OPTIMIZERS, build_optimizer

STEPS = 100
TOLERANCE = 1e-6

# (scratch name, its extra args, PyTorch name, PyTorch extra args, lr, momentum): same hyperparameters on both sides
PAIRS = {
    "sgd": ("sgd_scratch", {}, "sgd", {}, 0.05, 0.0),
    "momentum": ("momentum_scratch", {}, "sgd", {}, 0.02, 0.9),
    "adagrad": ("adagrad_scratch", {"eps": 1e-10, "eps_placement": "outside"}, "adagrad", {"eps": 1e-10}, 0.1, 0.0),
    "rmsprop": ("rmsprop_scratch", {"gamma": 0.9, "eps": 1e-8, "eps_placement": "outside"}, "rmsprop",
                {"alpha": 0.9, "eps": 1e-8}, 0.01, 0.0),
    "adadelta": ("adadelta_scratch", {"rho": 0.9, "eps": 1e-6}, "adadelta", {"rho": 0.9, "eps": 1e-6}, 1.0, 0.0),
    "adam": ("adam_scratch", {"betas": (0.9, 0.999), "eps": 1e-8}, "adam", {"betas": (0.9, 0.999), "eps": 1e-8},
             0.01, 0.0),
}


def problem(seed: int = 0):
    """A small regression problem with parameters of several shapes: (net, X (64, 5), y (64,))."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1))
    x = torch.randn(64, 5)
    y = x @ torch.randn(5) + 0.3 * torch.randn(64)
    return net, x, y


def trace(name: str, extra: dict, lr: float, momentum: float, weight_decay: float = 0.0, steps: int = STEPS,
          scale: float = 1.0) -> list[torch.Tensor]:
    """Parameters after every one of ``steps`` minibatch updates (same batches for every optimizer)."""
    net0, x, y = problem()
    net = copy.deepcopy(net0)
    opt = build_optimizer(name, net.parameters(), lr, weight_decay, momentum, dict(extra))
    batches = torch.Generator().manual_seed(1)
    history = []
    for _ in range(steps):
        idx = torch.randint(0, len(y), (8,), generator=batches)
        loss = scale * ((net(x[idx]).squeeze(-1) - y[idx]) ** 2 / 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(torch.cat([p.detach().flatten() for p in net.parameters()]))
    return history


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_same_trajectory_as_pytorch(pair, weight_decay):
    ours_name, ours_extra, torch_name, torch_extra, lr, momentum = PAIRS[pair]
    ours = trace(ours_name, ours_extra, lr, momentum, weight_decay)
    theirs = trace(torch_name, torch_extra, lr, momentum, weight_decay)
    assert len(ours) == STEPS
    gap = max((a - b).abs().max().item() for a, b in zip(ours, theirs))
    assert gap < TOLERANCE, f"{ours_name} drifts {gap:.2e} from torch.optim.{torch_name} within {STEPS} steps"
    moved = (ours[-1] - trace(ours_name, ours_extra, lr, momentum, weight_decay, steps=1)[0]).abs().max().item()
    assert moved > 1e-3  # the parameters really moved, so agreement is not trivial


@pytest.mark.parametrize("name", ["adagrad_scratch", "rmsprop_scratch"])
def test_book_eps_placement_is_a_real_difference(name):
    """sqrt(s + eps) (book) and sqrt(s) + eps (PyTorch) part ways when gradients are as small as sqrt(eps)."""
    inside = trace(name, {"eps": 1e-6, "eps_placement": "inside"}, 0.01, 0.0, scale=1e-3)
    outside = trace(name, {"eps": 1e-6, "eps_placement": "outside"}, 0.01, 0.0, scale=1e-3)
    assert (inside[-1] - outside[-1]).abs().max().item() > 1e-3


def test_every_scratch_optimizer_is_registered_by_name():
    assert set(SCRATCH_OPTIMIZERS) == {"sgd_scratch", "momentum_scratch", "adagrad_scratch", "rmsprop_scratch",
                                       "adadelta_scratch", "adam_scratch"}
    for name, cls in SCRATCH_OPTIMIZERS.items():
        assert OPTIMIZERS[name] is cls
        assert isinstance(build_optimizer(name, [nn.Parameter(torch.zeros(2))], 0.1), torch.optim.Optimizer)


@pytest.mark.parametrize(("cls", "kwargs", "message"), [
    (MomentumScratch, {"momentum": 1.0}, "momentum must be in [0.0, 1.0)"),
    (AdaGradScratch, {"eps_placement": "middle"}, "eps_placement must be 'inside'"),
    (RMSPropScratch, {"eps": "1e-6"}, "eps must be a number, got '1e-6'"),
    (AdamScratch, {"betas": (0.9,)}, "betas must be two numbers"),
    (AdamScratch, {"lr": -1.0}, "lr must be in >= 0.0"),
])
def test_bad_hyperparameters_are_config_errors(cls, kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[").replace(")", r"\)")):
        cls([nn.Parameter(torch.zeros(2))], **kwargs)


def test_unknown_argument_names_the_accepted_ones():
    with pytest.raises(ConfigError, match="does not take alpha; it takes .*gamma"):
        build_optimizer("rmsprop_scratch", [nn.Parameter(torch.zeros(2))], 0.1, extra={"alpha": 0.9})


def test_state_dict_resumes_the_same_trajectory():
    """An optimizer restored from its state_dict continues exactly where the original was (checkpoint resume)."""
    net, x, y = problem()
    opt = AdamScratch(net.parameters(), lr=0.01)

    def step(model, optimizer):
        loss = ((model(x).squeeze(-1) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(5):
        step(net, opt)
    twin = copy.deepcopy(net)
    twin_opt = AdamScratch(twin.parameters(), lr=0.01)
    twin_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    for _ in range(5):
        step(net, opt)
        step(twin, twin_opt)
    for a, b in zip(net.parameters(), twin.parameters()):
        assert torch.equal(a, b)


def test_closure_is_evaluated_and_returned():
    p = nn.Parameter(torch.tensor([3.0]))
    opt = SCRATCH_OPTIMIZERS["sgd_scratch"]([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert p.item() == pytest.approx(3.0 - 0.25 * 6.0)


def test_parameters_without_gradients_are_left_alone():
    used, unused = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))
    opt = SCRATCH_OPTIMIZERS["momentum_scratch"]([used, unused], lr=0.1, momentum=0.9)
    (used**2).sum().backward()
    opt.step()
    assert torch.equal(unused, torch.ones(2)) and not torch.equal(used.detach(), torch.ones(2))
    assert unused not in opt.state
