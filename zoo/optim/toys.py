"""The small gradient-descent experiments of book 7.2 to 7.6: an optimizer's path on a known function, and its plot.

The book iterates hand-coded update rules (``gd_2d``, ``momentum_2d``, ``adagrad_2d``, ``rmsprop_2d``) from
(-5, -2) for 20 steps. Here the same paths come from the real optimizers of `zoo.optim.scratch` (or any registered one)
acting on a float64 parameter, with the gradient from autograd, so the toys test the optimizers the recipes use:

>>> end = trajectory("momentum_scratch", "elongated", lr=0.4, momentum=0.5)[-1]
>>> print(format_endpoint(end, 20))
epoch 20, x1 -0.062843, x2 0.001202

Functions (`TOY_FUNCTIONS`): ``square`` f(x) = x^2 from x = 10 (7.2.1, 10 steps), ``bowl`` f = x1^2 + 2 x2^2
(7.2.3) and ``elongated`` f = 0.1 x1^2 + 2 x2^2 (7.4 to 7.6), both from (-5, -2).

``noise_std`` adds N(0, noise_std^2) to every gradient, the simulated stochastic gradient of 7.2.4. (The book's code
calls ``np.random.normal(0.1)``, which draws with mean 0.1 and standard deviation 1, although its text describes
zero-mean noise; we follow the text.)

Nothing here imports Lightning; `trajectory_figure` uses matplotlib's object API (no pyplot, no global backend).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from zoo.errors import ConfigError
from zoo.optim.builder import build_optimizer

__all__ = ["TOY_FUNCTIONS", "ToyFunction", "format_endpoint", "trajectory", "trajectory_figure"]

Point = tuple[float, ...]


@dataclass(frozen=True)
class ToyFunction:
    """An objective of chapter 7 with the book's start point, step count and plot window."""

    fn: Callable[[torch.Tensor], torch.Tensor]
    start: Point
    steps: int
    formula: str
    window: tuple[tuple[float, float], ...]  # plot range per coordinate, widened to fit the path


TOY_FUNCTIONS: dict[str, ToyFunction] = {
    "square": ToyFunction(lambda x: (x**2).sum(), (10.0,), 10, "f(x) = x^2", ((-10.0, 10.0),)),
    "bowl": ToyFunction(lambda x: x[0] ** 2 + 2 * x[1] ** 2, (-5.0, -2.0), 20, "f(x) = x1^2 + 2 x2^2",
                        ((-5.5, 1.0), (-3.0, 1.0))),
    "elongated": ToyFunction(lambda x: 0.1 * x[0] ** 2 + 2 * x[1] ** 2, (-5.0, -2.0), 20,
                             "f(x) = 0.1 x1^2 + 2 x2^2", ((-5.5, 1.0), (-3.0, 1.0))),
}


def _toy(function: str) -> ToyFunction:
    if function not in TOY_FUNCTIONS:
        raise ConfigError(f"unknown toy function {function!r}; choose one of {', '.join(TOY_FUNCTIONS)}")
    return TOY_FUNCTIONS[function]


def trajectory(
    optimizer: str,
    function: str = "bowl",
    lr: float = 0.1,
    steps: int | None = None,
    start: Sequence[float] | None = None,
    noise_std: float = 0.0,
    seed: int = 0,
    **hyperparams: float | str,
) -> list[Point]:
    """The points an optimizer visits on a toy function, start included (``steps + 1`` points).

    Args:
        optimizer: a registered optimizer name (``"momentum_scratch"``, ``"sgd"``, ...).
        function: a key of `TOY_FUNCTIONS`.
        lr: learning rate (the book's eta).
        steps: iterations; default the book's (20, or 10 for ``square``).
        start: start point; default the book's.
        noise_std: standard deviation of Gaussian noise added to each gradient (7.2.4); 0 for exact gradients.
        seed: seed of that noise.
        **hyperparams: the optimizer's other arguments (``momentum``, ``gamma``, ``eps``, ...).
    """
    toy = _toy(function)
    steps = toy.steps if steps is None else steps
    if steps < 0:
        raise ConfigError(f"steps must be >= 0, got {steps}")
    start = tuple(float(v) for v in (toy.start if start is None else start))
    if len(start) != len(toy.start):
        raise ConfigError(f"{function} takes a {len(toy.start)}-D start point, got {start}")
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)  # float64: the book iterates Python floats
    momentum = float(hyperparams.pop("momentum", 0.0))
    opt = build_optimizer(optimizer, [x], lr, momentum=momentum, extra=hyperparams)
    noise = torch.Generator().manual_seed(seed)
    points = [start]
    for _ in range(steps):
        opt.zero_grad()
        toy.fn(x).backward()
        if noise_std:
            x.grad += noise_std * torch.randn(x.shape, generator=noise, dtype=x.dtype)
        opt.step()
        points.append(tuple(x.detach().tolist()))
    return points


def format_endpoint(point: Point, steps: int) -> str:
    """The book's ``train_2d`` line: ``epoch 20, x1 -0.057646, x2 -0.000073`` (or ``epoch 10, x: ...`` in 1-D)."""
    if len(point) == 1:
        return f"epoch {steps}, x: {point[0]:f}"
    return f"epoch {steps}, " + ", ".join(f"x{i + 1} {v:f}" for i, v in enumerate(point))


def _span(values: Sequence[float], window: tuple[float, float]) -> tuple[float, float]:
    """``window`` widened to hold every value, with a 5 % margin when widened."""
    low, high = min(window[0], *values), max(window[1], *values)
    if (low, high) != window:
        margin = 0.05 * (high - low)
        low, high = low - margin, high + margin
    return low, high


def trajectory_figure(points: Sequence[Point], function: str, title: str | None = None):
    """A matplotlib ``Figure`` of the path over the function: contours in 2-D (book ``show_trace_2d``), the curve in
    1-D. Writing it is the caller's (``zoo.runtime.plots.save_figure``)."""
    from matplotlib.figure import Figure  # imported here: the optimizers never need matplotlib

    toy = _toy(function)
    if any(len(p) != len(toy.start) for p in points):
        raise ConfigError(f"{function} is {len(toy.start)}-D; the points have another dimension")
    fig = Figure(figsize=(5, 4), dpi=100)
    ax = fig.subplots()
    if len(toy.start) == 1:
        xs = [p[0] for p in points]
        lo, hi = _span(xs, toy.window[0])
        grid = torch.linspace(lo, hi, 400, dtype=torch.float64)
        ax.plot(grid.tolist(), [float(toy.fn(v.reshape(1))) for v in grid], color="#1f77b4")
        ax.plot(xs, [float(toy.fn(torch.tensor([v]))) for v in xs], "-o", color="#ff7f0e")
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
    else:
        x1s, x2s = [p[0] for p in points], [p[1] for p in points]
        g1 = torch.linspace(*_span(x1s, toy.window[0]), 300, dtype=torch.float64)
        g2 = torch.linspace(*_span(x2s, toy.window[1]), 300, dtype=torch.float64)
        m1, m2 = torch.meshgrid(g1, g2, indexing="xy")  # (300, 300) each
        ax.contour(m1.numpy(), m2.numpy(), toy.fn(torch.stack([m1, m2])).numpy(), colors="#1f77b4", levels=12)
        ax.plot(x1s, x2s, "-o", color="#ff7f0e", markersize=4)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    ax.set_title(title or toy.formula, fontsize=9)
    return fig
