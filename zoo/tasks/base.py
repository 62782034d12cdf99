"""`ZooTask`: what every task base shares, which is how a zoo model is saved and restored.

A task base (classification, language model, regression, ...) subclasses `ZooTask` instead of
``L.LightningModule``; architectures subclass a task base. `ZooTask` adds no step, loss or metric: only

* ``on_save_checkpoint``: the checkpoint records the model's class (`zoo.tasks.checkpoint.record_class`), so
  ``zoo.load_task(path)`` rebuilds it without the recipe, and a digest of its tensors (`record_digest`);
* ``on_load_checkpoint``: every load (``load_from_checkpoint``, ``zoo.load_task``, a Trainer's ``ckpt_path``) checks
  that digest and refuses a checkpoint whose tensors were altered (`zoo.tasks.checkpoint.verify_digest`);
* resuming: the checkpoint also holds the random generators' states, restored when a Trainer resumes from it
  (`zoo.tasks.resume`), so a resumed run draws the same dropout masks and sample orders as an uninterrupted one;
* ``load_from_checkpoint``: Lightning's, read with ``weights_only=True`` (a crafted pickle cannot run code,
  `zoo.tasks.safe_load`), except that pretrained weights are not fetched (the checkpoint supplies
  every tensor, so a fine-tuned checkpoint loads on a machine without the ImageNet file) and that a checkpoint
  written by LightningCLI loads even if its ``_class_path`` names a module that has moved since (for example
  ``zoo.image_classifiers``, before the layout of DESIGN.md).
"""

from __future__ import annotations

import inspect
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import lightning as L

from zoo.errors import ZooError
from zoo.tasks.checkpoint import read_header, record_class, record_digest, verify_digest
from zoo.tasks.resume import RNG_KEY, collect_rng_states, restore_rng_states
from zoo.tasks.safe_load import CheckpointError, UnsafeCheckpointError
from zoo.weights import weights_from_checkpoint

__all__ = ["ZooTask"]

#: The file `ZooTask.load_from_checkpoint` is reading, so ``on_load_checkpoint`` can name it in its messages.
_LOADING: ContextVar[str | None] = ContextVar("zoo_loading_checkpoint", default=None)
_LIGHTNING_HAS_WEIGHTS_ONLY = "weights_only" in inspect.signature(L.LightningModule.load_from_checkpoint).parameters
_TRUSTED_INSTANTIATORS = ("lightning.pytorch.cli.instantiate_module", "pytorch_lightning.cli.instantiate_module")


class ZooTask(L.LightningModule):
    """The common root of the task bases (see the module docstring)."""

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: Any, *args: Any, **kwargs: Any):  # type: ignore[override]
        """``LightningModule.load_from_checkpoint`` with ``weights_only=True`` (unless the caller passes False) and the
        digest check, robust to moved modules and without fetching pretrained weights. Errors are `CheckpointError`s
        naming the file."""
        if len(args) < 4 and _LIGHTNING_HAS_WEIGHTS_ONLY:  # positional order: map_location, hparams_file, strict, ...
            kwargs.setdefault("weights_only", True)
        is_path = isinstance(checkpoint_path, (str, Path))
        if is_path and kwargs.get("weights_only") is not False:
            hparams = read_header(checkpoint_path).get("hyper_parameters") or {}  # refuses an unsafe file first
            if hparams.get("_instantiator", _TRUSTED_INSTANTIATORS[0]) not in _TRUSTED_INSTANTIATORS:
                # Lightning calls this function; it refuses others itself only since 2.6.6
                raise UnsafeCheckpointError(f"refusing to load {checkpoint_path}: it names "
                                            f"{hparams['_instantiator']!r} as the function that builds the model, "
                                            "which is not LightningCLI's")
            if "_class_path" in hparams and "_class_path" not in kwargs:
                # LightningCLI wrote it; Lightning checks that the path resolves to cls
                kwargs["_class_path"] = f"{cls.__module__}.{cls.__qualname__}"
        token = _LOADING.set(str(checkpoint_path) if is_path else None)
        try:
            with weights_from_checkpoint():
                return super().load_from_checkpoint(checkpoint_path, *args, **kwargs)
        except ZooError:
            raise
        except ValueError as exc:
            if "arbitrary code execution" not in str(exc):  # Lightning's refusal of a foreign instantiator or class
                raise
            raise UnsafeCheckpointError(f"refusing to load {checkpoint_path}: {' '.join(str(exc).split())}") from exc
        except RuntimeError as exc:
            if "loading state_dict" not in str(exc):
                raise
            first = str(exc).strip().splitlines()[0]
            raise CheckpointError(f"{checkpoint_path} does not fit {cls.__name__}: {first} (was it written by another "
                                  "architecture or with other sizes?)") from exc
        finally:
            _LOADING.reset(token)

    def configure_model(self) -> None:
        """The ``compile`` hyperparameter of the task bases that offer it: compile the plain network ``self.net`` in
        place (``nn.Module.compile``, i.e. ``torch.compile``), once, when a Trainer sets the model up. Compiling in
        place keeps the parameters under their names, so checkpoints have the same keys with and without it; the
        compiled code is not saved, and a loaded model runs eagerly until a Trainer sets it up again."""
        net = getattr(self, "net", None)
        if self.hparams.get("compile") and net is not None and getattr(net, "_compiled_call_impl", None) is None:
            net.compile()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record the class and (Lightning calls this hook last, after the callbacks') the tensors' digest."""
        record_class(checkpoint, self)
        record_digest(checkpoint)
        if self._trainer is not None:  # the generators' states, so a resumed run draws what this run would have
            checkpoint[RNG_KEY] = {**collect_rng_states(), "after_epoch_end": self.__dict__.get("_epoch_ended", False)}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """A Trainer resuming from ``checkpoint`` restores the random generators (not `load_from_checkpoint`, which
        has no trainer: loading a model for inference leaves the caller's generators alone). First, every load checks
        the tensors against the digest saved with them."""
        source = _LOADING.get() or (self._trainer.ckpt_path if self._trainer is not None else None)
        verify_digest(checkpoint, source)
        if RNG_KEY in checkpoint and self._trainer is not None and self.trainer.state.fn == "fit":
            restore_rng_states(checkpoint[RNG_KEY])
            self._rng_on_resume = checkpoint[RNG_KEY]

    # Between loading a checkpoint and its first training batch, Lightning builds iterators that draw a seed from the
    # global generator (a DataLoader iterator draws one when it is created): the sanity check's, and after a
    # checkpoint saved inside an epoch (by validation at its last batch, say) a training iterator it then discards.
    # The uninterrupted run drew none of these, so the states are restored once more where the two runs meet again:
    # after the sanity check, and at the start of the next epoch unless the checkpoint was saved after the epoch's
    # end (then Lightning keeps the iterator it built right after the load, as the uninterrupted run built it right
    # after the save). A run resumed mid-epoch gets no epoch start; its first batch drops the saved states.
    def on_validation_end(self) -> None:
        states = self.__dict__.get("_rng_on_resume")
        if states is not None and self.trainer.sanity_checking:
            restore_rng_states(states)

    def on_train_epoch_start(self) -> None:
        self._epoch_ended = False
        states = self.__dict__.pop("_rng_on_resume", None)
        if states is not None and not states.get("after_epoch_end"):
            restore_rng_states(states)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        self.__dict__.pop("_rng_on_resume", None)

    def on_train_epoch_end(self) -> None:
        self._epoch_ended = True  # Lightning calls this before ModelCheckpoint's save at the epoch's end
