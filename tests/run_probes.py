"""Callbacks the run-control, resume and DDP tests add to recipes with ``--trainer.callbacks+=tests.run_probes.X``
(the subprocesses get the repository on PYTHONPATH)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import lightning as L


class SignalAt(L.Callback):
    """Send ``signum`` to this process when training batch number ``step`` (counted over the run) starts."""

    def __init__(self, step: int, signum: int = int(signal.SIGINT)) -> None:
        self.step = step
        self.signum = signum

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step and trainer.is_global_zero:
            os.kill(os.getpid(), self.signum)


class RecordFirstBatch(L.Callback):
    """Write each rank's first training batch's inputs to ``folder/rank<R>.json``."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == 0:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"rank{trainer.global_rank}.json").write_text(json.dumps(batch[0].tolist()))


class TouchWhenTraining(L.Callback):
    """Create ``path`` once the given training step starts (a test then knows the run is mid-epoch)."""

    def __init__(self, path: str, step: int = 1) -> None:
        self.path = Path(path)
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step and trainer.is_global_zero:
            self.path.touch()


class RecordPid(L.Callback):
    """Write each rank's process id to ``folder/rank<R>.pid`` when training starts."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def on_train_start(self, trainer, pl_module) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"rank{trainer.global_rank}.pid").write_text(str(os.getpid()))


class HangRank(L.Callback):
    """The last rank stops answering (sleeps) when training step ``step`` starts; the others wait for it in the next
    collective."""

    def __init__(self, step: int = 1) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step and trainer.global_rank == trainer.world_size - 1:
            time.sleep(3600)
