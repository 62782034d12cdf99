"""``python -m zoo``: LightningCLI for recipes, plus the zoo's own small commands.

    python -m zoo fit|validate|test|predict --config recipes/NAME.yaml [--section.key value ...]
    python -m zoo recipe NAME [extra LightningCLI arguments]     # = fit --config recipes/NAME.yaml
    python -m zoo list                                            # every recipe with its description
    python -m zoo generate --ckpt PATH [--prefix TEXT ...]        # text from a language-model checkpoint
    python -m zoo trajectory --optimizer NAME --lr 0.4 [...]      # an optimizer's path on a toy of book 7.2-7.6
    python -m zoo classify --ckpt PATH [--top-k K] IMAGE [...]    # class and probability per image file
    python -m zoo augment-grid --preset flip_crop_jitter --out grid.png [IMAGE ...]   # augmented samples (9.1)

Sizes that come from the data (``vocab``, ``num_classes``, ``in_channels``, ...) are linked from the datamodule to
the model. A `ZooError` (missing data, bad prompt, unknown name) is printed as one message with exit status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from zoo.errors import ConfigError, ZooError

__all__ = ["main", "recipe_path", "recipes", "run_lightning_cli"]


def recipes_dir() -> Path:
    """``./recipes`` when run from a checkout's root, else the one beside this package."""
    here = Path.cwd() / "recipes"
    return here if here.is_dir() else Path(__file__).resolve().parent.parent / "recipes"


def recipes() -> dict[str, Path]:
    return {p.stem: p for p in sorted(recipes_dir().glob("*.yaml")) if not p.stem.startswith("_")}


def recipe_path(name: str) -> Path:
    """The YAML of recipe ``name``; an unknown name raises `ConfigError` listing the known ones."""
    known = recipes()
    if name not in known:
        listing = "\n".join(f"  {n}" for n in known) or "  (none found)"
        raise ConfigError(f"unknown recipe {name!r}. Known recipes (in {recipes_dir()}):\n{listing}")
    return known[name]


def describe(path: Path) -> str:
    """The recipe's first comment line, without the leading ``# name:``."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            text = line.lstrip("# ").strip()
            return text.split(":", 1)[1].strip() if text.startswith(path.stem + ":") else text
    return ""


def run_lightning_cli(args: Sequence[str], run: bool = True):
    """Run (or, with ``run=False``, only build) the ZooCLI on ``args``."""
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*IterableDataset.*has `__len__` defined.*")  # our batches are precomputed
    warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")  # the zoo logs per epoch
    warnings.filterwarnings("ignore", ".*LeafSpec.*")
    warnings.filterwarnings("ignore", ".*LightningCLI's args parameter is intended.*")  # args are given on purpose
    if not os.environ.get("WANDB_API_KEY") and not (Path.home() / ".netrc").exists():
        os.environ.setdefault("WANDB_MODE", "offline")  # --trainer.logger WandbLogger works without an account
    from zoo.lightning_cli import ZooCLI

    return ZooCLI(
        subclass_mode_model=True,
        subclass_mode_data=True,
        save_config_kwargs={"overwrite": True},
        args=list(args),
        run=run,
    )


def _cmd_recipe(argv: Sequence[str]) -> int:
    if not argv or argv[0].startswith("-"):
        raise ConfigError("usage: python -m zoo recipe NAME [LightningCLI arguments]; `python -m zoo list` lists "
                          "the recipes")
    run_lightning_cli(["fit", "--config", str(recipe_path(argv[0])), *argv[1:]])
    return 0


def _cmd_list(argv: Sequence[str]) -> int:
    found = recipes()
    width = max((len(n) for n in found), default=0)
    for name, path in found.items():
        print(f"{name:<{width}}  {describe(path)}")
    return 0


def _cmd_generate(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo generate",
                                     description="Write text with a trained language-model checkpoint.")
    parser.add_argument("--ckpt", required=True, help="checkpoint written by a zoo language model")
    parser.add_argument("--prefix", action="append", help="start text (repeatable); default: the model's prefixes")
    parser.add_argument("--length", type=int, default=None, help="characters to write (default: the model's)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (the book); > 0 samples")
    parser.add_argument("--seed", type=int, default=0, help="random seed for sampling")
    args = parser.parse_args(argv)

    import torch

    from zoo.tasks._checkpoint import load_task

    model = load_task(args.ckpt)
    if not hasattr(model, "generate"):
        raise ConfigError(f"{args.ckpt} holds a {type(model).__name__}, which does not generate text")
    prefixes = args.prefix or model.hparams.prefixes or ["分开", "不分开"]
    length = model.hparams.pred_len if args.length is None else args.length
    generator = torch.Generator().manual_seed(args.seed)
    for prefix in prefixes:
        print(model.generate(prefix, length, temperature=args.temperature, generator=generator))
    return 0


def _cmd_trajectory(argv: Sequence[str]) -> int:
    from zoo.optim_toys import trajectory_command

    return trajectory_command(argv)


def _cmd_classify(argv: Sequence[str]) -> int:
    from zoo.vision_commands import classify_command

    return classify_command(argv)


def _cmd_augment_grid(argv: Sequence[str]) -> int:
    from zoo.vision_commands import augment_grid_command

    return augment_grid_command(argv)


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "recipe": _cmd_recipe,
    "list": _cmd_list,
    "generate": _cmd_generate,
    "trajectory": _cmd_trajectory,
    "classify": _cmd_classify,
    "augment-grid": _cmd_augment_grid,
}


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m zoo`` and the ``zoo`` script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in COMMANDS:
            sys.exit(COMMANDS[args[0]](args[1:]))
        run_lightning_cli(args)
    except ZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:
        if type(exc).__name__ != "MisconfigurationException":  # Lightning's "this run cannot work" error
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
