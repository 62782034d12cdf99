"""``python -m zoo activations``: ReLU, sigmoid and tanh with their derivatives in one PNG (book 3.8.2).

    python -m zoo activations --out activations.png

As the book, the derivatives come from autograd (``y.sum().backward()`` on x = -8, -7.9, ..., 7.9), not from the
formulas; `activation_curves` returns both so tests can check that they agree: ReLU' is 0 for x < 0 and 1 for x > 0
(0 at x = 0, the book's choice and PyTorch's), sigmoid' = sigmoid (1 - sigmoid) with its maximum 0.25 at 0, and
tanh' = 1 - tanh^2 with its maximum 1 at 0. The figure is drawn with matplotlib's object API (no pyplot).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from zoo.errors import ConfigError

__all__ = ["ACTIVATIONS", "activation_curves", "activations_command", "plot_activations"]

#: name -> (function, its derivative by formula)
ACTIVATIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "relu": (torch.relu, lambda x: (x > 0).to(x.dtype)),
    "sigmoid": (torch.sigmoid, lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))),
    "tanh": (torch.tanh, lambda x: 1 - torch.tanh(x) ** 2),
}


def activation_curves(x: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{name: (f(x), f'(x) by autograd)}`` for ReLU, sigmoid and tanh, each (N,) like ``x``."""
    curves = {}
    for name, (fn, _) in ACTIVATIONS.items():
        leaf = x.detach().clone().requires_grad_(True)
        y = fn(leaf)
        y.sum().backward()  # d(sum y)/dx_i = f'(x_i): every output depends on its own input only
        curves[name] = (y.detach(), leaf.grad)
    return curves


def plot_activations(x: torch.Tensor, out: str | Path) -> Path:
    """Write a figure (the format of ``out``'s suffix: PNG, JPEG, PDF or SVG) with one row per activation: the
    function on the left, its derivative on the right."""
    from matplotlib.figure import Figure

    curves = activation_curves(x)
    fig = Figure(figsize=(9, 7), dpi=100)
    axes = fig.subplots(len(curves), 2, sharex=True)
    xs = x.tolist()
    for row, (name, (y, grad)) in zip(axes, curves.items()):
        row[0].plot(xs, y.tolist(), color="#1f77b4")
        row[0].set_ylabel(f"{name}(x)")
        row[1].plot(xs, grad.tolist(), color="#d62728")
        row[1].set_ylabel(f"grad of {name}")
        for ax in row:
            ax.grid(True, alpha=0.3)
            ax.axhline(0, color="k", linewidth=0.5)
            ax.axvline(0, color="k", linewidth=0.5)
    for ax in axes[-1]:
        ax.set_xlabel("x")
    axes[0][0].set_title("activation function", fontsize=10)
    axes[0][1].set_title("its derivative (autograd)", fontsize=10)
    fig.suptitle("book 3.8.2: ReLU, sigmoid and tanh", fontsize=11)
    fig.tight_layout()
    from zoo.runtime.plots import save_figure

    return save_figure(fig, out, flag="--out")


def activations_command(argv: Sequence[str]) -> int:
    """``python -m zoo activations``: write the PNG of the three activations and their derivatives."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo activations",
        description="Plot ReLU, sigmoid and tanh and their derivatives (book 3.8.2) into one PNG.",
        epilog="example: python -m zoo activations --out activations.png")
    parser.add_argument("--out", default="runs/activations.png",
                        help="figure file: .png, .jpg, .pdf or .svg (default: runs/activations.png)")
    parser.add_argument("--range", type=float, nargs=2, default=[-8.0, 8.0], metavar=("LOW", "HIGH"),
                        help="x from LOW (included) to HIGH (excluded) (default: -8 8, as the book)")
    parser.add_argument("--step", type=float, default=0.1, help="spacing of the x values (default: 0.1)")
    args = parser.parse_args(argv)
    from zoo.files import check_output_file
    from zoo.runtime.plots import FIGURE_FORMATS

    check_output_file(args.out, tuple(FIGURE_FORMATS), flag="--out")
    low, high = args.range
    if not high > low or not args.step > 0 or (high - low) / args.step > 1e6:
        raise ConfigError(f"need LOW < HIGH and 0 < step with at most a million points, got --range {low:g} "
                          f"{high:g} and --step {args.step:g}")
    x = torch.arange(low, high, args.step, dtype=torch.float64)
    print(f"wrote {plot_activations(x, args.out)}: relu, sigmoid, tanh and their derivatives on [{low:g}, {high:g})")
    return 0
