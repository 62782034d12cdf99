"""The linear layers and networks of the layers tutorial, part 1 ("common neural-network layers", 1.2-1.3): a linear
layer built three ways, the three-layer linear ``Dense`` network and the depth/width study network ``DNN``.

* `LinearFunction`: ``Y = X W + b`` as a ``torch.autograd.Function`` with a hand-written backward,
  dL/dX = dL/dY W^T, dL/dW = X^T dL/dY, dL/db = sum over the batch of dL/dY (checked with
  ``torch.autograd.gradcheck`` in float64). The tutorial's version multiplies by ``weight.t()`` in forward although its
  layer stores W as (in, out), transposes ``grad_output`` in dL/dW and *averages* dL/db over the batch; all three
  are fixed here (the bias is added to every row, so its gradient is the sum).
* `LinearDIY`: the tutorial's "home-made" layer with its own SGD ``step``, here updating the bias from its gradient.
  The tutorial's ``Linear_DIY.step`` subtracts ``lr * self.bias`` (the bias itself), which only shrinks the bias
  towards 0 (BOOK_EXPERIMENTS 0.3); that is not copied.
* `HandmadeLinear`: the layer as an ``nn.Module`` on `LinearFunction`, initialised uniformly in [-0.1, 0.1] as the
  seed does, usable with any ``torch.optim`` optimizer.
* `Dense`: input -> hidden -> ``n_hidden`` x (hidden -> hidden) -> output, all linear and no activation (1.3.1).
* `DNN`: the same with an optional activation after every layer but the last (1.3.2, the depth/width study).

Nothing here imports Lightning.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from zoo.errors import ConfigError

__all__ = ["DNN", "Dense", "HandmadeLinear", "LinearDIY", "LinearFunction", "StackedDNN", "linear_function"]

Activation = Literal["relu"] | None


class LinearFunction(torch.autograd.Function):
    """``Y = X W + b`` with a hand-written backward; X (B, in), W (in, out), b (out,) or ``None`` -> Y (B, out)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = x.mm(weight)  # (B, in) @ (in, out)
        return y + bias if bias is not None else y  # bias (out,) broadcast over the rows

    @staticmethod
    def backward(ctx, grad_y: torch.Tensor):  # grad_y: dL/dY, (B, out)
        x, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_y.mm(weight.t())  # (B, out) @ (out, in)
        if ctx.needs_input_grad[1]:
            grad_w = x.t().mm(grad_y)  # (in, B) @ (B, out)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_y.sum(dim=0)  # (out,): b is added to every row
        return grad_x, grad_w, grad_b


def linear_function(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``LinearFunction.apply(x, weight, bias)``: (B, in), (in, out), (out,) -> (B, out)."""
    if x.dim() != 2 or weight.dim() != 2 or x.shape[1] != weight.shape[0]:
        raise ConfigError(f"linear_function takes x (B, in) and weight (in, out); got {tuple(x.shape)} and "
                          f"{tuple(weight.shape)}")
    return LinearFunction.apply(x, weight, bias)


def _check_sizes(**sizes: int) -> None:
    bad = {k: v for k, v in sizes.items() if v < 1}
    if bad:
        raise ConfigError("sizes must be >= 1, got " + ", ".join(f"{k}={v}" for k, v in bad.items()))


class LinearDIY(nn.Module):
    """The layers tutorial's home-made linear layer (1.2.1): weight (in, out) and bias (out,) drawn from N(0, 1),
    forward through `LinearFunction`, and its own plain SGD `step`. (B, in) -> (B, out)."""

    def __init__(self, input_size: int, output_size: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        _check_sizes(input_size=input_size, output_size=output_size)
        self.weight = nn.Parameter(torch.randn(input_size, output_size, generator=generator))
        self.bias = nn.Parameter(torch.randn(output_size, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear_function(x, self.weight, self.bias)

    @torch.no_grad()
    def step(self, lr: float = 1e-3) -> None:
        """``p <- p - lr * p.grad`` for the weight **and the bias** (from its gradient), then zero the gradients."""
        for p in (self.weight, self.bias):
            if p.grad is None:
                raise ConfigError("LinearDIY.step needs gradients: call loss.backward() first")
            p -= lr * p.grad
            p.grad.zero_()


class HandmadeLinear(nn.Module):
    """The layers tutorial's ``Linear`` (1.2.3): an ``nn.Module`` on `LinearFunction` with weight (in, out) and an
    optional bias, both uniform in [-0.1, 0.1]. (B, in) -> (B, out)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        _check_sizes(in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features).uniform_(-0.1, 0.1))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features).uniform_(-0.1, 0.1))
        else:
            self.register_parameter("bias", None)  # registered although absent, as the tutorial explains

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear_function(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class DNN(nn.Module):
    """The layers tutorial's depth/width network (1.3.2): ``input -> hidden``, ``n_hidden`` x ``hidden -> hidden``,
    ``hidden -> output`` (``nn.Linear`` with PyTorch's default init), with ``activation`` after every layer but the
    last. Without an activation the whole network is one affine map, however deep or wide. (B, in) -> (B, out).

    Args:
        activation: ``None`` (purely linear) or ``"relu"``.
    """

    def __init__(self, input_size: int, output_size: int, hidden_size: int, n_hidden: int = 1,
                 activation: Activation = None) -> None:
        super().__init__()
        _check_sizes(input_size=input_size, output_size=output_size, hidden_size=hidden_size)
        if n_hidden < 0:
            raise ConfigError(f"n_hidden must be >= 0, got {n_hidden}")
        if activation not in (None, "relu"):
            raise ConfigError(f"unknown activation {activation!r}; choose None (linear) or 'relu'")
        self.activation = activation
        self.input = nn.Linear(input_size, hidden_size)
        self.hiddens = nn.ModuleList(nn.Linear(hidden_size, hidden_size) for _ in range(n_hidden))
        self.output = nn.Linear(hidden_size, output_size)

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) if self.activation == "relu" else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._act(self.input(x))  # (B, hidden)
        for layer in self.hiddens:
            x = self._act(layer(x))
        return self.output(x)  # (B, out)


class Dense(DNN):
    """The layers tutorial's three-layer linear network (1.3.1): `DNN` without an activation; the tutorial trains
    10-10-2 with one hidden layer (input 10, hidden 10, output 2)."""

    def __init__(self, input_size: int = 10, output_size: int = 2, hidden_size: int = 10, n_hidden: int = 1) -> None:
        super().__init__(input_size, output_size, hidden_size, n_hidden, activation=None)


class StackedDNN(nn.Module):
    """Several `DNN`s of one input, hidden and output size evaluated as one batch of matrix products, so a study of
    many configurations trains in one loop (the layers tutorial's 1.3.2 runs ten of them for 20,000 steps each).

    Member m's layers are stacked along a leading dimension: the input layer (M, in, hidden), each hidden layer
    (M, hidden, hidden), the output layer (M, hidden, out) (weights transposed from ``nn.Linear``'s (out, in)).
    A member with fewer hidden layers than the deepest passes its activations through the layers it lacks
    unchanged; those slots hold zeros, get no gradient and so are never moved by an elementwise optimizer such as
    Adam or SGD (tests/test_handmade_layers.py checks that stacked training equals training each net alone).
    Each member has its own activation (ReLU or none).

    Args:
        nets: the networks to stack; `write_back` copies the trained parameters into them.
    """

    def __init__(self, nets: list[DNN]) -> None:
        super().__init__()
        if not nets:
            raise ConfigError("StackedDNN needs at least one network")
        shapes = {(n.input.in_features, n.input.out_features, n.output.out_features) for n in nets}
        if len(shapes) != 1:
            raise ConfigError(f"StackedDNN stacks networks of one (input, hidden, output) size, got {sorted(shapes)}")
        (_, hidden, _), = shapes
        depth = max(len(n.hiddens) for n in nets)

        def stack(layers: list[nn.Linear | None]) -> tuple[nn.Parameter, nn.Parameter]:
            weights = [torch.zeros(hidden, hidden) if lin is None else lin.weight.detach().t() for lin in layers]
            biases = [torch.zeros(hidden) if lin is None else lin.bias.detach() for lin in layers]
            return nn.Parameter(torch.stack(weights).clone()), nn.Parameter(torch.stack(biases).unsqueeze(1).clone())

        self.w_in, self.b_in = stack([n.input for n in nets])  # (M, in, H), (M, 1, H)
        pairs = [stack([n.hiddens[l] if l < len(n.hiddens) else None for n in nets]) for l in range(depth)]
        self.w_hidden = nn.ParameterList(w for w, _ in pairs)  # each (M, H, H)
        self.b_hidden = nn.ParameterList(b for _, b in pairs)  # each (M, 1, H)
        self.w_out, self.b_out = stack([n.output for n in nets])  # (M, H, out), (M, 1, out)
        active = torch.tensor([[l < len(n.hiddens) for n in nets] for l in range(depth)], dtype=torch.bool)
        self.register_buffer("active", active.view(depth, len(nets), 1, 1))  # (L, M, 1, 1)
        relu = torch.tensor([n.activation == "relu" for n in nets], dtype=torch.bool)
        self.register_buffer("relu", relu.view(-1, 1, 1))  # (M, 1, 1)
        self.all_relu, self.no_relu = bool(relu.all()), not bool(relu.any())

    def _act(self, z: torch.Tensor) -> torch.Tensor:
        if self.no_relu:
            return z
        if self.all_relu:
            return torch.relu(z)
        return torch.where(self.relu, torch.relu(z), z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in) shared by every member -> (M, B, out)
        h = self._act(torch.matmul(x, self.w_in) + self.b_in)  # (B, in) @ (M, in, H) -> (M, B, H)
        for layer, (w, b) in enumerate(zip(self.w_hidden, self.b_hidden)):
            z = self._act(torch.baddbmm(b, h, w))  # (M, B, H)
            h = z if bool(self.active[layer].all()) else torch.where(self.active[layer], z, h)
        return torch.baddbmm(self.b_out, h, self.w_out)  # (M, B, out)

    @torch.no_grad()
    def write_back(self, nets: list[DNN]) -> None:
        """Copy the trained parameters into ``nets`` (the networks this was built from, in the same order)."""
        for m, net in enumerate(nets):
            layers = [(net.input, self.w_in, self.b_in), (net.output, self.w_out, self.b_out)]
            layers += [(lin, self.w_hidden[l], self.b_hidden[l]) for l, lin in enumerate(net.hiddens)]
            for lin, w, b in layers:
                lin.weight.copy_(w[m].t())
                lin.bias.copy_(b[m, 0])
