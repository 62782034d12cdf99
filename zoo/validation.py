"""Argument checks shared by the datamodules, the task bases and the commands .

Every number a user types (a batch size, a learning rate, a layer size, ``generate --temperature``) is checked here,
before anything is built, and a wrong one raises `zoo.errors.ConfigError` with one line that names the argument,
the rule and the value. ``python -m zoo`` prints that line as ``error: ...`` and exits 1, instead of a
ZeroDivisionError in a sampler, an optimizer's ValueError after the model summary, or a PyTorch error that prints
the whole configuration.

* `positive_int`, `non_negative_int`, `positive_float`, `non_negative_float`, `fraction`: one value each;
* `check_hyperparameters`: every argument of a model at once, by name (`RULES`), so an architecture's own sizes
  (``hidden_size``, ``num_channels``, ...) are checked by its task base without a line in the architecture.

Plain Python (only `zoo.errors`), so `datamodules`, `zoo.tasks` and `zoo.cli` can all use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from zoo.errors import ConfigError

__all__ = ["RULES", "check_hyperparameters", "fraction", "non_negative_float", "non_negative_int", "positive_float",
           "positive_int"]


def _who(name: str, owner: str | None) -> str:
    return f"{owner}: {name}" if owner else name


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _not_a_number(name: str, value: Any, owner: str | None, kind: str) -> ConfigError:
    hint = " (in YAML write 1.0e-3, not 1e-3, which YAML reads as text)" if isinstance(value, str) else ""
    return ConfigError(f"{_who(name, owner)} must be {kind}, got {value!r} ({type(value).__name__}){hint}")


def positive_int(value: Any, name: str, owner: str | None = None) -> int:
    """``value`` if it is an integer >= 1, else `ConfigError` naming ``name`` (and ``owner``)."""
    if not _is_int(value):
        raise _not_a_number(name, value, owner, "an integer >= 1")
    if value < 1:
        raise ConfigError(f"{_who(name, owner)} must be >= 1, got {value}")
    return value


def non_negative_int(value: Any, name: str, owner: str | None = None) -> int:
    """``value`` if it is an integer >= 0, else `ConfigError`."""
    if not _is_int(value):
        raise _not_a_number(name, value, owner, "an integer >= 0")
    if value < 0:
        raise ConfigError(f"{_who(name, owner)} must be >= 0, got {value}")
    return value


def _finite(value: Any, name: str, owner: str | None, kind: str) -> float:
    if not _is_number(value):
        raise _not_a_number(name, value, owner, kind)
    if not math.isfinite(value):
        raise ConfigError(f"{_who(name, owner)} must be a finite number ({kind}), got {value}")
    return value


def positive_float(value: Any, name: str, owner: str | None = None) -> float:
    """``value`` if it is a finite number > 0 (not nan, not inf), else `ConfigError`."""
    _finite(value, name, owner, "> 0")
    if value <= 0:
        raise ConfigError(f"{_who(name, owner)} must be > 0, got {value}")
    return value


def non_negative_float(value: Any, name: str, owner: str | None = None) -> float:
    """``value`` if it is a finite number >= 0, else `ConfigError`."""
    _finite(value, name, owner, ">= 0")
    if value < 0:
        raise ConfigError(f"{_who(name, owner)} must be >= 0, got {value}")
    return value


def fraction(value: Any, name: str, owner: str | None = None) -> float:
    """``value`` if it is a number in [0, 1) (a dropout probability, a momentum), else `ConfigError`."""
    _finite(value, name, owner, "in [0, 1)")
    if not 0 <= value < 1:
        raise ConfigError(f"{_who(name, owner)} must be in [0, 1), got {value}")
    return value


def _each(check: Callable[[Any, str, str | None], Any]) -> Callable[[Any, str, str | None], None]:
    """A rule for a value that may be one number or a list/tuple of them (``dropout: [0.2, 0.5]``)."""

    def rule(value: Any, name: str, owner: str | None) -> None:
        items = value if isinstance(value, (list, tuple)) else [value]
        for i, item in enumerate(items):
            check(item, name if items is not value else f"{name}[{i}]", owner)

    return rule


def _pairs_of_positive_ints(value: Any, name: str, owner: str | None) -> None:
    """VGG's ``conv_arch``: (convolutions, channels) pairs, each >= 1."""
    for i, pair in enumerate(value):
        _each(positive_int)(list(pair) if isinstance(pair, (list, tuple)) else pair, f"{name}[{i}]", owner)


def _lr_decay(value: Any, name: str, owner: str | None) -> None:
    _finite(value, name, owner, "in (0, 1]")
    if not 0 < value <= 1:
        raise ConfigError(f"{_who(name, owner)} must be in (0, 1], got {value}")


#: hyperparameter name -> its check; ``None`` always passes (it means "the default" or "off"). Names not listed pass.
RULES: dict[str, Callable[[Any, str, str | None], Any]] = {
    # optimisation
    "lr": positive_float,
    "momentum": fraction,
    "weight_decay": non_negative_float,
    "l2_lambda": non_negative_float,
    "head_lr_mult": positive_float,
    "lr_decay": _lr_decay,
    "clipping_theta": positive_float,
    "clip_gradients": positive_float,
    # regularisation and initialisation
    "dropout": _each(fraction),
    "init_std": non_negative_float,
    "bias_init_std": non_negative_float,
    # sizes of networks and data
    "hidden_size": positive_int,
    "hidden_sizes": _each(positive_int),
    "embed_size": positive_int,
    "embedding_dim": positive_int,
    "attention_size": positive_int,
    "num_hiddens": positive_int,
    "num_layers": positive_int,
    "num_channels": _each(positive_int),
    "num_classes": positive_int,
    "num_features": positive_int,
    "in_channels": positive_int,
    "image_size": positive_int,
    "block_sizes": _each(positive_int),
    "kernel_sizes": _each(positive_int),
    "conv_arch": _pairs_of_positive_ints,
    "fc_hidden": positive_int,
    "growth_rate": positive_int,
    "ratio": positive_int,
    "max_len": positive_int,
    "max_seq_len": positive_int,
    # decoding and sampling
    "beam_size": positive_int,
    "bleu_k": positive_int,
    "length_penalty": non_negative_float,
    "num_neighbours": positive_int,
    "temperature": non_negative_float,
    "pred_period": non_negative_int,  # 0: no samples during training
    "pred_len": non_negative_int,
}


def check_hyperparameters(hparams: Mapping[str, Any], owner: str, skip: Iterable[str] = ()) -> None:
    """Check every hyperparameter that `RULES` names (``None`` passes); `ConfigError` names the first wrong one.

    A task base calls it right after ``save_hyperparameters()`` and before ``build_net()``, so a model's own
    arguments (``hidden_size`` of a GRU, ``num_channels`` of a TCN, ...) are checked before PyTorch sees them.
    """
    skipped = set(skip)
    for name, value in hparams.items():
        rule = RULES.get(name)
        if rule is None or value is None or name in skipped:
            continue
        rule(value, name, owner)
