"""``python -m zoo``: LightningCLI for recipes, plus the zoo's own small commands.

    python -m zoo fit|validate|test|predict --config recipes/NAME.yaml [--section.key value ...]
    python -m zoo recipe NAME [extra LightningCLI arguments]     # = fit --config recipes/NAME.yaml
    python -m zoo recipe path/to/own.yaml [...]                   # a recipe file of your own, by path
    python -m zoo list [--paths]                                  # every recipe with its description (or file)
    python -m zoo generate --ckpt PATH [--prefix TEXT ...]        # text from a language-model checkpoint
    python -m zoo similar --vectors glove.6B.50d chip             # nearest words (or --ckpt of skipgram_ptb)
    python -m zoo analogy --vectors glove.6B.50d man woman son    # a : b :: c : ?
    python -m zoo classify-text --ckpt PATH "this movie is so great"  # label and probability per text
    python -m zoo translate --ckpt PATH "ils regardent ." --beam-size 3  # a translation per sentence
    python -m zoo translator-study [--data-dir DIR]                # seed 000: ERNN, LSTM, GRU, DNN compared
    python -m zoo trajectory --optimizer NAME --lr 0.4 [...]      # an optimizer's path on a toy of book 7.2-7.6
    python -m zoo classify --ckpt PATH [--top-k K] IMAGE [...]    # class and probability per image file
    python -m zoo augment-grid --preset flip_crop_jitter --out grid.png [IMAGE ...]   # augmented samples (9.1)
    python -m zoo anchors --image IMG --sizes 0.75 0.5 0.25 --ratios 1 2 0.5 --out anchors.png   # anchors (9.4.1)
    python -m zoo detect-demo --image IMG --out detections.png   # 9.4.3 labels, 9.4.4 NMS example, kept boxes drawn
    python -m zoo house-prices [--data-dir DIR] [--k 5] [--epochs 100] [--out submission.csv]   # Kaggle, 3.16
    python -m zoo activations --out activations.png               # ReLU, sigmoid, tanh and derivatives (3.8)
    python -m zoo layers-study [--steps-scale 1.0] [--out-dir runs/layers_study]   # seed 000 part 1, fig1-fig7
    python -m zoo edge-kernel [--steps 20] [--lr 0.01]           # learn the [[1, -1]] kernel (E5.1, 5.1.4)
    python -m zoo export --ckpt PATH --format onnx|torchscript --out FILE [--force]   # a checked graph file
    python -m zoo results [NAME ...] [--readme README.md] [--out results]   # run recipes, results/*.json, README tables

Sizes that come from the data (``vocab``, ``num_classes``, ``in_channels``, ...) are linked from the datamodule to
the model. A `ZooError` (missing data, bad prompt, unknown name) is printed as one message with exit status 1.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence

from zoo.cli.recipes import ENV_RECIPES_PATH, describe, recipe_path, recipes, recipes_dir
from zoo.errors import ConfigError, ZooError

__all__ = ["COMMANDS", "main", "run_lightning_cli"]


def run_lightning_cli(args: Sequence[str], run: bool = True):
    """Run (or, with ``run=False``, only build) the ZooCLI on ``args``."""
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*IterableDataset.*has `__len__` defined.*")  # our batches are precomputed
    warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")  # the zoo logs per epoch
    warnings.filterwarnings("ignore", ".*LeafSpec.*")
    warnings.filterwarnings("ignore", ".*LightningCLI's args parameter is intended.*")  # args are given on purpose
    from zoo.cli.zoo_cli import ZooCLI

    return ZooCLI(
        subclass_mode_model=True,
        subclass_mode_data=True,
        save_config_kwargs={"overwrite": True},
        args=list(args),
        run=run,
    )


def _cmd_recipe(argv: Sequence[str]) -> int:
    if not argv or argv[0].startswith("-"):
        raise ConfigError("usage: python -m zoo recipe NAME|PATH.yaml [LightningCLI arguments]; `python -m zoo list` "
                          "lists the recipes")
    run_lightning_cli(["fit", "--config", str(recipe_path(argv[0])), *argv[1:]])
    return 0


def _cmd_list(argv: Sequence[str]) -> int:
    """``zoo list [--paths]``: every recipe with its description (``--paths``: with its file instead)."""
    unknown = [a for a in argv if a != "--paths"]
    if unknown:
        raise ConfigError(f"usage: python -m zoo list [--paths] (got {' '.join(unknown)})")
    found = recipes()
    if not found:
        raise ConfigError(f"no recipes found: {recipes_dir()} holds no .yaml file (a broken install? reinstall "
                          f"lightning-zoo) and ${ENV_RECIPES_PATH} names no folder with recipes")
    width = max(len(n) for n in found)
    try:
        for name, path in found.items():
            print(f"{name:<{width}}  {path if '--paths' in argv else describe(path)}", flush=True)
    except BrokenPipeError:  # `zoo list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
    return 0


def _cmd_generate(argv: Sequence[str]) -> int:
    from zoo.cli.text_commands import generate_command

    return generate_command(argv)


def _cmd_similar(argv: Sequence[str]) -> int:
    from zoo.cli.text_commands import similar_command

    return similar_command(argv)


def _cmd_analogy(argv: Sequence[str]) -> int:
    from zoo.cli.text_commands import analogy_command

    return analogy_command(argv)


def _cmd_classify_text(argv: Sequence[str]) -> int:
    from zoo.cli.text_commands import classify_text_command

    return classify_text_command(argv)


def _cmd_translate(argv: Sequence[str]) -> int:
    from zoo.cli.translation_commands import translate_command

    return translate_command(argv)


def _cmd_translator_study(argv: Sequence[str]) -> int:
    from zoo.cli.study_commands import translator_study_command

    return translator_study_command(argv)


def _cmd_trajectory(argv: Sequence[str]) -> int:
    from zoo.cli.optim_commands import trajectory_command

    return trajectory_command(argv)


def _cmd_classify(argv: Sequence[str]) -> int:
    from zoo.cli.vision_commands import classify_command

    return classify_command(argv)


def _cmd_augment_grid(argv: Sequence[str]) -> int:
    from zoo.cli.vision_commands import augment_grid_command

    return augment_grid_command(argv)


def _cmd_anchors(argv: Sequence[str]) -> int:
    from zoo.cli.detection_commands import anchors_command

    return anchors_command(argv)


def _cmd_detect_demo(argv: Sequence[str]) -> int:
    from zoo.cli.detection_commands import detect_demo_command

    return detect_demo_command(argv)


def _cmd_house_prices(argv: Sequence[str]) -> int:
    from zoo.cli.house_commands import house_prices_command

    return house_prices_command(argv)


def _cmd_activations(argv: Sequence[str]) -> int:
    from zoo.cli.activation_commands import activations_command

    return activations_command(argv)


def _cmd_layers_study(argv: Sequence[str]) -> int:
    from zoo.cli.seed000_commands import layers_study_command

    return layers_study_command(argv)


def _cmd_edge_kernel(argv: Sequence[str]) -> int:
    from zoo.cli.conv_commands import edge_kernel_command

    return edge_kernel_command(argv)


def _cmd_export(argv: Sequence[str]) -> int:
    from zoo.cli.export_commands import export_command

    return export_command(argv)


def _cmd_results(argv: Sequence[str]) -> int:
    from zoo.cli.results_commands import results_command

    return results_command(argv)


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "recipe": _cmd_recipe,
    "list": _cmd_list,
    "generate": _cmd_generate,
    "similar": _cmd_similar,
    "analogy": _cmd_analogy,
    "classify-text": _cmd_classify_text,
    "translate": _cmd_translate,
    "translator-study": _cmd_translator_study,
    "trajectory": _cmd_trajectory,
    "classify": _cmd_classify,
    "augment-grid": _cmd_augment_grid,
    "anchors": _cmd_anchors,
    "detect-demo": _cmd_detect_demo,
    "house-prices": _cmd_house_prices,
    "activations": _cmd_activations,
    "layers-study": _cmd_layers_study,
    "edge-kernel": _cmd_edge_kernel,
    "export": _cmd_export,
    "results": _cmd_results,
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
        message = _known_failure(exc)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except BaseException as exc:
        from zoo.cli.run_control import RunStopped

        if isinstance(exc, RunStopped):  # Ctrl-C or SIGTERM, handled at a batch end: the summary is printed
            sys.exit(exc.status)
        raise


def _known_failure(exc: Exception) -> str | None:
    """The one-line message for an exception that is not a bug of the zoo (None: let its traceback show)."""
    if type(exc).__name__ == "MisconfigurationException":  # Lightning's "this run cannot work" error
        return str(exc)
    text = str(exc)
    if type(exc).__name__ == "DistNetworkError":  # the processes could not meet at the start
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        return ("the DDP processes could not connect to each other in time (a process was slow to start, or "
                f"MASTER_ADDR/MASTER_PORT are not reachable; --ddp_timeout sets the wait): {first}")
    if "gloo" in text or "Connection closed by peer" in text or type(exc).__name__ == "DistBackendError":
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        return ("a DDP process stopped answering (it crashed, was killed, or a collective timed out; see "
                f"--ddp_timeout); the other processes' messages above say which: {first}")
    return None
