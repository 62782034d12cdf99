"""`ZooTask`: what every task base shares: how a zoo model is built, described, saved and restored.

A task base (classification, language model, regression, ...) subclasses `ZooTask` instead of
``L.LightningModule``; architectures subclass a task base. `ZooTask` adds no step, loss or metric: only

* the signature: an architecture declares its own keyword-only arguments and passes the task's on with ``**task``;
  `ZooTask` composes the full signature from the class and its task base (``inspect.signature``, ``help()``,
  LightningCLI all see every argument with its default), appends the task's documented arguments to the class's
  docstring, and refuses a misspelt argument naming the class the user called, before anything is built;
* construction only builds: pretrained weights and word vectors are read by the named step `load_pretrained`
  (called by ``zoo.create_model``, by the command line, and at the start of a Trainer run that did not restore a
  checkpoint), never by ``__init__``, so building a model or loading a checkpoint never downloads;
* ``on_save_checkpoint``: the checkpoint records the model's class (`zoo.io.checkpoints.record_class`), so
  ``zoo.load_task(path)`` rebuilds it without the recipe, and a digest of its tensors (`record_digest`);
* ``on_load_checkpoint``: every load (``load_from_checkpoint``, ``zoo.load_task``, a Trainer's ``ckpt_path``) checks
  that digest and refuses a checkpoint whose tensors were altered (`zoo.io.checkpoints.verify_digest`);
* resuming: the checkpoint also holds the random generators' states, restored when a Trainer resumes from it
  (`zoo.io.resume`), so a resumed run draws the same dropout masks and sample orders as an uninterrupted one;
* ``load_from_checkpoint``: reads the file with ``weights_only=True`` (a crafted pickle cannot run code,
  `zoo.io.safe_load`) and calls the class with the saved hyperparameters directly, not through LightningCLI's
  argument parser: a checkpoint holding a 20,000-word vocabulary loads in a second, not minutes. A checkpoint
  written by LightningCLI loads even if its ``_class_path`` names a module that has moved since.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import lightning as L
import torch

from zoo.errors import ZooError
from zoo.io.checkpoints import CLASS_KEY, read_header, record_class, record_digest, verify_digest
from zoo.io.resume import RNG_KEY, collect_rng_states, restore_rng_states
from zoo.io.safe_load import CheckpointError, UnsafeCheckpointError

__all__ = ["ZooTask", "composed_signature"]

#: The file `ZooTask.load_from_checkpoint` is reading, so ``on_load_checkpoint`` can name it in its messages.
_LOADING: ContextVar[str | None] = ContextVar("zoo_loading_checkpoint", default=None)
_TRUSTED_INSTANTIATORS = ("lightning.pytorch.cli.instantiate_module", "pytorch_lightning.cli.instantiate_module")
_KEYWORD = inspect.Parameter.KEYWORD_ONLY


def composed_signature(cls: type) -> inspect.Signature:
    """Every keyword argument ``cls`` accepts: its own ``__init__``'s first, then those of each class above it up to
    the task base, which it passes on with ``**``. A class that restates an argument (an architecture giving
    ``image_size`` its book default) shows its own default."""
    params: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        if klass is ZooTask or not issubclass(klass, ZooTask):
            break
        init = vars(klass).get("__init__")
        if init is None:
            continue
        try:
            signature = inspect.signature(init, eval_str=True)
        except (NameError, TypeError):  # an annotation naming something only a type checker imports
            signature = inspect.signature(init)
        for param in list(signature.parameters.values())[1:]:  # [0] is self
            if param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                params.setdefault(param.name, param.replace(kind=_KEYWORD))
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            break  # a task base: nothing above it takes arguments
    return inspect.Signature(list(params.values()))


def _inherited_arguments_doc(cls: type) -> str:
    """The "Args:" sections of the classes ``cls`` passes arguments on to (its family's, then its task base's), for
    an architecture's ``help()``."""
    sections = []
    for klass in cls.__mro__[1:]:
        if klass is ZooTask or not issubclass(klass, ZooTask):
            break
        doc = inspect.getdoc(klass) or ""
        if "Args:" in doc:
            own = doc.split("Args:", 1)[1].split("Arguments of", 1)[0].rstrip()
            sections.append(f"Arguments of {klass.__name__}:{own}")
    return "\n\n".join(sections)


class ZooTask(L.LightningModule):
    """The common root of the task bases (see the module docstring)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__signature__ = composed_signature(cls)
        own = vars(cls).get("__doc__") or ""
        if not cls.__module__.startswith("zoo.tasks.") and "Arguments of" not in own:  # an architecture
            cls.__doc__ = f"{inspect.cleandoc(own)}\n\n{_inherited_arguments_doc(cls)}".strip()

    def __new__(cls, *args: Any, **kwargs: Any):
        """Check the arguments against the class's full signature first, so a misspelt one names the class called
        (``LeNet(num_class=3)``: "LeNet got an unexpected keyword argument 'num_class'; did you mean
        'num_classes'?") instead of a task base deep inside."""
        if args or kwargs:
            _check_arguments(cls, args, kwargs)
        return super().__new__(cls)

    # ---------------------------------------------------------------- pretrained inputs
    def load_pretrained(self):
        """Read the pretrained weights or word vectors the arguments ask for into the model (a named step, never
        part of ``__init__``); returns the model. Does nothing when none are asked for or they are loaded already.
        Task bases with pretrained inputs override `_load_pretrained`."""
        if not self.__dict__.get("_pretrained_done", False):
            self._load_pretrained()
            self._pretrained_done = True
        return self

    def _load_pretrained(self) -> None:
        """Load what the arguments ask for (none by default)."""

    def on_fit_start(self) -> None:
        """A model built with pretrained inputs and trained without restoring a checkpoint loads them now."""
        if not self.__dict__.get("_restored", False):
            self.load_pretrained()

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: Any, map_location: Any = None, hparams_file: Any = None,
                             strict: bool | None = None, *, checkpoint: Mapping[str, Any] | None = None,
                             **kwargs: Any):  # type: ignore[override]
        """The model saved in ``checkpoint_path``, rebuilt from its hyperparameters (``kwargs`` override them) and
        its tensors, read with ``weights_only=True`` and checked against their digest. ``checkpoint``: the file's
        contents when the caller has read them already (`zoo.load_task`). Errors are `CheckpointError`s naming the
        file. A file-like object or an ``hparams_file`` goes through Lightning's own loader."""
        if hparams_file is not None or not isinstance(checkpoint_path, (str, Path)):
            kwargs.setdefault("weights_only", True)
            return super().load_from_checkpoint(checkpoint_path, map_location, hparams_file, strict, **kwargs)
        header = read_header(checkpoint_path) if checkpoint is None else checkpoint
        cls = _recorded_subclass(cls, header, checkpoint_path)
        hparams = _saved_arguments(cls, header, checkpoint_path)
        hparams.update(kwargs)
        token = _LOADING.set(str(checkpoint_path))
        try:
            model = cls(**hparams)
            model.on_load_checkpoint(header)
            strict = model.strict_loading if strict is None else strict
            model.load_state_dict(header.get("state_dict") or {}, strict=strict)
        except ZooError:
            raise
        except RuntimeError as exc:
            if "state_dict" not in str(exc):
                raise
            first = str(exc).strip().splitlines()[0]
            raise CheckpointError(f"{checkpoint_path} does not fit {cls.__name__}: {first} (was it written by another "
                                  "architecture or with other sizes?)") from exc
        finally:
            _LOADING.reset(token)
        if isinstance(map_location, (str, torch.device)):
            model.to(map_location)
        return model

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
        self._restored = True  # its tensors replace any pretrained ones: load_pretrained has nothing to do
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


def _check_arguments(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        inspect.signature(cls).bind(*args, **kwargs)
    except TypeError as exc:
        known = list(inspect.signature(cls).parameters)
        unknown = [k for k in kwargs if k not in known]
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; {cls.__name__} takes: {', '.join(known)}"
            raise TypeError(f"{cls.__name__} got an unexpected keyword argument {unknown[0]!r}{hint}") from None
        raise TypeError(f"{cls.__name__}: {exc} (every argument is keyword-only: {cls.__name__}(num_classes=10, "
                        "...))") from None


def _recorded_subclass(cls: type, header: Mapping[str, Any], path: Any) -> type:
    """``cls``, or the subclass of it the checkpoint records (a GRU checkpoint loaded through its family's class);
    a checkpoint of an unrelated class is refused by name."""
    recorded = str(header.get(CLASS_KEY, "")).partition(":")[2]
    if not recorded or recorded == cls.__name__:
        return cls
    todo = list(cls.__subclasses__())
    while todo:
        sub = todo.pop()
        if sub.__name__ == recorded:
            return sub
        todo += sub.__subclasses__()
    raise CheckpointError(f"{path} holds a {recorded}, not a {cls.__name__}; load it with zoo.load_task(path) or "
                          f"zoo.{recorded}.load_from_checkpoint(path)")


def _saved_arguments(cls: type, header: Mapping[str, Any], path: Any) -> dict[str, Any]:
    """The saved hyperparameters that ``cls`` takes (LightningCLI's bookkeeping entries and arguments that no longer
    exist left out). A checkpoint naming a builder other than LightningCLI's is refused: it could run code."""
    hparams = dict(header.get("hyper_parameters") or {})
    instantiator = hparams.pop("_instantiator", None)
    if instantiator is not None and instantiator not in _TRUSTED_INSTANTIATORS:
        raise UnsafeCheckpointError(f"refusing to load {path}: it names {instantiator!r} as the function that builds "
                                    "the model, which is not LightningCLI's")
    hparams.pop("_class_path", None)
    accepted = inspect.signature(cls).parameters
    return {key: value for key, value in hparams.items() if key in accepted}
