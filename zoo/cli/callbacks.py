"""Callbacks the CLI adds to every run."""

from __future__ import annotations

import time

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.utilities import rank_zero_info

__all__ = ["SaveOnInterrupt", "ThrottledProgressBar"]


class SaveOnInterrupt(L.Callback):
    """When training crashes mid-epoch, save ``interrupted.ckpt`` so the epochs already trained are kept.

    Resume with ``--ckpt_path <that file>``. Ctrl-C and SIGTERM are `zoo.cli.run_control.RunControl`'s (it stops at a
    batch end and saves there); a non-finite loss keeps the last good checkpoint instead. Under DDP nothing is saved
    here: a crash usually stops one rank, and saving is a collective the others would never join.
    """

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        from zoo.cli.run_control import NonFiniteLossError, RunStopped, checkpoint_folder

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
