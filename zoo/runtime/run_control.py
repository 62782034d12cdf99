"""`RunControl`: how a zoo run stops (Ctrl-C, SIGTERM, a diverging loss) and how little a kill can lose.

* **Ctrl-C / SIGTERM.** The first signal asks the run to stop at the end of the current training batch: every rank
  stops after the same batch, ``interrupted.ckpt`` is written there (a clean point: the optimizer has stepped, the
  next batch has not started, so resuming from it continues exactly), the summary is printed and the process exits
  with 130 (SIGINT) or 143 (SIGTERM). If the run does not reach a batch end within ``grace_seconds`` (it is
  validating, or a rank hangs in a collective), or on a second signal, the ranks are ended at once without a
  checkpoint (the last one on disk is kept).
* **Wall-time checkpoints.** ``last.ckpt`` is also written at a batch end whenever ``every_minutes`` have passed
  since the last checkpoint, so ``kill -9`` loses minutes, not the epochs between two epoch-end checkpoints.
* **Non-finite loss.** A NaN or infinite training loss stops the run before its backward pass (so the weights and
  every checkpoint on disk stay the last good ones) with a message naming the epoch, the step and the likely cause,
  and exit status 1; ``on_nonfinite="continue"`` warns once and goes on instead.

Under DDP the ranks agree on these decisions with one small all-reduce per training step (a signal usually reaches
one process, a NaN often appears on one rank only, and a checkpoint is a collective), so no rank waits in a
collective the others never enter.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.distributed as dist
from lightning.pytorch.utilities import rank_zero_info

from zoo.errors import ConfigError, ZooError
from zoo.runtime.summary import print_fit_summary

__all__ = ["NonFiniteLossError", "RunControl", "RunStopped", "checkpoint_folder", "ddp_with_timeout"]

EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
_STOP, _SAVE, _NONFINITE = range(3)  # positions in the per-step agreement vector


class RunStopped(BaseException):  # noqa: N818  (not an error: the user asked for it)
    """Raised at a batch end after a stop signal; ``status`` is the exit status (130 for SIGINT, 143 for SIGTERM).

    A `BaseException`, like `KeyboardInterrupt`, so that code catching `Exception` does not swallow it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.status = EXIT_STATUS.get(signum, 1)


class NonFiniteLossError(ZooError):
    """The training loss became NaN or infinite."""


class RunControl(L.Callback):
    """Stops on Ctrl-C/SIGTERM at a batch end, saves ``last.ckpt`` by wall time, stops on a non-finite loss.

    Args:
        every_minutes: write ``last.ckpt`` at the first batch end after this many minutes without a checkpoint
            (0 disables it).
        on_nonfinite: ``"stop"`` (default) or ``"continue"`` when the training loss is NaN or infinite.
        grace_seconds: after a first stop signal, how long to wait for a batch end before ending every rank.
    """

    def __init__(self, every_minutes: float = 5.0, on_nonfinite: str = "stop", grace_seconds: float = 60.0) -> None:
        if on_nonfinite not in ("stop", "continue"):
            raise ConfigError(f"on_nonfinite must be 'stop' or 'continue', got {on_nonfinite!r}")
        if not every_minutes >= 0 or not grace_seconds > 0:
            raise ConfigError(f"need every_minutes >= 0 and grace_seconds > 0, got {every_minutes} and {grace_seconds}")
        self.every_seconds = every_minutes * 60
        self.on_nonfinite = on_nonfinite
        self.grace_seconds = grace_seconds
        self.signum: int | None = None  # the first stop signal received
        self._previous_handlers: dict[int, Any] = {}
        self._last_save = time.monotonic()
        self._warned_nonfinite = False
        self._flags = torch.zeros(3)
        self._trainer: L.Trainer | None = None
        self._watchdog: threading.Timer | None = None

    # ------------------------------------------------------------------ signals
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._trainer = trainer
        self._last_save = time.monotonic()
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread only
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous_handlers[signum] = signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.signum is not None:  # a second signal: stop now, without a checkpoint
            self._end_now(f"second {signal.Signals(signum).name}: stopping now without a checkpoint")
        self.signum = signum
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        print(f"\n{name}: stopping at the end of this training batch and saving interrupted.ckpt "
              f"(again to stop at once)", flush=True)
        self._watchdog = threading.Timer(self.grace_seconds, self._end_now,
                                         args=(f"no batch end within {self.grace_seconds:g} s of the signal: "
                                               "stopping every rank without a checkpoint",))
        self._watchdog.daemon = True
        self._watchdog.start()

    def _end_now(self, message: str) -> None:
        print(message, flush=True)
        if self._trainer is not None:
            _kill_started_ranks(self._trainer)
        os._exit(EXIT_STATUS.get(self.signum or signal.SIGINT, 1))

    def _restore_handlers(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        if threading.current_thread() is threading.main_thread():
            for signum, handler in self._previous_handlers.items():
                signal.signal(signum, handler)
        self._previous_handlers = {}

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore_handlers()

    # ------------------------------------------------------------------ per-step agreement
    def on_before_backward(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor) -> None:
        flags = self._flags
        flags.zero_()
        flags[_STOP] = self.signum is not None
        flags[_SAVE] = self.every_seconds > 0 and time.monotonic() - self._last_save >= self.every_seconds
        flags[_NONFINITE] = not math.isfinite(float(loss.detach()))
        if trainer.world_size > 1 and dist.is_available() and dist.is_initialized():
            reduced = flags.to(trainer.strategy.root_device)
            dist.all_reduce(reduced, op=dist.ReduceOp.MAX)  # every rank takes the same decisions at the same step
            flags.copy_(reduced.cpu())
        if flags[_NONFINITE]:
            self._nonfinite(trainer, pl_module, float(loss.detach()))

    def _nonfinite(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: float) -> None:
        where = f"epoch {trainer.current_epoch}, step {trainer.global_step}"
        hp = getattr(pl_module, "hparams", {})
        lr = hp.get("lr") if hasattr(hp, "get") else None
        cause = (f"the learning rate (lr={lr:g}) is likely too high for this model" if isinstance(lr, (int, float))
                 else "the learning rate is likely too high") + ", or the inputs hold NaN/inf values"
        if self.on_nonfinite == "continue":
            if not self._warned_nonfinite:
                warnings.warn(f"non-finite training loss ({loss}) at {where}; continuing as asked "
                              "(--on_nonfinite continue)", stacklevel=2)
                self._warned_nonfinite = True
            return
        ckpt = trainer.checkpoint_callback
        kept = getattr(ckpt, "last_model_path", "") or getattr(ckpt, "best_model_path", "")
        raise NonFiniteLossError(
            f"the training loss became {'NaN' if math.isnan(loss) else 'infinite'} at {where}: {cause}. "
            f"The run stopped before this step's update; "
            + (f"the last good checkpoint is {kept}. " if kept else "no checkpoint was written. ")
            + "Try a smaller --model.init_args.lr or gradient clipping, or pass --on_nonfinite continue to go on.")

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        flags = self._flags
        if flags[_STOP]:
            path = checkpoint_folder(trainer) / "interrupted.ckpt"
            trainer.save_checkpoint(path, weights_only=False)  # a full checkpoint, to resume from
            rank_zero_info(f"saved {path}; resume with --ckpt_path {path}")
            raise RunStopped(self.signum if self.signum is not None else signal.SIGINT)
        if flags[_SAVE]:
            ckpt = trainer.checkpoint_callback
            path = checkpoint_folder(trainer) / "last.ckpt"
            trainer.save_checkpoint(path, weights_only=False)  # a full checkpoint, to resume from
            if ckpt is not None and hasattr(ckpt, "last_model_path"):
                ckpt.last_model_path = str(path)  # so ModelCheckpoint overwrites it rather than writing last-v1.ckpt
            self._last_save = time.monotonic()

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        self._last_save = time.monotonic()  # any checkpoint (epoch-end ones too) restarts the wall-time clock

    # ------------------------------------------------------------------ the end of a stopped run
    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._restore_handlers()
        if isinstance(exception, RunStopped):
            print_fit_summary(trainer, pl_module, interrupted=True)
            return
        if trainer.is_global_zero:
            try:
                _remove_if_empty(trainer)
            except Exception as exc:  # never hide the error that stopped the run
                print(f"note: could not tidy the run folder ({type(exc).__name__}: {exc})", flush=True)
        _kill_started_ranks(trainer)  # else the DDP ranks this process started would wait for it forever


def _kill_started_ranks(trainer: L.Trainer) -> None:
    """SIGKILL the DDP ranks this process launched (Lightning's subprocess launcher keeps them in ``procs``)."""
    launcher = trainer.strategy.launcher
    if getattr(launcher, "procs", None):
        launcher.kill(signal.SIGKILL)


def _remove_if_empty(trainer: L.Trainer) -> None:
    """A run that failed before it saved a checkpoint or finished an epoch leaves a ``version_N`` folder holding only
    its config; remove it, so the folders left are runs with something in them. Only the folder this process
    reserved is removed (`zoo.runtime.loggers.remove_unused_run_folder`), never another run's."""
    from zoo.runtime.loggers import remove_unused_run_folder

    for logger in trainer.loggers:
        folder = remove_unused_run_folder(logger)
        if folder is not None:
            print(f"(removed {folder}: the run failed before it logged or saved anything)", flush=True)


def ddp_with_timeout(strategy: Any, seconds: float) -> Any:
    """A DDP strategy named by a string (``ddp``, ``ddp_spawn``, ...) built with a collective timeout of ``seconds``,
    so a rank that stops answering ends the run with an error instead of a hang; None for anything else."""
    from lightning.pytorch.strategies import StrategyRegistry

    if not isinstance(strategy, str) or not strategy.startswith("ddp") or strategy not in StrategyRegistry:
        return None
    if not seconds > 0:
        raise ConfigError(f"--ddp_timeout must be a positive number of seconds, got {seconds}")
    entry = StrategyRegistry[strategy]
    return entry["strategy"](**entry["init_params"], timeout=timedelta(seconds=seconds))


def checkpoint_folder(trainer: L.Trainer) -> Path:
    """The ModelCheckpoint's folder, else ``<run>/checkpoints`` (computed on every rank: no collective needed)."""
    ckpt = trainer.checkpoint_callback
    if ckpt is not None and getattr(ckpt, "dirpath", None):
        return Path(ckpt.dirpath)
    from zoo.io.run_files import run_dir

    return (run_dir(trainer) or Path(trainer.default_root_dir)) / "checkpoints"
