"""The training commands of ``python -m zoo``: ``recipe`` (a book experiment through LightningCLI), ``list`` (the
recipes) and ``models`` (the model catalogue, `zoo.models`).

    python -m zoo recipe NAME|PATH.yaml [LightningCLI arguments]    # = fit --config recipes/NAME.yaml ...
    python -m zoo recipe NAME --help                                # the recipe's values and the book's result
    python -m zoo list [--paths]
    python -m zoo models [PATTERN]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from zoo.errors import ConfigError
from zoo.io.recipe_files import ENV_RECIPES_PATH, describe, recipe_path, recipes, recipes_dir

__all__ = ["list_command", "models_command", "recipe_command", "recipe_help"]

_RECIPE_USAGE = """usage: python -m zoo recipe NAME|PATH.yaml [LightningCLI arguments]

Train a recipe (a book experiment): the same as python -m zoo fit --config recipes/NAME.yaml [arguments].
  python -m zoo recipe gru_lyrics                          # the book's GRU on the Jay Chou lyrics
  python -m zoo recipe gru_lyrics --trainer.max_epochs 10   # any value overridden on the command line
  python -m zoo recipe path/to/own.yaml                     # a recipe file of your own
  python -m zoo recipe NAME --help                          # the recipe's values and the book's result
  python -m zoo recipe NAME --print_config                  # every resolved value, Lightning's included
python -m zoo list names the recipes; python -m zoo fit --help lists every LightningCLI option."""


def recipe_command(argv: Sequence[str]) -> int:
    """``python -m zoo recipe NAME [args]``: LightningCLI ``fit`` on the recipe's YAML file."""
    from zoo.cli.main import run_lightning_cli

    if not argv or argv[0] in ("-h", "--help"):
        print(_RECIPE_USAGE)
        return 0 if argv else 2
    if argv[0].startswith("-"):
        raise ConfigError(f"the recipe's name comes first: python -m zoo recipe NAME {' '.join(argv)}")
    path = recipe_path(argv[0])
    if any(a in ("-h", "--help") for a in argv[1:]):
        print(recipe_help(argv[0], path))
        return 0
    run_lightning_cli(["fit", "--config", str(path), *argv[1:]])
    return 0


def recipe_help(name: str, path: Path) -> str:
    """The recipe's header (the book's experiment and printed result), its model, data and trainer values as they
    resolve (every default of the model filled in), and where to find the rest."""
    import yaml

    from zoo.cli.main import run_lightning_cli

    text = path.read_text(encoding="utf-8")
    header = [line.lstrip("# ").rstrip() for line in text.splitlines() if line.startswith("#")]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.suppress(SystemExit):
        run_lightning_cli(["fit", "--config", str(path), "--print_config"])
    resolved = yaml.safe_load(buffer.getvalue()) or {}
    own = yaml.safe_load(text) or {}
    trainer = {key: resolved.get("trainer", {}).get(key) for key in (own.get("trainer") or {})}
    shown = {"seed_everything": resolved.get("seed_everything"), "model": resolved.get("model"),
             "data": resolved.get("data"), "trainer (the values this recipe sets)": trainer}
    return "\n".join([f"recipe {name}: {path}", *[f"  {line}" for line in header], "",
                      yaml.safe_dump(shown, sort_keys=False, allow_unicode=True).rstrip(), "",
                      f"Override any value: python -m zoo recipe {name} --model.init_args.lr 0.01",
                      f"Every resolved value: python -m zoo recipe {name} --print_config; every option: "
                      "python -m zoo fit --help"])


def list_command(argv: Sequence[str]) -> int:
    """``python -m zoo list [--paths]``: every recipe with its description (``--paths``: with its file instead)."""
    parser = argparse.ArgumentParser(prog="python -m zoo list", description="Every recipe with its description.")
    parser.add_argument("--paths", action="store_true", help="print each recipe's file instead of its description")
    args = parser.parse_args(argv)
    found = recipes()
    if not found:
        raise ConfigError(f"no recipes found: {recipes_dir()} holds no .yaml file (a broken install? reinstall "
                          f"lightning-zoo) and ${ENV_RECIPES_PATH} names no folder with recipes")
    width = max(len(n) for n in found)
    _print_lines(f"{name:<{width}}  {path if args.paths else describe(path)}" for name, path in found.items())
    return 0


def models_command(argv: Sequence[str]) -> int:
    """``python -m zoo models [PATTERN]``: the model catalogue, one line per model."""
    from zoo.models import list_models, model_info

    parser = argparse.ArgumentParser(prog="python -m zoo models", description=(
        "Every model of the zoo: its name (for zoo.create_model, torch.hub and the recipes' names), class, book "
        "section, input and the recipes that train it."), epilog="example: python -m zoo models 'resnet*'")
    parser.add_argument("pattern", nargs="?", default=None, help="shell-style pattern of names (default: all)")
    args = parser.parse_args(argv)
    infos = [model_info(name) for name in list_models(args.pattern)]
    if not infos:
        raise ConfigError(f"no model matches {args.pattern!r}; python -m zoo models lists them all")
    width = max(len(i.name) for i in infos)
    lines = []
    for info in infos:
        lines.append(f"{info.name:<{width}}  zoo.{info.class_name}: {info.summary} (book {info.section}; {info.input})")
        lines.append(f"{'':<{width}}  recipes: {', '.join(info.recipes) or 'none (python -m zoo translator-study)'}")
    _print_lines(lines)
    return 0


def _print_lines(lines) -> None:
    try:
        for line in lines:
            print(line, flush=True)
    except BrokenPipeError:  # `zoo list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
