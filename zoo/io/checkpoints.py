"""Self-describing checkpoints: every zoo task records its class, so a checkpoint alone rebuilds the model.

Checkpoints name classes in two places: the zoo's own ``zoo_class`` entry (``"zoo.convnets:ResNet18"``) and, when
LightningCLI wrote them, Lightning's ``_class_path`` hyperparameter. Both may name a module that has since moved
(older checkpoints say ``zoo.image_classifiers``, ``zoo.regression``, ...). ``zoo.load_task`` (`zoo.models`)
therefore finds the class by its name in the model catalogue, and every task's ``load_from_checkpoint``
(`zoo.tasks.base.ZooTask`) ignores ``_class_path``, so old and new checkpoints load alike.

Safety: checkpoints are read with ``weights_only=True`` (`zoo.io.safe_load`), so a crafted file cannot run code,
and every checkpoint a zoo task writes carries ``zoo_digest``, a SHA-256 over its ``state_dict`` tensors
(`tensor_digest`). Loading recomputes it (`verify_digest`) and refuses a file whose tensors changed after it was
saved (flipped bytes, a hand-edited weight). The digest covers tensors only, so editing metadata such as
``zoo_class`` keeps a checkpoint loadable; a checkpoint without a digest (written before it existed) still loads,
with a note.

`model_mismatch` compares the model a checkpoint holds (its class and hyperparameters) with the one a command line
asks for: resuming or evaluating ``--ckpt_path`` with another recipe's model (a GRU checkpoint under ``rnn_lyrics``, an
airfoil regression under ``gru_lyrics``, ``--model.init_args.hidden_size 128`` on a model of 256) is refused by
`zoo.cli.lightning_cli.ZooCLI` in one line naming both, instead of silently training the checkpoint's model or
failing deep inside Lightning.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from zoo.io.safe_load import CheckpointError, safe_load

__all__ = ["CLASS_KEY", "DIGEST_KEY", "WORD_VECTORS_KEY", "check_checkpoint", "checkpoint_class_name", "model_mismatch",
           "read_header", "record_class", "record_digest", "tensor_digest", "verify_digest"]

log = logging.getLogger(__name__)

CLASS_KEY = "zoo_class"
#: In a word-embedding checkpoint: the state-dict key of the word vectors (V, D), read by `WordVectors`.
WORD_VECTORS_KEY = "zoo_word_vectors"
DIGEST_KEY = "zoo_digest"
_DIGEST_PREFIX = "sha256:"


def record_class(checkpoint: dict[str, Any], module: object) -> None:
    """Store ``module``'s import path in ``checkpoint`` (called from each task's ``on_save_checkpoint``)."""
    cls = type(module)
    checkpoint[CLASS_KEY] = f"{cls.__module__}:{cls.__qualname__}"


def read_header(path: str | Path) -> dict[str, Any]:
    """The checkpoint's dict, memory-mapped (tensors are read only when used) and unpickled with
    ``weights_only=True``; `CheckpointError` (a `ConfigError`) for a missing, foreign, truncated or unsafe file."""
    header = safe_load(path, map_location="cpu", mmap=True)
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a Lightning checkpoint (it holds a {type(header).__name__})")
    return header


def tensor_digest(state_dict: Mapping[str, Any]) -> str:
    """``"sha256:<hex>"`` over every tensor of ``state_dict`` in sorted key order: name, dtype, shape and bytes.

    Values that are not tensors are skipped. The bytes are the tensor's own (little-endian on every machine torch
    supports), so the digest is the same on the CPU, after ``map_location`` to a GPU, and across machines.
    """
    h = hashlib.sha256()
    for key in sorted(state_dict):
        value = state_dict[key]
        if not isinstance(value, torch.Tensor):
            continue
        t = value.detach()
        meta = f"{key}\0{t.dtype}\0{tuple(t.shape)}\0".encode()
        h.update(len(meta).to_bytes(8, "little") + meta)
        flat = t.cpu().contiguous().reshape(-1)  # (numel,) in memory order; no copy for a CPU tensor
        raw = flat.view(torch.uint8) if flat.dtype != torch.uint8 else flat  # (numel * element_size,)
        h.update(raw.numel().to_bytes(8, "little"))
        h.update(memoryview(raw.numpy()))
    return _DIGEST_PREFIX + h.hexdigest()


def record_digest(checkpoint: dict[str, Any]) -> None:
    """Store the digest of ``checkpoint["state_dict"]`` (called from ``ZooTask.on_save_checkpoint``, which Lightning
    calls after every other hook has filled the checkpoint)."""
    if isinstance(checkpoint.get("state_dict"), Mapping):
        checkpoint[DIGEST_KEY] = tensor_digest(checkpoint["state_dict"])


def verify_digest(checkpoint: Mapping[str, Any], source: str | Path | None = None, note: bool = True) -> bool:
    """Check ``checkpoint``'s tensors against its recorded digest; `CheckpointError` naming ``source`` on a mismatch.

    Returns False (after a note in the log, unless ``note`` is False) for a checkpoint that records no digest, True
    when it matched.
    """
    name = str(source) if source is not None else "the checkpoint"
    recorded = checkpoint.get(DIGEST_KEY)
    if recorded is None:
        if note:
            log.warning("note: %s records no tensor digest (written by an older zoo or not by a zoo task); it is "
                        "loaded without checking that its tensors are unaltered", name)
        return False
    if not isinstance(recorded, str) or not recorded.startswith(_DIGEST_PREFIX):
        raise CheckpointError(f"{name}: its {DIGEST_KEY!r} entry is not a digest this zoo writes ({recorded!r:.80}); "
                              "the file was altered, it was not loaded")
    actual = tensor_digest(checkpoint.get("state_dict") or {})
    if actual != recorded:
        raise CheckpointError(f"{name}: its tensors do not match the digest saved with them ({recorded[:19]}... "
                              f"recorded, {actual[:19]}... now), so the file was altered or damaged after it was "
                              "written; it was not loaded. Use an intact copy or train again")
    return True


#: ``--ckpt_path`` values that Lightning resolves itself (a folder's newest checkpoint, SLURM's, a registry's).
_CKPT_KEYWORDS = ("last", "best", "hpc", "registry")


def check_checkpoint(ckpt_path: str | Path) -> None:
    """Refuse, before any model is built, a ``--ckpt_path`` that is missing, a folder, truncated, unsafe or altered.

    Lightning's keywords (``last``, ``hpc``, ...) and remote URLs are left to Lightning, which reads them with
    ``weights_only=True`` (`zoo.cli.lightning_cli.ZooCLI` sets it) and whose load calls ``on_load_checkpoint`` (the
    digest check) on zoo tasks.
    """
    text = str(ckpt_path)
    if text in _CKPT_KEYWORDS or text.startswith(_CKPT_KEYWORDS[3] + ":") or "://" in text:
        return
    verify_digest(read_header(text), text, note=False)


def checkpoint_class_name(header: Mapping[str, Any]) -> str | None:
    """The name of the class that wrote a checkpoint (``GRULanguageModel``): its ``zoo_class`` entry, else the
    ``_class_path`` LightningCLI saved among its hyperparameters; None when it records neither."""
    recorded = header.get(CLASS_KEY)
    if isinstance(recorded, str) and recorded:
        return recorded.rpartition(":")[2].rpartition(".")[2] or None
    hparams = header.get("hyper_parameters")
    class_path = hparams.get("_class_path") if isinstance(hparams, Mapping) else None
    if isinstance(class_path, str) and class_path:
        return class_path.rpartition(".")[2] or None
    return None


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists, mappings (and argument namespaces) as dicts and paths as strings, for
    comparing what a YAML file says with what a checkpoint saved."""
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict) and not isinstance(value, Mapping):
        value = as_dict()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (type(a) is type(b) and a == b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b) or (math.isnan(float(a)) and math.isnan(float(b)))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def model_mismatch(header: Mapping[str, Any], class_path: str | None, init_args: Mapping[str, Any] | Any,
                   source: str | Path = "the checkpoint", asked: str = "this run builds",
                   ignore: Sequence[str] = ()) -> str | None:
    """How the model in a checkpoint differs from the class ``class_path`` with the arguments ``init_args`` (one
    line naming both), or None when they agree.

    The class is compared by name (checkpoints written before a module moved name it elsewhere); the arguments
    where both sides have them, except those in ``ignore`` (the arguments the data fill in, such as the vocabulary)
    and those ``init_args`` leaves unset (None: the model fills them in, as a classifier its preprocessing).
    A checkpoint that records neither its class nor hyperparameters agrees with anything.
    """
    recorded = checkpoint_class_name(header)
    wanted = str(class_path).rpartition(".")[2].rpartition(":")[2] if class_path else None
    if recorded and wanted and recorded != wanted:
        return (f"{source} holds a {recorded}, but {asked} a {wanted}: a checkpoint resumes or evaluates only the "
                f"model that wrote it; use the recipe it was written with, or leave out --ckpt_path")
    saved = header.get("hyper_parameters")
    saved = _plain(saved) if isinstance(saved, Mapping) else {}
    given = _plain(init_args) if init_args is not None else {}
    if not isinstance(given, dict):
        return None
    differ = [k for k in given if not k.startswith("_") and k not in ignore and given[k] is not None
              and k in saved and not _same(saved[k], given[k])]
    if not differ:
        return None
    name = recorded or wanted or "model"
    shown = differ[:6]
    more = f" (and {len(differ) - 6} more)" if len(differ) > 6 else ""
    theirs = ", ".join(f"{k}={_short(saved[k])}" for k in shown)
    ours = ", ".join(f"{k}={_short(given[k])}" for k in shown)
    return (f"{source} holds a {name} with {theirs}{more}, but {asked} one with {ours}: a checkpoint resumes or "
            f"evaluates only the model that wrote it; use the arguments it was written with, or leave out "
            f"--ckpt_path")
