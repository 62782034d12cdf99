"""Callbacks the two-node DDP tests add with ``--trainer.callbacks+=tests.ddp_node_probes.X`` (the node processes get
the repository on PYTHONPATH)."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import torch


class RecordRankMetrics(L.Callback):
    """Write ``folder/rank<R>.json`` at the end of fitting: the rank's own training losses of the last epoch with
    their batch sizes (what this process computed on its part of the data), and the epoch metrics the trainer
    holds (what was logged, after the reduction across processes)."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.losses: list[float] = []
        self.sizes: list[int] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.losses, self.sizes = [], []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        first = batch[0] if isinstance(batch, (list, tuple)) else batch
        self.losses.append(float(loss))
        self.sizes.append(int(first.shape[0]) if isinstance(first, torch.Tensor) else 1)

    def on_fit_end(self, trainer, pl_module) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if isinstance(v, torch.Tensor)}
        record = {"rank": trainer.global_rank, "world_size": trainer.world_size, "losses": self.losses,
                  "sizes": self.sizes, "metrics": metrics}
        (self.folder / f"rank{trainer.global_rank}.json").write_text(json.dumps(record))
