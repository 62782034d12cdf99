"""Building blocks of book chapter 4 ("deep-learning computation"): models built by subclassing ``nn.Module`` (4.1),
parameter access, custom initialisation and shared parameters (4.2), and custom layers (4.4).

* 4.1: `MySequential` (what ``nn.Sequential`` does, by hand), `FancyMLP` (a constant weight, Python control flow and
  one layer used twice), `NestMLP`;
* 4.2: `parameter_shapes` / `describe_parameters` (names and shapes, as ``named_parameters`` lists them),
  `count_parameters` (a shared tensor counted once), `shared_parameters` (which names point to the same tensor),
  `init_parameters_` (apply an init function to the weights or the biases), `init_weight_` (the book's custom init:
  zero with probability 1/2, else uniform on [-10, -5] U [5, 10]), `shared_linear_pair` (4.2.4's two-layer net
  whose layers are one object, so the gradient accumulates: 3 + 3 = 6);
* 4.4: `CenteredLayer` (no parameters: x - mean(x)), `MyLinear` (a dense layer owning its weight and bias),
  `MyDense` (parameters in an ``nn.ParameterList``), `MyDictDense` (in an ``nn.ParameterDict``, chosen per call).

Nothing here imports Lightning.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
from torch import nn

from zoo.errors import ConfigError

__all__ = [
    "CenteredLayer",
    "FancyMLP",
    "MyDense",
    "MyDictDense",
    "MyLinear",
    "MySequential",
    "NestMLP",
    "count_parameters",
    "describe_parameters",
    "init_parameters_",
    "init_weight_",
    "parameter_shapes",
    "shared_linear_pair",
    "shared_parameters",
]


# ---------------------------------------------------------------- 4.1 model construction
class MySequential(nn.Module):
    """``nn.Sequential`` by hand (book 4.1.2.1): modules given in order (or as an ``OrderedDict`` of named modules)
    are registered with ``add_module`` and applied one after the other."""

    def __init__(self, *modules: nn.Module | OrderedDict) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self._modules.values():  # registration order
            x = module(x)
        return x


class FancyMLP(nn.Module):
    """Book 4.1.3: a constant (untrained) weight, Python control flow on the values, and one linear layer applied
    twice, so its parameters are shared between the two uses. (B, 20) -> a scalar.

    The constant weight is a buffer: it moves with ``.to(device)`` and is saved in ``state_dict`` but is no parameter.
    """

    def __init__(self, features: int = 20, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.register_buffer("rand_weight", torch.rand(features, features, generator=generator))
        self.linear = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F) -> ()
        x = self.linear(x)
        x = torch.relu(x @ self.rand_weight + 1)  # (B, F) @ (F, F)
        x = self.linear(x)  # the same layer again: shared parameters
        while x.norm().item() > 1:
            x = x / 2
        if x.norm().item() < 0.8:
            x = x * 10
        return x.sum()


class NestMLP(nn.Module):
    """Book 4.1.3: a module holding an ``nn.Sequential`` (Linear(40, 30), ReLU); (B, 40) -> (B, 30)."""

    def __init__(self, in_features: int = 40, out_features: int = 30) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, out_features), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# ---------------------------------------------------------------- 4.2 parameters: access, init, sharing
def parameter_shapes(module: nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    """``[(name, shape), ...]`` in ``named_parameters`` order, e.g. ``[("0.weight", (3, 4)), ("0.bias", (3,)), ...]``
    for ``nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))`` (book 4.2.1)."""
    return [(name, tuple(p.shape)) for name, p in module.named_parameters()]


def describe_parameters(module: nn.Module) -> str:
    """One line per parameter, ``0.weight torch.Size([3, 4])``, as the book's loop over ``named_parameters`` prints."""
    return "\n".join(f"{name} {p.size()}" for name, p in module.named_parameters())


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalars in the parameters; a tensor shared by several layers counts once."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def shared_parameters(module: nn.Module) -> list[list[str]]:
    """Groups of parameter names that refer to one tensor (book 4.2.4), e.g. ``[["0.weight", "1.weight"]]``."""
    groups: dict[int, list[str]] = {}
    for name, p in module.named_parameters(remove_duplicate=False):
        groups.setdefault(id(p), []).append(name)
    return [names for names in groups.values() if len(names) > 1]


def init_weight_(tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The book's custom initialisation (4.2.3), in place and without recording gradients: draw uniformly from
    [-10, 10] and zero every value of magnitude below 5, i.e. 0 with probability 1/2, else uniform on
    [-10, -5] U [5, 10]."""
    with torch.no_grad():
        tensor.uniform_(-10, 10, generator=generator)
        tensor.mul_((tensor.abs() >= 5).to(tensor.dtype))
    return tensor


def init_parameters_(module: nn.Module, fn: Callable[[torch.Tensor], object], which: str = "weight") -> list[str]:
    """Apply ``fn`` (an in-place init such as ``nn.init.normal_`` or `init_weight_`) to every parameter whose name
    contains ``which`` (``"weight"`` or ``"bias"``, as the book's loops test ``'weight' in name``); returns the names.

    >>> init_parameters_(net, lambda p: nn.init.normal_(p, std=0.01))            # doctest: +SKIP
    >>> init_parameters_(net, lambda p: nn.init.constant_(p, 0), which="bias")   # doctest: +SKIP
    """
    if which not in ("weight", "bias"):
        raise ConfigError(f"which must be 'weight' or 'bias', got {which!r}")
    names = []
    with torch.no_grad():
        for name, p in module.named_parameters():
            if which in name.rsplit(".", 1)[-1]:
                fn(p)
                names.append(name)
    return names


def shared_linear_pair(value: float = 3.0) -> nn.Sequential:
    """Book 4.2.4: ``nn.Sequential(linear, linear)`` with one bias-free ``nn.Linear(1, 1)`` whose weight is
    ``value``; for x = 1 the output is value^2 (9) and, the two uses adding their gradients, the weight's gradient is
    2 * value (6)."""
    linear = nn.Linear(1, 1, bias=False)
    nn.init.constant_(linear.weight, value)
    return nn.Sequential(linear, linear)


# ---------------------------------------------------------------- 4.4 custom layers
class CenteredLayer(nn.Module):
    """A layer without parameters (book 4.4.1): subtracts the mean of the whole input, so its output has mean 0.
    Any shape in, the same shape out."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - x.mean()


class MyLinear(nn.Module):
    """A dense layer that owns its parameters (book 4.4.2): ``relu(x @ weight + bias)`` with weight (in, out) drawn
    from N(0, 1) and bias (out,) from N(0, 1); ``activation=False`` leaves the ReLU out. (B, in) -> (B, out)."""

    def __init__(self, in_features: int, out_features: int, activation: bool = True,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ConfigError(f"in_features and out_features must be >= 1, got {in_features} and {out_features}")
        self.weight = nn.Parameter(torch.randn(in_features, out_features, generator=generator))
        self.bias = nn.Parameter(torch.randn(out_features, generator=generator))
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x @ self.weight + self.bias  # (B, in) @ (in, out) + (out,)
        return torch.relu(y) if self.activation else y


class MyDense(nn.Module):
    """Parameters in an ``nn.ParameterList`` (book 4.4.2): a chain of bias-free matrix products. The book's
    sizes (4, 4, 4, 4, 1) give three (4, 4) matrices and one (4, 1): (B, 4) -> (B, 1).

    Args:
        sizes: feature counts along the chain; matrix i is (sizes[i], sizes[i + 1]), drawn from N(0, 1).
    """

    def __init__(self, sizes: Sequence[int] = (4, 4, 4, 4, 1), generator: torch.Generator | None = None) -> None:
        super().__init__()
        if len(sizes) < 2 or min(sizes) < 1:
            raise ConfigError(f"sizes needs at least two positive sizes, got {tuple(sizes)}")
        self.params = nn.ParameterList(
            nn.Parameter(torch.randn(a, b, generator=generator)) for a, b in zip(sizes[:-2], sizes[1:-1]))
        self.params.append(nn.Parameter(torch.randn(sizes[-2], sizes[-1], generator=generator)))  # as the book does

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for weight in self.params:
            x = torch.mm(x, weight)  # (B, a) @ (a, b) -> (B, b)
        return x


class MyDictDense(nn.Module):
    """Parameters in an ``nn.ParameterDict`` (book 4.4.2), one chosen per call: ``net(x, "linear3")``.

    The book's dictionary: ``linear1`` (4, 4) and ``linear2`` (4, 1), then ``linear3`` (4, 2) added with
    ``update``; all N(0, 1). (B, 4) -> (B, 4), (B, 1) or (B, 2).
    """

    def __init__(self, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.params = nn.ParameterDict({
            "linear1": nn.Parameter(torch.randn(4, 4, generator=generator)),
            "linear2": nn.Parameter(torch.randn(4, 1, generator=generator)),
        })
        self.params.update({"linear3": nn.Parameter(torch.randn(4, 2, generator=generator))})

    def forward(self, x: torch.Tensor, choice: str = "linear1") -> torch.Tensor:
        if choice not in self.params:
            raise ConfigError(f"unknown choice {choice!r}; MyDictDense holds {', '.join(self.params.keys())}")
        return torch.mm(x, self.params[choice])
