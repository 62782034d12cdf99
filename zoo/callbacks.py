"""Callbacks the CLI adds to every run."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.utilities import rank_zero_info

__all__ = ["SaveOnInterrupt"]


class SaveOnInterrupt(L.Callback):
    """On Ctrl-C or a crash mid-training, save ``interrupted.ckpt`` so the epochs already trained are kept.

    Resume with ``--ckpt_path <that file>``.
    """

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if trainer.state.fn != "fit" or trainer.global_step == 0:
            return
        ckpt = trainer.checkpoint_callback
        folder = Path(ckpt.dirpath) if ckpt and ckpt.dirpath else Path(trainer.log_dir or trainer.default_root_dir)
        path = folder / "interrupted.ckpt"
        trainer.save_checkpoint(path)
        rank_zero_info(f"training stopped ({type(exception).__name__}); saved {path}")
