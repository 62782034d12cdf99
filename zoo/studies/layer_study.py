"""``python -m zoo layers-study``: the experiments of the layers tutorial, part 1 (experiments 1 to 3), with
their loss curves.

    python -m zoo layers-study [--steps-scale 1.0] [--out-dir runs/layers_study]

* Experiment 1 (fig1): the home-made `zoo.nets.handmade.LinearDIY` (10 -> 2, hand-written backward and SGD step) fits
  y = x W on 500 samples, x ~ N(0, 1) (500, 10), W ~ N(0, 1) (10, 2); lr 1e-2, batches of 5 drawn with replacement,
  2,000 steps, mean squared error. Unlike the tutorial, the bias is updated from its gradient.
* Experiment 2 (fig2): the linear `Dense` 10-10-2 on the same kind of data, ``torch.optim.SGD`` lr 1e-3, batch 5,
  5,000 steps.
* Experiment 3 (fig4-fig7): `DNN` (input 10, output 10) on *random* targets y ~ N(0, 1) (500, 10), so the network must
  memorise; Adam lr 1e-3 scaled by ``LambdaLR(0.99 ** (step / 50))``, batch 5, 20,000 steps. fig4/fig5 vary the
  depth (hidden 128, n_hidden 1 to 5) without/with ReLU; fig6/fig7 vary the width (n_hidden 3, hidden 16 to 256;
  the tutorial does not list its widths) without/with ReLU.

The tutorial's text concludes: without a nonlinearity neither depth nor width helps; with ReLU both help but saturate,
and n_hidden 5 does no better than 3. Curves are averaged over windows of 20 steps (fig1, fig2) or 50 (fig4-7) and
drawn on a log scale, as the tutorial's; the printed final loss of a run is the mean of its last 50 step losses.

Speed: the 18 distinct experiment 3 runs of 20,000 Adam steps on batches of 5 are all overhead, no arithmetic. Runs of
one hidden width are trained together as one `zoo.nets.handmade.StackedDNN` (batched matrix products; one optimizer
over all of them, which for an elementwise optimizer is the same as separate runs; a test checks it), on one CPU
thread, which is fastest for such small matrices. Every run of a configuration starts from the same random state
(``--seed``; data first, then the network) and all runs see the same batches, as the tutorial's runs, reseeded each
time, do.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from zoo.errors import ConfigError
from zoo.files import check_output_file
from zoo.nets.handmade import DNN, Dense, LinearDIY, StackedDNN

__all__ = ["DEPTHS", "WIDTHS", "final_loss", "layers_study_command", "plot_loss_curves_by_step", "train_dense",
           "train_dnn_study", "train_linear_diy"]

DATA_SIZE, INPUT_SIZE, BATCH = 500, 10, 5
DEPTHS = (1, 2, 3, 4, 5)  # n_hidden of fig4/fig5, hidden 128
WIDTHS = (16, 32, 64, 128, 256)  # hidden_size of fig6/fig7, n_hidden 3
STUDY_HIDDEN, STUDY_DEPTH = 128, 3
Config = tuple[int, int, str | None]  # hidden_size, n_hidden, activation


def _batches(steps: int, seed: int) -> torch.Tensor:
    """(steps, 5) sample indices drawn with replacement, the same for every run of one seed."""
    return torch.randint(0, DATA_SIZE, (steps, BATCH), generator=torch.Generator().manual_seed(seed))


def _linear_data(seed: int, output_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    x = torch.randn(DATA_SIZE, INPUT_SIZE)  # (500, 10)
    w = torch.randn(INPUT_SIZE, output_size)  # (10, 2)
    return x, x @ w  # y = x W, no bias and no noise


def train_linear_diy(steps: int = 2000, lr: float = 1e-2, seed: int = 1) -> torch.Tensor:
    """Experiment 1: the loss of every step, (steps,). The layer is initialised after the data, from the same seed."""
    x, y = _linear_data(seed, 2)
    layer = LinearDIY(INPUT_SIZE, 2)
    losses = torch.empty(steps)
    for step, idx in enumerate(_batches(steps, seed)):
        loss = ((layer(x[idx]) - y[idx]) ** 2).mean()
        loss.backward()
        layer.step(lr)  # weight and bias, each from its own gradient
        losses[step] = loss.detach()
    return losses


def train_dense(steps: int = 5000, lr: float = 1e-3, seed: int = 1) -> torch.Tensor:
    """Experiment 2: `Dense` 10-10-2 with ``torch.optim.SGD``; the loss of every step, (steps,)."""
    x, y = _linear_data(seed, 2)
    model = Dense(INPUT_SIZE, 2, hidden_size=10, n_hidden=1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = torch.empty(steps)
    for step, idx in enumerate(_batches(steps, seed)):
        loss = nn.functional.mse_loss(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses[step] = loss.detach()
    return losses


def _adam(params: list[nn.Parameter], lr: float) -> torch.optim.Adam:
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)  # one kernel for every tensor: the loop's largest cost
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr, foreach=True)


def train_dnn_study(configs: Sequence[Config], steps: int = 20000, lr: float = 1e-3, seed: int = 1,
                    decay_every: float = 50.0) -> tuple[dict[Config, torch.Tensor], dict[Config, DNN]]:
    """Experiment 3: train a `DNN` (input 10, output 10) per configuration on random targets.

    Each configuration's network is built right after drawing the data with ``torch.manual_seed(seed)``; Adam
    (``lr``) with ``LambdaLR(0.99 ** (step / decay_every))``, batches of 5 with replacement, MSE.

    Returns:
        the loss of every step per configuration, (steps,) each, and the trained networks.
    """
    configs = list(dict.fromkeys(configs))  # a configuration of both studies runs once
    nets: dict[Config, DNN] = {}
    for config in configs:
        torch.manual_seed(seed)
        x, y = torch.randn(DATA_SIZE, INPUT_SIZE), torch.randn(DATA_SIZE, INPUT_SIZE)  # (500, 10) each
        nets[config] = DNN(INPUT_SIZE, INPUT_SIZE, config[0], config[1], config[2])
    groups: dict[int, list[Config]] = {}
    for config in configs:
        groups.setdefault(config[0], []).append(config)
    stacks = [StackedDNN([nets[c] for c in members]) for members in groups.values()]
    order = [c for members in groups.values() for c in members]
    optimizer = _adam([p for s in stacks for p in s.parameters()], lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.99 ** (step / decay_every))
    losses = torch.empty(steps, len(order))
    for step, idx in enumerate(_batches(steps, seed)):
        xb, yb = x[idx], y[idx]  # (5, 10) each
        per_run = torch.cat([((s(xb) - yb) ** 2).mean(dim=(1, 2)) for s in stacks])  # (runs,) MSE of each run
        optimizer.zero_grad(set_to_none=True)
        per_run.sum().backward()  # the runs share no parameter: each gets its own gradient
        optimizer.step()
        scheduler.step()
        losses[step] = per_run.detach()
    for stack, members in zip(stacks, groups.values()):
        stack.write_back([nets[c] for c in members])
    return {c: losses[:, i].clone() for i, c in enumerate(order)}, nets


def final_loss(losses: torch.Tensor, last: int = 50) -> float:
    """Mean of the last ``last`` step losses (all of them for a shorter run)."""
    return float(losses[-last:].mean())


def _smooth(losses: torch.Tensor, window: int) -> tuple[list[int], list[float]]:
    """The tutorial's plot points: the mean of each window of ``window`` steps, at the window's first step."""
    starts = list(range(0, len(losses), window))
    return starts, [float(losses[s:s + window].mean()) for s in starts]


def plot_loss_curves_by_step(curves: dict[str, torch.Tensor], window: int, out: str | Path, title: str) -> Path:
    """Write a PNG of loss against step (log scale), one line per label, each averaged over ``window`` steps."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.subplots()
    for label, losses in curves.items():
        xs, ys = _smooth(losses, window)
        ax.plot(xs, ys, label=label, linewidth=1.2)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(f"loss (mean of {window} steps)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize=8)
    from zoo.runtime.plots import save_figure

    return save_figure(fig, out, bbox_inches="tight")


def _name(config: Config) -> str:
    hidden, depth, activation = config
    return f"hidden {hidden}, n_hidden {depth}, {activation or 'no activation'}"


def layers_study_command(argv: Sequence[str]) -> int:
    """``python -m zoo layers-study``: run experiment 1, experiment 2 and experiment 3, write fig1, fig2 and
    fig4-fig7, print the final losses."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo layers-study",
        description="The layers tutorial, part 1: a hand-made linear layer (fig1), a three-layer linear network "
                    "(fig2), and depth and width without/with ReLU on random targets (fig4-fig7). Prints each final "
                    "loss (mean of the last 50 steps).",
        epilog="example: python -m zoo layers-study --steps-scale 0.1 --out-dir runs/layers_study_quick")
    parser.add_argument("--steps-scale", type=float, default=1.0,
                        help="multiply every step count (2,000, 5,000, 20,000) by this (default: 1)")
    parser.add_argument("--out-dir", default="runs/layers_study",
                        help="folder of the PNGs (default: runs/layers_study)")
    parser.add_argument("--seed", type=int, default=1, help="seed of data, initialisation and batches (default: 1)")
    args = parser.parse_args(argv)
    if not 0 < args.steps_scale <= 10:
        raise ConfigError(f"--steps-scale must be in (0, 10], got {args.steps_scale}")
    steps = {name: max(1, round(n * args.steps_scale)) for name, n in (("s1", 2000), ("s2", 5000), ("s3", 20000))}
    out = Path(args.out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out-dir {out} is a file; give the folder to write the figures into")
    check_output_file(out / "fig1_linear_diy.png", flag="--out-dir")  # before minutes of training
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only add synchronisation
    try:
        start = time.perf_counter()
        s1 = train_linear_diy(steps["s1"], seed=args.seed)
        fig = plot_loss_curves_by_step({"LinearDIY": s1}, 20, out / "fig1_linear_diy.png",
                                       f"experiment 1: hand-made linear layer 10->2, SGD lr 1e-2, {steps['s1']} steps")
        print(f"experiment 1 LinearDIY 10->2: final loss {final_loss(s1):.3e}  ({fig})")
        s2 = train_dense(steps["s2"], seed=args.seed)
        fig = plot_loss_curves_by_step({"Dense 10-10-2": s2}, 20, out / "fig2_dense.png",
                                       f"experiment 2: linear Dense 10-10-2, SGD lr 1e-3, {steps['s2']} steps")
        print(f"experiment 2 Dense 10-10-2: final loss {final_loss(s2):.3e}  ({fig})")
        depth = [(STUDY_HIDDEN, n, a) for a in (None, "relu") for n in DEPTHS]
        width = [(h, STUDY_DEPTH, a) for a in (None, "relu") for h in WIDTHS]
        losses, _ = train_dnn_study(depth + width, steps["s3"], seed=args.seed)
        print(f"experiment 3 DNN on random targets, {steps['s3']} Adam steps (final loss = mean of the last 50 steps):")
        figures = (("fig4_depth_linear.png", "depth, no activation", [c for c in depth if c[2] is None], 1),
                   ("fig5_depth_relu.png", "depth, ReLU", [c for c in depth if c[2] == "relu"], 1),
                   ("fig6_width_linear.png", "width, no activation", [c for c in width if c[2] is None], 0),
                   ("fig7_width_relu.png", "width, ReLU", [c for c in width if c[2] == "relu"], 0))
        for filename, what, configs, varied in figures:
            label = "n_hidden" if varied == 1 else "hidden"
            curves = {f"{label}={c[varied]}": losses[c] for c in configs}
            fixed = f"hidden {STUDY_HIDDEN}" if varied == 1 else f"n_hidden {STUDY_DEPTH}"
            fig = plot_loss_curves_by_step(curves, 50, out / filename, f"experiment 3: {what} ({fixed}), Adam 1e-3")
            print(f"  {what} ({fig}):")
            for c in configs:
                print(f"    {_name(c):<40} {final_loss(losses[c]):.4e}")
        print(f"done in {time.perf_counter() - start:.0f} s")
    finally:
        torch.set_num_threads(threads)
    return 0
