"""`ZooCLI`: LightningCLI with the zoo's argument links, default logger, interrupt checkpoint and run summary."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningCLI

from zoo.cli.config_files import check_config_files
from zoo.errors import ConfigError, ZooError
from zoo.io.checkpoints import check_checkpoint
from zoo.io.run_files import AtomicCheckpointIO
from zoo.runtime.allocator import KeepFreedMemory
from zoo.runtime.callbacks import EpochLines, SaveOnInterrupt, ThrottledProgressBar, stdout_is_terminal
from zoo.runtime.loggers import parse_logger_names, place_cli_loggers, remove_unused_run_folder, run_loggers
from zoo.runtime.plots import LossCurvePlot
from zoo.runtime.precision import PrecisionCheck
from zoo.runtime.run_control import RunControl, ddp_with_timeout
from zoo.runtime.summary import FitClock, print_fit_summary

__all__ = ["DATA_LINKS", "ZooCLI", "print_fit_summary"]

#: datamodule attribute -> model init argument of the same name, linked once the datamodule exists
#: (a link whose source or target a class lacks is skipped).
DATA_LINKS = ("vocab", "num_classes", "in_channels", "num_features", "classes", "image_size", "max_len", "src_vocab",
              "tgt_vocab", "max_seq_len", "word_vectors")


class ZooCLI(LightningCLI):
    """LightningCLI with datamodule-to-model links, a CSV logger and a tqdm progress bar by default, a checkpoint on
    interruption, a loss-curve plot and an end-of-fit summary."""

    def parse_arguments(self, parser, args) -> None:
        """A YAML file with a syntax error (``--config``, a recipe) is named, with the line, not "<unicode string>"."""
        check_config_files(sys.argv[1:] if args is None else args)
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        if subcommand and self.config[subcommand].get("ckpt_path"):  # before LightningCLI reads the file's hparams
            check_checkpoint(self.config[subcommand]["ckpt_path"])  # missing, folder, truncated, unsafe, altered
            self._check_resumed_model(subcommand)

    def _check_resumed_model(self, subcommand: str) -> None:
        """Refuse a ``--ckpt_path`` whose model is not the one this run builds (another class, or other arguments:
        a GRU checkpoint under ``rnn_lyrics``, a regression under ``gru_lyrics``, ``hidden_size 128`` on a model of
        256), in one line naming both, before LightningCLI copies the checkpoint's hyperparameters over the
        command line's without a word (or fails on them deep inside a model)."""
        ckpt_path = self.config[subcommand].get("ckpt_path")
        model = self.config[subcommand].get("model")
        if model is None or not hasattr(model, "get") or not Path(str(ckpt_path)).is_file():
            return  # Lightning's keywords (last, hpc, ...) and remote files: Lightning's own checks
        from zoo.io.checkpoints import model_mismatch, read_header

        problem = model_mismatch(read_header(ckpt_path), model.get("class_path"), model.get("init_args"),
                                 f"--ckpt_path {ckpt_path}", ignore=DATA_LINKS)  # the data's, filled in later
        if problem is not None:
            raise ConfigError(problem)

    def _run_subcommand(self, subcommand: str) -> None:
        """Run it; a full or read-only run folder is one line naming it, and a run that is not training (or that
        failed) gives back the run folder it reserved when nothing but its configuration was written there."""
        failed = True
        try:
            super()._run_subcommand(subcommand)
            failed = False
        except OSError as exc:
            from zoo.io.run_files import run_dir, run_folder_error

            folder = run_dir(self.trainer) or self._get(self.config_init, "trainer", default={}).get(
                "default_root_dir") or "runs"
            problem = run_folder_error(exc, folder, Path(exc.filename).name if exc.filename else "a run file")
            if problem is None:
                raise
            raise problem from exc
        finally:
            if (failed or subcommand != "fit") and self.trainer.is_global_zero:
                for logger in self.trainer.loggers:
                    remove_unused_run_folder(logger)

    def add_arguments_to_parser(self, parser) -> None:
        for key in DATA_LINKS:
            parser.link_arguments(f"data.{key}", f"model.init_args.{key}", apply_on="instantiate")
        parser.add_argument("--checkpoint_minutes", type=float, default=5.0,
                            help="also write last.ckpt at a batch end every this many minutes (0: only the recipe's "
                                 "epoch-end checkpoints)")
        parser.add_argument("--on_nonfinite", type=str, default="stop", choices=["stop", "continue"],
                            help="a NaN or infinite training loss stops the run (default) or only warns")
        parser.add_argument("--logger", type=str, default="csv",
                            help="loggers beside the CSV one, into the same run folder: tensorboard, wandb or "
                                 "tensorboard,wandb (zoo.runtime.loggers); --trainer.logger names any Lightning logger")
        parser.add_argument("--ddp_timeout", type=float, default=600.0,
                            help="seconds a DDP process waits for the others in a collective before giving up")

    def before_instantiate_classes(self) -> None:
        """A logger named by ``--trainer.logger`` that would write into the current directory gets the run folder."""
        trainer = (self.config[self.subcommand] if self.subcommand else self.config).get("trainer")
        place_cli_loggers(trainer, (trainer or {}).get("default_root_dir") or "runs")

    def instantiate_classes(self) -> None:
        """Build the classes, then load the model's pretrained inputs (`ZooTask.load_pretrained`) unless
        ``--ckpt_path`` supplies every tensor (a fine-tuned checkpoint then predicts on a machine without the
        ImageNet file)."""
        ckpt_path = self._get(self.config, "ckpt_path") if self.subcommand else None
        try:
            super().instantiate_classes()
            if not ckpt_path and callable(getattr(self.model, "load_pretrained", None)):
                self.model.load_pretrained()
        except ValueError as exc:  # jsonargparse wraps what __init__ raised; a ZooError's message says it all
            cause = _zoo_error_in(exc)
            if cause is None:
                raise
            raise cause from None
        if self.subcommand and self.config_init[self.subcommand].get("weights_only") is None:
            self.config_init[self.subcommand]["weights_only"] = True  # the Trainer reads ckpt_path without running code

    def instantiate_trainer(self, **kwargs):
        trainer_cfg = self._get(self.config_init, "trainer", default={})
        names = parse_logger_names(self._get(self.config, "logger", default="csv"))
        if trainer_cfg.get("logger") in (None, True):  # the zoo's loggers: CSV, then those of --logger
            kwargs["logger"] = run_loggers(names, trainer_cfg.get("default_root_dir") or "runs")
        elif names != ["csv"]:
            raise ConfigError(f"--logger {','.join(names[1:])} and --trainer.logger both choose the loggers; give one")
        recipe_callbacks = trainer_cfg.get("callbacks") or []  # kwargs replace the config's list, so keep it here
        recipe_callbacks = recipe_callbacks if isinstance(recipe_callbacks, list) else [recipe_callbacks]
        if trainer_cfg.get("enable_checkpointing") is False:  # switches off the recipe's ModelCheckpoint too
            recipe_callbacks = [cb for cb in recipe_callbacks if not isinstance(cb, ModelCheckpoint)]
        extra = [SaveOnInterrupt(), PrecisionCheck(), KeepFreedMemory(),
                 RunControl(every_minutes=self._get(self.config, "checkpoint_minutes", default=5.0),
                            on_nonfinite=self._get(self.config, "on_nonfinite", default="stop"))]
        if trainer_cfg.get("plugins") is None:
            kwargs["plugins"] = [AtomicCheckpointIO()]
        strategy = ddp_with_timeout(trainer_cfg.get("strategy"), self._get(self.config, "ddp_timeout", default=600.0))
        if strategy is not None:
            kwargs["strategy"] = strategy
        if not any(isinstance(cb, LossCurvePlot) for cb in recipe_callbacks):
            extra.append(LossCurvePlot())  # a recipe sets its own to choose a log scale
        terminal = stdout_is_terminal()
        _hide_lightning_tips()
        if trainer_cfg.get("enable_progress_bar", True) is not False and not any(
                isinstance(cb, ProgressBar) for cb in recipe_callbacks):
            # Lightning picks the rich bar when rich is installed; it redraws from a background thread, which on a
            # 2-core machine cost ~10% of an epoch of the chapter 6 models (bench/gru_lyrics.py); tqdm does not.
            # Into a file or a pipe a redrawn bar is only escape codes: one plain line per epoch instead
            extra.append(ThrottledProgressBar() if terminal else EpochLines())
        if not terminal and trainer_cfg.get("enable_model_summary") is None:
            kwargs["enable_model_summary"] = False  # its table (and "Total FLOPs: 0"); EpochLines prints the size
        extra.append(FitClock())  # the summary's wall time
        kwargs["callbacks"] = [*recipe_callbacks, *kwargs.get("callbacks", []), *extra]
        return super().instantiate_trainer(**kwargs)

    def after_fit(self) -> None:
        print_fit_summary(self.trainer, self.model)

    def after_predict(self) -> None:
        """Print text predictions (generated lyrics, class labels) one per line."""
        if not self.trainer.is_global_zero:
            return
        for batch in self.trainer.predict_loop.predictions or []:
            for item in [batch] if isinstance(batch, str) else batch:
                if isinstance(item, str):
                    print(item, flush=True)


class _NoTips(logging.Filter):
    """Drops Lightning's advertisements ("💡 Tip: ... try installing litlogger"), which say nothing about the run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Tip:" not in str(record.msg)


def _hide_lightning_tips() -> None:
    """Filter Lightning's tips out of its rank-zero info log (the zoo's own rank-zero messages go through)."""
    log = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, _NoTips) for f in log.filters):
        log.addFilter(_NoTips())


def _zoo_error_in(exc: BaseException) -> ZooError | None:
    """The first `ZooError` among ``exc`` and its causes and contexts, if any."""
    seen, todo = set(), [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ZooError):
            return current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
    return None
