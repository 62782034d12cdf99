"""``python -m zoo edge-kernel``: learn the (1, 2) edge-detection kernel by gradient descent (E5.1, book 5.1.4).

    python -m zoo edge-kernel [--steps 20] [--lr 0.01] [--seed 0]

Prints the loss every 5 steps and the learned weight and bias, in the book's format (book: step 20 loss 0.003,
weight [[0.9948, -1.0092]], bias [0.0080]; the start is random, so the digits differ from run to run of the book).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["edge_kernel_command"]


def edge_kernel_command(argv: Sequence[str]) -> int:
    """Fit `Conv2D((1, 2))` from the 6x8 band image to its edges and print the book's report."""
    from zoo.nets.conv2d_scratch import learn_edge_kernel

    parser = argparse.ArgumentParser(
        prog="python -m zoo edge-kernel",
        description="Learn the [[1, -1]] edge kernel from the book's 6x8 image (E5.1, book 5.1.4).",
        epilog="example: python -m zoo edge-kernel --steps 20 --lr 0.01")
    parser.add_argument("--steps", type=int, default=20, help="gradient steps (default: 20, as the book)")
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate (default: 0.01, as the book)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the N(0, 1) start (default: 0)")
    args = parser.parse_args(argv)
    fit = learn_edge_kernel(steps=args.steps, lr=args.lr, seed=args.seed)
    print(fit.report())
    print("target: weight [[1, -1]], bias [0] (book after 20 steps: loss 0.003, weight [[0.9948, -1.0092]], "
          "bias [0.0080])")
    return 0
