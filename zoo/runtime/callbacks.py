"""Callbacks: those the CLI adds to every run (`SaveOnInterrupt`, and `ThrottledProgressBar` on a terminal or
`EpochLines` when the output goes to a file or a pipe), and `LogRMSE`, which a recipe names
(``linreg_kaggle_house``)."""

from __future__ import annotations

import sys
import time
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar
from lightning.pytorch.utilities import rank_zero_info

from zoo.ops.regression_metrics import BOOK_FACTOR, log_rmse

__all__ = ["EpochLines", "LogRMSE", "SaveOnInterrupt", "ThrottledProgressBar", "stdout_is_terminal"]


class SaveOnInterrupt(L.Callback):
    """When training crashes mid-epoch, save ``interrupted.ckpt`` so the epochs already trained are kept.

    Resume with ``--ckpt_path <that file>``. Ctrl-C and SIGTERM are `zoo.runtime.run_control.RunControl`'s (it stops
    at a batch end and saves there); a non-finite loss keeps the last good checkpoint instead. Under DDP nothing is
    saved here: a crash usually stops one rank, and saving is a collective the others would never join. Nothing is
    tried when the run stopped because its folder is full or cannot be written (a checkpoint could not be written
    either), and a save that fails is only noted: the error that stopped the run is the one reported, never hidden.
    """

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        from zoo.io.run_files import is_storage_error
        from zoo.runtime.run_control import NonFiniteLossError, RunStopped, checkpoint_folder

        if (trainer.state.fn != "fit" or trainer.global_step == 0 or trainer.world_size > 1
                or isinstance(exception, (RunStopped, NonFiniteLossError)) or is_storage_error(exception)):
            return
        try:
            path = checkpoint_folder(trainer) / "interrupted.ckpt"
            trainer.save_checkpoint(path, weights_only=False)  # a full checkpoint, to resume from
        except Exception as exc:  # never replace the error that stopped the run by this one
            first = (str(exc).strip().splitlines() or [""])[0]
            print(f"note: after {type(exception).__name__}, interrupted.ckpt could not be saved either "
                  f"({type(exc).__name__}: {first}); the checkpoints written before are kept", file=sys.stderr,
                  flush=True)
            return
        rank_zero_info(f"training stopped ({type(exception).__name__}); saved {path}")


class ThrottledProgressBar(TQDMProgressBar):
    """Lightning's tqdm progress bar, redrawn at most every ``min_interval`` seconds and at the last batch of a loop.

    Lightning's bar redraws itself twice after every batch (the count, then the metrics), about 0.6 ms on a 2-core
    CPU: 5% of a training step of LeNet at batch 256 (bench/lenet_step.py), for more redraws a second than a terminal
    shows. ``refresh_rate`` (every how many batches) still applies on top.
    """

    def __init__(self, refresh_rate: int = 1, process_position: int = 0, leave: bool = False,
                 min_interval: float = 0.1) -> None:
        super().__init__(refresh_rate=refresh_rate, process_position=process_position, leave=leave)
        self.min_interval = min_interval
        self._last_draw = -float("inf")

    def _should_update(self, current: int, total: int | float | None) -> bool:
        if not super()._should_update(current, total):
            return False
        now = time.monotonic()
        if current == total or now - self._last_draw >= self.min_interval:
            self._last_draw = now
            return True
        return False

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        bar = self.train_progress_bar
        if bar is not None and not bar.disable:  # the last batches may not have been drawn when the total is unknown
            bar.n = trainer.fit_loop.epoch_loop.batch_progress.current.processed
        super().on_train_epoch_end(trainer, pl_module)


def stdout_is_terminal() -> bool:
    """Whether standard output is a terminal (else a file or a pipe, where a redrawn bar is only escape codes)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


class EpochLines(ProgressBar):
    """The progress report for output that is not a terminal: one plain line per training epoch, no redrawing.

    At the start of training, one line with the model's class and size; then, at the end of every epoch,
    ``epoch 3/10: train/loss 0.4521, val/acc 0.8312 (12.4 s)``: the metrics a bar would show (those logged with
    ``prog_bar=True``) and the epoch's wall time. Only rank 0 prints.
    """

    def __init__(self) -> None:
        super().__init__()
        self._enabled = True
        self._epoch_start = time.monotonic()

    @property
    def is_enabled(self) -> bool:
        """Whether lines are printed (`LightningModule.print` asks this of every progress bar)."""
        return self._enabled

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._enabled:
            return
        from lightning.pytorch.utilities.model_summary import get_human_readable_count

        params = list(pl_module.parameters())
        total = sum(p.numel() for p in params)
        trainable = sum(p.numel() for p in params if p.requires_grad)
        size = f"{get_human_readable_count(total).strip()} parameters"
        if trainable != total:
            size += f", {get_human_readable_count(trainable).strip()} trainable"
        self.print(f"{type(pl_module).__name__}: {size}; one line per epoch follows", flush=True)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_start = time.monotonic()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._enabled:
            self.print(self.epoch_line(trainer, pl_module, time.monotonic() - self._epoch_start), flush=True)

    def epoch_line(self, trainer: L.Trainer, pl_module: L.LightningModule, seconds: float) -> str:
        """``epoch N/M: name value, ... (S s)`` for the epoch that just ended."""
        epochs = trainer.max_epochs
        head = f"epoch {trainer.current_epoch + 1}" + (f"/{epochs}" if epochs is not None and epochs > 0 else "")
        metrics = {k: v for k, v in self.get_metrics(trainer, pl_module).items() if k != "v_num"}
        values = ", ".join(f"{k} {_plain(v)}" for k, v in metrics.items())
        return f"{head}: {values} ({seconds:.1f} s)" if values else f"{head} ({seconds:.1f} s)"


def _plain(value: Any) -> str:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class LogRMSE(L.Callback):
    """Log the competition's metric on the datamodule's training set after every validation run of a regression
    model predicting prices: ``train/log_rmse`` (true) and ``train/log_rmse_book`` (the book's, sqrt(2) larger)."""

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        datamodule = getattr(trainer, "datamodule", None)
        features = getattr(datamodule, "train_features", None)
        if features is None or trainer.sanity_checking:
            return
        with torch.no_grad():
            value = log_rmse(pl_module(features.to(pl_module.device)).cpu(), datamodule.train_labels)
        pl_module.log("train/log_rmse", value.float(), prog_bar=True)
        pl_module.log("train/log_rmse_book", (value * BOOK_FACTOR).float())
