"""Errors meant for the person at the keyboard.

Every `ZooError` carries a complete, actionable message. `python -m zoo` prints it without a traceback and exits
with status 1, so a missing file, a corrupt download or a bad prompt never ends in a stack trace. This module imports
nothing heavy, so the data layer and the plain `nn.Module` networks can use it without Lightning.
"""

from __future__ import annotations

__all__ = [
    "ChecksumError",
    "ConfigError",
    "DataError",
    "DataUnavailableError",
    "PromptError",
    "UnsafeArchiveError",
    "WeightsUnavailableError",
    "ZooError",
]


class ZooError(Exception):
    """Base class: an error whose message tells the user what happened and what to do next."""


class ConfigError(ZooError, ValueError):
    """A recipe, argument or checkpoint that cannot work (unknown name, inconsistent sizes, ...)."""


class DataError(ZooError):
    """A dataset file that is missing, corrupt or unreadable."""


class DataUnavailableError(DataError):
    """No cached copy, no mirror copy and no reachable URL for a file."""


class ChecksumError(DataError):
    """A file whose bytes do not match the published checksum."""


class UnsafeArchiveError(DataError):
    """An archive with a member that would land outside the extraction folder."""


class PromptError(ZooError, ValueError):
    """A generation prompt the model cannot read (empty, or characters outside its vocabulary)."""


class WeightsUnavailableError(ZooError):
    """Pretrained weights that are neither cached nor downloadable."""
