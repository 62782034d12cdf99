"""YAML files on the command line, checked before LightningCLI reads them.

jsonargparse reads a ``--config`` file's text and parses it as a string, so a syntax error comes back as
``in "<unicode string>", line 5, column 1`` under a screen of usage text, without the file's name. `check_config_files`
parses every YAML file named on the command line first (syntax only, nothing is constructed) and turns an error into
one `ConfigError` that names the file, the line and the column: ``python -m zoo`` prints it as ``error: ...`` and
exits 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from zoo.errors import ConfigError

__all__ = ["check_config_files", "check_yaml_file"]

_SUFFIXES = (".yaml", ".yml")


def _config_paths(args: Sequence[str]) -> list[Path]:
    """The files given to ``--config`` (``--config X`` or ``--config=X``) and any other existing ``*.yaml`` argument
    (``--data data.yaml``), in order."""
    paths = []
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            paths.append(Path(args[i + 1]))
        elif arg.startswith("--config="):
            paths.append(Path(arg.split("=", 1)[1]))
        elif not arg.startswith("-") and arg.endswith(_SUFFIXES) and (i == 0 or args[i - 1] != "--config"):
            paths.append(Path(arg))
    return [p for p in paths if p.is_file()]  # a --config that is not a file is YAML text, or jsonargparse's to report


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def check_yaml_file(path: Path) -> None:
    """`ConfigError` naming ``path``, the line and the column when it is not valid YAML (or not UTF-8 text)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); is it a YAML config?") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path} ({exc.strerror or exc})") from None
    try:
        for _ in yaml.compose_all(text, Loader=yaml.SafeLoader):  # syntax and structure; no object is built
            pass
    except yaml.MarkedYAMLError as exc:
        where = _where(exc.problem_mark) if exc.problem_mark is not None else "somewhere"
        context = ""
        if exc.context:
            start = f" at {_where(exc.context_mark)}" if exc.context_mark is not None else ""
            context = f" ({exc.context}{start})"
        raise ConfigError(f"{path}, {where}: {exc.problem or 'invalid YAML'}{context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None


def check_config_files(args: Sequence[str] | Any) -> None:
    """Check every YAML file named in a LightningCLI argument list (anything but a list of strings passes)."""
    if not isinstance(args, (list, tuple)) or not all(isinstance(a, str) for a in args):
        return
    for path in _config_paths(args):
        check_yaml_file(path)
