"""``python -m zoo``: the entry point. ``python -m zoo --help`` lists every command by group; ``python -m zoo CMD
--help`` explains one.

The commands are a table (`COMMANDS`): each names the function that runs it as ``"module:function"``, imported only
when that command runs, so ``python -m zoo list`` does not import torch. LightningCLI's own subcommands (``fit``,
``validate``, ``test``, ``predict``) run `ZooCLI` (`zoo.cli.lightning_cli`).

A `ZooError` (missing data, bad prompt, unknown name) is printed as one ``error: ...`` line with exit status 1.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module

from zoo.errors import ZooError

__all__ = ["COMMANDS", "GROUPS", "Command", "main", "run_lightning_cli"]


@dataclass(frozen=True)
class Command:
    """One command: its group in ``--help``, the function that runs it (``"module:function"``, taking the argument
    list and returning the exit status) and a one-line summary."""

    group: str
    target: str
    summary: str

    def load(self) -> Callable[[Sequence[str]], int]:
        module, _, function = self.target.partition(":")
        return getattr(import_module(module), function)


TRAIN, USE, STUDY, MAINTAIN = "train", "use a checkpoint", "book demos and studies", "maintenance"
GROUPS = (TRAIN, USE, STUDY, MAINTAIN)
_LIGHTNING = "zoo.cli.main:lightning_subcommand"

COMMANDS: dict[str, Command] = {
    "recipe": Command(TRAIN, "zoo.cli.recipe_commands:recipe_command",
                      "train a book experiment: python -m zoo recipe gru_lyrics [--trainer.max_epochs 10]"),
    "list": Command(TRAIN, "zoo.cli.recipe_commands:list_command", "every recipe with its description"),
    "models": Command(TRAIN, "zoo.cli.recipe_commands:models_command",
                      "every model: name, class, book section, input, recipes"),
    "fit": Command(TRAIN, _LIGHTNING, "LightningCLI: train from a config (--config recipes/NAME.yaml)"),
    "validate": Command(TRAIN, _LIGHTNING, "LightningCLI: evaluate on the validation split (--ckpt_path)"),
    "test": Command(TRAIN, _LIGHTNING, "LightningCLI: evaluate on the test split (--ckpt_path)"),
    "predict": Command(TRAIN, _LIGHTNING, "LightningCLI: predict with a checkpoint (--ckpt_path)"),
    "generate": Command(USE, "zoo.commands.text_queries:generate_command", "text from a language-model checkpoint"),
    "similar": Command(USE, "zoo.commands.text_queries:similar_command",
                       "nearest words by cosine similarity (GloVe, a vector file or a word2vec checkpoint)"),
    "analogy": Command(USE, "zoo.commands.text_queries:analogy_command", "a : b :: c : ? with word vectors"),
    "classify-text": Command(USE, "zoo.commands.text_queries:classify_text_command",
                             "sentiment of texts with a text-classifier checkpoint"),
    "translate": Command(USE, "zoo.commands.translate:translate_command",
                         "translate French sentences with a translation checkpoint (greedy or beam search)"),
    "classify": Command(USE, "zoo.commands.classify:classify_command",
                        "class and probability of image files with an image-classifier checkpoint"),
    "export": Command(USE, "zoo.commands.export:export_command",
                      "a checkpoint's network as an ONNX or TorchScript file, checked against PyTorch"),
    "activations": Command(STUDY, "zoo.studies.activations:activations_command",
                           "ReLU, sigmoid, tanh and their derivatives as a PNG (3.8)"),
    "house-prices": Command(STUDY, "zoo.studies.house_prices:house_prices_command",
                            "Kaggle house prices: k-fold log-RMSE and a submission file (3.16)"),
    "edge-kernel": Command(STUDY, "zoo.studies.edge_kernel:edge_kernel_command",
                           "learn the [[1, -1]] edge kernel by gradient descent (5.1.4)"),
    "trajectory": Command(STUDY, "zoo.studies.optimizer_paths:trajectory_command",
                          "an optimizer's path on a 2-D toy function (7.2-7.6)"),
    "augment-grid": Command(STUDY, "zoo.studies.augmentation_grid:augment_grid_command",
                            "a PNG of augmented images (9.1)"),
    "anchors": Command(STUDY, "zoo.studies.anchor_boxes:anchors_command",
                       "anchor boxes centred on one pixel, drawn over an image (9.4.1)"),
    "detect-demo": Command(STUDY, "zoo.studies.anchor_boxes:detect_demo_command",
                           "anchor labels and non-maximum suppression on the book's example (9.4.3, 9.4.4)"),
    "layers-study": Command(STUDY, "zoo.studies.layer_study:layers_study_command",
                            "hand-made linear layers, depth and width (neural-network layers tutorial, part 1)"),
    "translator-study": Command(STUDY, "zoo.studies.translator_study:translator_study_command",
                                "RNN, LSTM, GRU and dense word-by-word translators compared (the same tutorial, "
                                "part 2)"),
    "results": Command(MAINTAIN, "zoo.commands.results:results_command",
                       "run recipes, write results/<recipe>.json, regenerate the results tables"),
}


def usage() -> str:
    """The text of ``python -m zoo --help``: every command, by group, with its summary."""
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: python -m zoo COMMAND [ARGS ...]     (python -m zoo COMMAND --help explains one)", ""]
    for group in GROUPS:
        lines.append(f"{group}:")
        lines += [f"  {name:<{width}}  {c.summary}" for name, c in COMMANDS.items() if c.group == group]
        lines.append("")
    lines.append("First run: python -m zoo recipe gru_lyrics (about 2 minutes of training on 2 CPU cores). "
                 "The documentation: docs/index.md.")
    return "\n".join(lines)


def run_lightning_cli(args: Sequence[str], run: bool = True):
    """Run (or, with ``run=False``, only build) the ZooCLI on ``args``."""
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*IterableDataset.*has `__len__` defined.*")  # our batches are precomputed
    warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")  # the zoo logs per epoch
    warnings.filterwarnings("ignore", ".*LeafSpec.*")
    warnings.filterwarnings("ignore", ".*LightningCLI's args parameter is intended.*")  # args are given on purpose
    from zoo.cli.lightning_cli import ZooCLI

    return ZooCLI(
        subclass_mode_model=True,
        subclass_mode_data=True,
        save_config_kwargs={"overwrite": True},
        args=list(args),
        run=run,
    )


def lightning_subcommand(argv: Sequence[str]) -> int:
    """``fit``/``validate``/``test``/``predict``: LightningCLI, with the subcommand as the first argument."""
    run_lightning_cli(argv)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m zoo`` and the ``zoo`` script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if not args or args[0] in ("-h", "--help", "help"):
            print(usage())
            sys.exit(0 if args else 2)
        name = args[0]
        if name not in COMMANDS:
            from zoo.errors import ConfigError

            raise ConfigError(f"unknown command {name!r}; python -m zoo --help lists them")
        command = COMMANDS[name]
        if command.target == _LIGHTNING:  # returns, as LightningCLI does (a caller may read its results)
            run_lightning_cli(args)
            return
        sys.exit(command.load()(args[1:]))
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
    except SystemExit:
        raise
    except BaseException as exc:
        from zoo.runtime.run_control import RunStopped

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
