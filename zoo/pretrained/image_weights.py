"""Pretrained weights for fine-tuning (book 9.2): which torchvision weights, where the file comes from, and the
preprocessing that goes with them. The classification task's fine-tuning options (`zoo.tasks.finetuning`) load
through here, for any network that names the torchvision weights family it can take (``weights_family``).

The book fine-tunes ``torchvision.models.resnet18(pretrained=True)``. Here the weights go through torchvision's
weights API: ``ResNet18_Weights.IMAGENET1K_V1.get_state_dict(check_hash=True)`` downloads ``resnet18-f37072fd.pth``
once into torch's cache, ``$TORCH_HOME/hub/checkpoints/`` (``TORCH_HOME`` defaults to ``~/.cache/torch``), and reads it
from there afterwards. Its hash check: the part of the file name after the dash is the start of the file's SHA-256,
checked while downloading; torch.hub does not hash a file that is already in the cache, so a copy placed there by
hand is trusted as it is (this module does the same, so any file put there works, as with torchvision itself).

Without network: copy the file into that folder, or point ``weights_path`` at a local copy of the state dict.
With ``$ZOO_OFFLINE=1`` no download is tried. Every failure is a `WeightsUnavailableError` (or `ConfigError`) that
names the file, its URL, the cache path and both ways out.

The preprocessing (resize, crop, mean, std) of a weights entry comes from its own ``transforms()``
(`weights_preprocess`), so the datamodule feeds the network images prepared as in its pretraining.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch

from datamodules.images import weights_preprocess as image_preprocess
from zoo.errors import ConfigError, WeightsUnavailableError

__all__ = ["cache_file", "file_sha256", "find_weights", "load_weights", "published_hash_prefix", "weights_entry",
           "weights_name", "weights_preprocess"]

CONNECT_TIMEOUT_S = 8.0  # per socket operation while downloading; a firewalled network fails fast


def weights_entry(pretrained: bool | str | None, family: str = "ResNet18_Weights"):
    """The member of torchvision's weights enum ``family`` asked for by ``pretrained``: false/None -> None, true ->
    ``DEFAULT`` (for ResNet-18, ``IMAGENET1K_V1``), or a member name (``"IMAGENET1K_V1"``,
    ``"ResNet18_Weights.IMAGENET1K_V1"``)."""
    import torchvision.models

    if pretrained is None or pretrained is False:
        return None
    enum = getattr(torchvision.models, family, None)
    if enum is None:
        raise ConfigError(f"torchvision has no weights family {family!r}")
    if pretrained is True:
        return enum.DEFAULT
    name = str(pretrained).strip().removeprefix(f"{family}.")
    if name.lower() in ("true", "false"):  # a YAML or shell string that was meant as a bool
        return weights_entry(name.lower() == "true", family)
    if name not in enum.__members__:
        raise ConfigError(f"unknown {family} entry {pretrained!r}; pretrained takes false, true or one of "
                          f"{', '.join(enum.__members__)}")
    return enum[name]


def find_weights(name: str):
    """Any torchvision weights entry by full name (``"ResNet50_Weights.IMAGENET1K_V2"``); a bare member name
    (``"IMAGENET1K_V1"``, ``"DEFAULT"``) means ResNet-18's."""
    if "." not in name:
        return weights_entry(name)
    from torchvision.models import get_weight

    try:
        return get_weight(name)
    except (KeyError, ValueError, AttributeError) as exc:
        raise ConfigError(f"unknown torchvision weights {name!r} ({exc}); use a name such as "
                          "'ResNet18_Weights.IMAGENET1K_V1' (torchvision.models.get_model_weights lists them)") from exc


def weights_name(weights) -> str:
    """``"ResNet18_Weights.IMAGENET1K_V1"`` (``DEFAULT`` is an alias and prints as the entry it stands for)."""
    return f"{type(weights).__name__}.{weights.name}"


def weights_preprocess(weights) -> dict[str, Any]:
    """The evaluation preprocessing of ``weights`` as primitives, read from its ``transforms()`` (the data layer's
    `datamodules.images.weights_preprocess`)."""
    return image_preprocess(weights_name(weights))[0]


def published_hash_prefix(weights) -> str:
    """The start of the SHA-256 that torchvision publishes for ``weights``: the part of its file name after the last
    dash (``resnet18-f37072fd.pth`` -> ``"f37072fd"``)."""
    stem = os.path.basename(urlparse(weights.url).path).rsplit(".", 1)[0]
    return stem.rsplit("-", 1)[-1] if "-" in stem else "\0"  # no published hash: matches nothing


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_file(weights) -> Path:
    """Where torch.hub keeps ``weights``: ``$TORCH_HOME/hub/checkpoints/<file name of its URL>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(weights.url).path)


def _ways_out(weights) -> str:
    target = cache_file(weights)
    torch_home = Path(torch.hub.get_dir()).parent
    return (f"  file: {target.name}\n  URL:  {weights.url}\n"
            "Two ways out:\n"
            f"  1. download the file on a machine with network and copy it to {target}\n"
            f"     (torch's cache is $TORCH_HOME/hub/checkpoints; TORCH_HOME is {torch_home} here), or\n"
            f"  2. pass a local copy of it: --model.init_args.weights_path /path/to/{target.name}\n"
            "     (in Python: ResNet18(variant='torchvision', weights_path=...)).\n"
            "Or train from scratch with --model.init_args.pretrained false.")


def _load_file(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsUnavailableError(f"weights_path {path} does not exist; give the path of a saved state dict "
                                      "(for example resnet18-f37072fd.pth from torchvision's download URL)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a truncated or foreign file
        raise WeightsUnavailableError(f"{path} is not a readable state dict ({type(exc).__name__}: {exc})") from exc
    return _check_state(state, path)


def _check_state(state: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(state, dict) and "state_dict" in state and not isinstance(state["state_dict"], torch.Tensor):
        raise WeightsUnavailableError(f"{path} looks like a training checkpoint, not a state dict; to continue from a "
                                      "zoo checkpoint use --ckpt_path (or zoo.load_task)")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsUnavailableError(f"{path} does not hold a state dict (a mapping of parameter names to tensors)")
    return state


def _offline() -> bool:
    return os.environ.get("ZOO_OFFLINE", "") not in ("", "0")


def _download(weights) -> dict[str, torch.Tensor]:
    """``weights.get_state_dict`` with torchvision's hash check and a socket timeout; errors become ZooErrors."""
    target = cache_file(weights)
    was_cached = target.is_file()
    if not was_cached and _offline():
        raise WeightsUnavailableError(f"the pretrained weights {weights_name(weights)} are not in torch's cache and "
                                      f"$ZOO_OFFLINE=1 forbids downloading them.\n{_ways_out(weights)}")
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(old_timeout or CONNECT_TIMEOUT_S)  # torch.hub's urlopen has no timeout of its own
    try:
        state = weights.get_state_dict(progress=True, check_hash=True, weights_only=True)
    except Exception as exc:  # network errors, a failed hash check, an unreadable cached file
        error = _explain(exc, weights, was_cached)
        if error is None:
            raise
        raise error from exc
    finally:
        socket.setdefaulttimeout(old_timeout)
    return _check_state(state, target)


def _explain(exc: Exception, weights, was_cached: bool) -> WeightsUnavailableError | None:
    """The user-facing error for a failure of ``get_state_dict``; None for an unexpected one (re-raised as is)."""
    target = cache_file(weights)
    if "invalid hash value" in str(exc):
        return WeightsUnavailableError(f"the download of {weights.url} failed torchvision's hash check ({exc}); "
                                       f"nothing was cached. Try again, or:\n{_ways_out(weights)}")
    if was_cached:
        return WeightsUnavailableError(f"the cached file {target} is not a readable state dict ({type(exc).__name__}:"
                                       f" {exc}); delete it and run again to download it afresh")
    if isinstance(exc, (OSError, http.client.HTTPException)):  # URLError, timeouts, refused connections, ...
        reason = getattr(exc, "reason", None) or exc
        return WeightsUnavailableError(f"cannot download the pretrained weights {weights_name(weights)} ({reason})."
                                       f"\n{_ways_out(weights)}")
    return None


def load_weights(weights, weights_path: str | os.PathLike[str] | None = None) -> tuple[dict[str, torch.Tensor], str]:
    """(state dict, where it came from): the file at ``weights_path`` if given, else ``weights`` through torchvision's
    cache (downloading it there once)."""
    if weights_path:
        path = Path(weights_path).expanduser()
        return _load_file(path), str(path)
    if weights is None:
        raise ConfigError("load_weights needs a weights entry or a weights_path")
    return _download(weights), str(cache_file(weights))
