"""What a checkpoint needs, beyond weights, optimizer and loop counters, for a resumed run to continue exactly.

Lightning saves the weights, the optimizer, the schedulers and where the loops were. A zoo checkpoint also holds:

* the random generators' states (torch CPU and CUDA, numpy, Python's ``random``): dropout masks and the random
  sampler's next order come from them (`collect_rng_states`, restored by `zoo.tasks.base.ZooTask` when a Trainer
  resumes, never when a checkpoint is merely loaded for inference);
* per-rank state that only exists during an epoch: a language model's carried hidden state and the partial sums of
  its epoch metrics (`gather_per_rank`: every rank's copy, so a DDP run resumes each rank with its own).

Everything is stored as tensors, numbers, strings, tuples, lists and dicts, so checkpoints stay loadable with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.fabric.utilities.apply_func import apply_to_collection
from torchmetrics import Metric

__all__ = ["RNG_KEY", "collect_rng_states", "gather_per_rank", "load_metric_states", "metric_states",
           "restore_rng_states", "saved_mid_epoch"]

RNG_KEY = "zoo_rng"


def collect_rng_states() -> dict[str, Any]:
    """The states of torch's (CPU and, when initialised, CUDA), numpy's and Python's global generators."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)),
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    """Undo `collect_rng_states`: set every generator back to the saved state."""
    torch.set_rng_state(states["torch"])
    name, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def saved_mid_epoch(trainer: L.Trainer) -> bool:
    """Whether a checkpoint written now falls inside a training epoch (some but not all of its batches done)."""
    done = trainer.fit_loop.epoch_loop.batch_progress.current.processed
    total = trainer.num_training_batches
    return 0 < done < total


def gather_per_rank(module: L.LightningModule, value: Any) -> list[Any]:
    """``[value of rank 0, value of rank 1, ...]`` for a (nested) collection of tensors and numbers of the same
    shapes on every rank. A collective under DDP: call it on every rank (checkpoint hooks run on every rank)."""
    world = module.trainer.world_size if module._trainer is not None else 1
    if world == 1:
        return [value]
    with warnings.catch_warnings():  # Lightning's all_gather goes through a torch function deprecated in 2.14
        warnings.filterwarnings("ignore", ".*all_gather is deprecated.*")
        gathered = module.all_gather(value)  # every tensor (world, ...)
    return [apply_to_collection(gathered, torch.Tensor, lambda t, r=r: t[r].cpu()) for r in range(world)]


def metric_states(metric: Metric) -> dict[str, Any]:
    """The accumulated state of a torchmetrics metric (or of every metric in a collection), with update counts."""
    children = dict(metric.items()) if hasattr(metric, "items") else {"": metric}
    return {name: ({key: getattr(m, key) for key in m._defaults}, m._update_count) for name, m in children.items()}


def load_metric_states(metric: Metric, states: dict[str, Any]) -> None:
    """Undo `metric_states` (the metric continues accumulating from there)."""
    children = dict(metric.items()) if hasattr(metric, "items") else {"": metric}
    for name, (values, count) in states.items():
        m = children[name]
        for key, value in values.items():
            setattr(m, key, value.to(m.device) if isinstance(value, torch.Tensor) else value)
        m._update_count = int(count)
        m._computed = None
