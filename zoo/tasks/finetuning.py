"""Fine-tuning (book 9.2) for any classifier whose network has ``features`` and ``head``: pretrained weights into the
backbone, a larger learning rate for the new head, and a frozen backbone.

The classification task calls these; they take the plain network, so they work for every architecture.

* Pretrained weights: a network that can take torchvision weights names the enum in its class attribute
  ``weights_family`` (`zoo.nets.resnet.TorchvisionResNet18`: ``"ResNet18_Weights"``) and copies a torchvision state
  dict into ``features`` with ``load_backbone``. The file comes through `zoo.pretrained.image_weights` (torch's cache,
  a download, or a local ``weights_path``). A network without ``load_backbone`` takes, from ``weights_path``, a state
  dict of its own ``features``.
* ``head_lr_mult``: the head's parameter groups get ``head_lr_mult * lr`` (book 9.2.1.2: 10).
* ``freeze_backbone``: ``features`` gets no gradient, is left out of the optimizer, and stays in eval mode so its
  BatchNorm statistics do not move either; only the head learns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning.pytorch.utilities import rank_zero_info
from torch import nn

from zoo.errors import ConfigError, WeightsUnavailableError
from zoo.optim import decay_groups
from zoo.pretrained.image_weights import file_sha256, load_weights, published_hash_prefix, weights_entry, weights_name

__all__ = ["asks_for_pretrained", "check_finetuning", "describe_weights", "head_param_groups", "load_pretrained",
           "pretrained_weights"]


def asks_for_pretrained(pretrained: bool | str | None) -> bool:
    """Whether a ``pretrained`` setting asks for weights (``"false"`` from YAML or a shell counts as false)."""
    return not (pretrained is None or pretrained is False or str(pretrained).strip().lower() == "false")


def pretrained_weights(net: nn.Module, pretrained: bool | str | None, owner: str):
    """The torchvision weights entry ``pretrained`` asks for (None for none); `ConfigError` if ``net`` takes none."""
    if not asks_for_pretrained(pretrained):
        return None
    family = getattr(net, "weights_family", None)
    if family is None:
        raise ConfigError(f"{owner}: its network ({type(net).__name__}) has no published pretrained weights, so "
                          f"pretrained={pretrained!r} cannot work; use weights_path for a state dict of its features, "
                          "or pretrained: false")
    return weights_entry(pretrained, family)


def check_finetuning(owner: str, pretrained: bool, in_channels: int, head_lr_mult: float,
                     freeze_backbone: bool, from_torchvision: bool) -> None:
    """Refuse fine-tuning options that cannot work together, before anything is loaded."""
    if not head_lr_mult > 0:
        raise ConfigError(f"{owner}: head_lr_mult must be > 0, got {head_lr_mult}")
    if from_torchvision and in_channels != 3:
        raise ConfigError(f"{owner}: the ImageNet weights take 3-channel images, got in_channels={in_channels}")
    if freeze_backbone and not pretrained:
        raise ConfigError(f"{owner}: freeze_backbone trains the head on top of pretrained features; set "
                          "pretrained: true or weights_path (a frozen random backbone would learn nothing)")


def load_pretrained(net: nn.Module, weights, weights_path: str | None, owner: str) -> str:
    """Copy the pretrained backbone into ``net.features``; returns what was loaded, for the run summary.

    A ``weights_path`` file is named by its path and SHA-256, and as the torchvision entry only when its digest is
    the one that entry publishes (the start of its file name's hash, checked by torch.hub on download).
    """
    state, source = load_weights(weights, weights_path)
    load = getattr(net, "load_backbone", None) or net.features.load_state_dict
    try:
        load(state)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:600]
        family = getattr(net, "weights_family", None)
        kind = f"a torchvision {family} state dict" if family else "a state dict of its features"
        raise WeightsUnavailableError(f"{source} does not hold weights for {type(net).__name__} ({kind}): "
                                      f"{detail}") from exc
    description = describe_weights(weights, weights_path, source)
    rank_zero_info(f"{owner}: loaded pretrained weights {description}")
    return description


def describe_weights(weights, weights_path: str | None, source: str) -> str:
    """``"ResNet18_Weights.IMAGENET1K_V1 from <cache file>"``, or for a file of the user's,
    ``"<path> (sha256 1a2b3c4d5e6f)"`` unless its digest is the torchvision entry's."""
    if not weights_path:
        return f"{weights_name(weights)} from {source}"
    digest = file_sha256(Path(weights_path).expanduser())
    if weights is not None and digest.startswith(published_hash_prefix(weights)):
        return f"{weights_name(weights)} from {source} (sha256 {digest[:12]}, the published file)"
    return f"{source} (sha256 {digest[:12]})"


def head_param_groups(net: nn.Module, lr: float, head_lr_mult: float, weight_decay: float) -> list[dict[str, Any]]:
    """The backbone's groups at ``lr`` and the head's at ``head_lr_mult * lr`` (book 9.2.1.2), each split into decayed
    weights and undecayed biases/norm parameters (`decay_groups`); frozen parameters and empty groups are left out."""
    head = [dict(g, lr=lr * head_lr_mult) for g in decay_groups(net.head, weight_decay)]
    return [g for g in [*decay_groups(net.features, weight_decay), *head] if g["params"]]
