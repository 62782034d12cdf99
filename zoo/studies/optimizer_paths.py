"""``python -m zoo trajectory``: an optimizer's path on a toy function of book 7.2-7.6 (`zoo.optim.toys`), printed
and plotted.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from zoo.files import check_output_file
from zoo.optim.toys import TOY_FUNCTIONS, format_endpoint, trajectory, trajectory_figure
from zoo.runtime.plots import FIGURE_FORMATS, save_figure

__all__ = ["trajectory_command"]


def trajectory_command(argv: Sequence[str]) -> int:
    """``python -m zoo trajectory``: print an optimizer's endpoint on a toy function and write the plot."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo trajectory",
        description="Run an optimizer on a toy function of book 7.2-7.6, print where it ends, plot its path.",
        epilog="example: python -m zoo trajectory --optimizer momentum_scratch --lr 0.4 --momentum 0.5 "
               "--function elongated  (book 7.4: epoch 20, x1 -0.062843, x2 0.001202)")
    parser.add_argument("--optimizer", default="sgd_scratch", help="registered name (default: sgd_scratch)")
    parser.add_argument("--function", default="bowl", choices=sorted(TOY_FUNCTIONS), help="default: bowl")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate eta (default: 0.1)")
    parser.add_argument("--steps", type=int, default=None, help="iterations (default: the book's, 20 or 10)")
    parser.add_argument("--start", type=float, nargs="+", default=None, help="start point (default: -5 -2)")
    for name in ("momentum", "gamma", "rho", "eps", "alpha"):
        parser.add_argument(f"--{name}", type=float, default=None, help=f"optimizer's {name}, if it takes one")
    parser.add_argument("--eps-placement", choices=["inside", "outside"], default=None,
                        help="adagrad/rmsprop_scratch: sqrt(s + eps) (book) or sqrt(s) + eps (PyTorch)")
    parser.add_argument("--noise-std", type=float, default=0.0, help="gradient noise, as 7.2.4 (default: 0)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the gradient noise (default: 0)")
    parser.add_argument("--out", default=None, help="figure file, .png, .jpg, .pdf or .svg (default: "
                                                    "runs/trajectory/<optimizer>_<function>.png)")
    args = parser.parse_args(argv)
    out = args.out or f"runs/trajectory/{args.optimizer}_{args.function}.png"
    check_output_file(out, tuple(FIGURE_FORMATS), flag="--out")
    hyper = {k: v for k, v in {"momentum": args.momentum, "gamma": args.gamma, "rho": args.rho, "eps": args.eps,
                               "alpha": args.alpha, "eps_placement": args.eps_placement}.items() if v is not None}
    points = trajectory(args.optimizer, args.function, args.lr, args.steps, args.start, args.noise_std, args.seed,
                        **hyper)
    print(format_endpoint(points[-1], len(points) - 1))
    settings = ", ".join([f"lr {args.lr:g}", *(f"{k} {v}" for k, v in hyper.items())])
    title = f"{TOY_FUNCTIONS[args.function].formula}; {args.optimizer} ({settings})"
    figure = trajectory_figure(points, args.function, title)
    print(f"plot: {save_figure(figure, out, flag='--out', bbox_inches='tight')}")
    return 0
