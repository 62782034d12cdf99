"""Callbacks: those the CLI adds to every run (`SaveOnInterrupt`, `ThrottledProgressBar`), and `LogRMSE`, which a recipe
names (``linreg_kaggle_house``)."""

from __future__ import annotations

import time

import lightning as L
import torch
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.utilities import rank_zero_info

from zoo.ops.regression_metrics import BOOK_FACTOR, log_rmse

__all__ = ["LogRMSE", "SaveOnInterrupt", "ThrottledProgressBar"]


class SaveOnInterrupt(L.Callback):
    """When training crashes mid-epoch, save ``interrupted.ckpt`` so the epochs already trained are kept.

    Resume with ``--ckpt_path <that file>``. Ctrl-C and SIGTERM are `zoo.runtime.run_control.RunControl`'s (it stops
    at a batch end and saves there); a non-finite loss keeps the last good checkpoint instead. Under DDP nothing is
    saved here: a crash usually stops one rank, and saving is a collective the others would never join.
    """

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        from zoo.runtime.run_control import NonFiniteLossError, RunStopped, checkpoint_folder

        if (trainer.state.fn != "fit" or trainer.global_step == 0 or trainer.world_size > 1
                or isinstance(exception, (RunStopped, NonFiniteLossError))):
            return
        path = checkpoint_folder(trainer) / "interrupted.ckpt"
        trainer.save_checkpoint(path)
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
