"""The text commands of ``python -m zoo``: ``generate`` writes text with a language-model checkpoint.

    python -m zoo generate --ckpt PATH [--prefix TEXT ...] [--length N] [--temperature T] [--seed S]

The vocabulary travels in the checkpoint's hyperparameters, so the checkpoint is all it needs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

from zoo.errors import ConfigError
from zoo.tasks.checkpoint import load_task

__all__ = ["generate_command"]


def generate_command(argv: Sequence[str]) -> int:
    """``python -m zoo generate``: text from a language-model checkpoint, one line per prefix."""
    parser = argparse.ArgumentParser(prog="python -m zoo generate",
                                     description="Write text with a trained language-model checkpoint.")
    parser.add_argument("--ckpt", required=True, help="checkpoint written by a zoo language model")
    parser.add_argument("--prefix", action="append", help="start text (repeatable); default: the model's prefixes")
    parser.add_argument("--length", type=int, default=None, help="characters to write (default: the model's)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (the book); > 0 samples")
    parser.add_argument("--seed", type=int, default=0, help="random seed for sampling")
    args = parser.parse_args(argv)

    model = load_task(args.ckpt)
    if not hasattr(model, "generate"):
        raise ConfigError(f"{args.ckpt} holds a {type(model).__name__}, which does not generate text")
    prefixes = args.prefix or model.prompts()
    length = model.hparams.pred_len if args.length is None else args.length
    generator = torch.Generator().manual_seed(args.seed)
    for prefix in prefixes:
        print(model.generate(prefix, length, temperature=args.temperature, generator=generator))
    return 0
