"""Which loggers a zoo run uses, and where their files go: every file of a run lands in its folder under ``runs/``.

A run's folder is ``<default_root_dir>/version_N`` (the recipes set ``default_root_dir: runs/<recipe>``; without it,
``runs``). It holds the CSV logger's ``metrics.csv``, LightningCLI's ``config.yaml``, ``checkpoints/`` and whatever the
other loggers write. Two ways to choose loggers:

* ``--logger tensorboard``, ``--logger wandb`` or ``--logger tensorboard,wandb`` (the zoo's flag): the CSV logger
  (the default, which the loss curves and the summary read) stays first, and the others write into the same folder:
  TensorBoard's event file in ``version_N/tensorboard/``, W&B's run in ``version_N/wandb/`` (project
  ``$WANDB_PROJECT`` or ``lightning-zoo``, run name ``<recipe>/version_N``).
* LightningCLI's own ``--trainer.logger <class> --trainer.logger.<arg> ...`` replaces the CSV logger. A logger that
  would write into the current directory by default (``WandbLogger``'s ``save_dir="."``) is given the run's folder
  instead: ``runs/<recipe>/version_N/`` then holds ``wandb/``, ``config.yaml`` and the checkpoints (under
  ``<project>/<run id>/checkpoints``, Lightning's layout for W&B), and the summary names that folder. An explicit
  ``save_dir`` is kept.

The run folder is reserved when the loggers are built, by creating ``version_N`` with one ``os.mkdir`` (the next
number is tried while another run holds it; `reserve_run_folder`), so two runs of one recipe started together never
share a folder; only the first process of a run reserves (DDP ranks above 0, on this node or another, write nothing).
A run that is not training (``validate``, ``test``, ``predict``) or that failed leaves no folder that holds only its
configuration: `remove_unused_run_folder` takes back the folder this process reserved when nothing else was written
into it, and never touches another's.

W&B never needs a network unless an account is configured: without credentials (``WANDB_API_KEY``,
``WANDB_IDENTITY_TOKEN_FILE`` or a ``.netrc`` entry for the W&B host, the places wandb itself reads) the zoo sets
``WANDB_MODE=offline``; ``wandb sync <run folder>/wandb/offline-run-...`` uploads later. A ``WANDB_MODE`` already
set is respected.
"""

from __future__ import annotations

import netrc
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zoo.errors import ConfigError

__all__ = ["LOGGER_NAMES", "launched_as_global_zero", "parse_logger_names", "place_cli_loggers",
           "remove_unused_run_folder", "reserve_run_folder", "run_loggers", "set_wandb_mode"]

LOGGER_NAMES = ("csv", "tensorboard", "wandb")
#: the attribute of a logger that holds the folder this process reserved for it
RESERVED = "zoo_reserved_folder"
#: files a run folder holds before anything of the run is in it (LightningCLI's and the loggers' bookkeeping)
_BOOKKEEPING = ("config.yaml", "hparams.yaml", "metrics.csv")


def parse_logger_names(value: str | list[str] | None) -> list[str]:
    """``"tensorboard,wandb"`` (or a list) -> ``["csv", "tensorboard", "wandb"]``: the CSV logger always first."""
    names = value if isinstance(value, list) else str(value or "csv").replace(" ", ",").split(",")
    names = [n.strip().lower() for n in names if n.strip()]
    unknown = [n for n in names if n not in LOGGER_NAMES]
    if unknown:
        raise ConfigError(f"unknown logger {', '.join(map(repr, unknown))} for --logger; choose from "
                          f"{', '.join(LOGGER_NAMES)} (comma-separated, e.g. --logger tensorboard,wandb), or name any "
                          "Lightning logger class with --trainer.logger")
    return ["csv", *dict.fromkeys(n for n in names if n != "csv")]


def launched_as_global_zero() -> bool:
    """Whether this process is the run's first (global rank 0), from what the launchers put in the environment
    (``RANK``/``LOCAL_RANK`` as Lightning reads them, and ``NODE_RANK``/``GROUP_RANK`` for the other nodes), so it
    can be told before the processes meet."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_only

    if getattr(rank_zero_only, "rank", 0) not in (0, None):
        return False
    return all(os.environ.get(var, "0").strip() in ("", "0") for var in ("RANK", "NODE_RANK", "GROUP_RANK"))


def _versions(root: Path) -> list[int]:
    found = []
    for entry in root.iterdir() if root.is_dir() else ():
        number = entry.name[len("version_"):]
        if entry.name.startswith("version_") and number.isdigit() and entry.is_dir():
            found.append(int(number))
    return found


def reserve_run_folder(root: str | Path) -> int:
    """N of a new folder ``root/version_N``, created here with one ``os.mkdir`` (atomic: of two processes asking at
    once, one gets N and the other N + 1). N is one more than the highest existing version, as Lightning counts.
    `ConfigError` in one line when ``root`` cannot hold it (a file in the way, read-only, full)."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        number = max(_versions(root), default=-1) + 1
        while True:
            try:
                os.mkdir(root / f"version_{number}")
                return number
            except FileExistsError:  # another run took it (or a file has that name): the next one
                number += 1
    except OSError as exc:
        raise ConfigError(f"cannot create a run folder in {root} ({exc.strerror or exc}): set "
                          "--trainer.default_root_dir to a folder you can write to") from None


def remove_unused_run_folder(logger: Any) -> Path | None:
    """Remove the folder this process reserved for ``logger`` (`reserve_run_folder`) if nothing of a run was
    written into it: only LightningCLI's ``config.yaml``, ``hparams.yaml`` and a ``metrics.csv`` without values (and
    empty folders). Returns the folder removed, or None. A folder it did not reserve is never touched."""
    folder = getattr(logger, RESERVED, None)  # Lightning's DummyLogger (fast_dev_run) answers any name with a method
    if not isinstance(folder, (str, os.PathLike)) or not Path(folder).is_dir():
        return None
    folder = Path(folder)
    try:
        for path in folder.rglob("*"):
            if path.is_dir() and not path.is_symlink():
                continue
            if path.parent != folder or path.name not in _BOOKKEEPING or path.is_symlink():
                return None
            if path.name == "metrics.csv" and len(path.read_text(encoding="utf-8", errors="replace").splitlines()) > 1:
                return None  # something was logged: keep it
        shutil.rmtree(folder)
    except OSError:
        return None
    return folder


def run_loggers(names: list[str], root: str | Path) -> list[Any]:
    """The loggers of ``names`` for one run under ``root``, all writing into the CSV logger's ``version_N``, which
    the first process reserves (`reserve_run_folder`)."""
    from lightning.pytorch.loggers import CSVLogger

    reserved = reserve_run_folder(root) if launched_as_global_zero() else None
    csv = CSVLogger(save_dir=str(root), name="", version=reserved)
    if reserved is not None:
        setattr(csv, RESERVED, Path(root) / f"version_{reserved}")
    loggers: list[Any] = [csv]
    folder = Path(csv.log_dir)  # root/version_N
    if "tensorboard" in names:
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(save_dir=str(root), name="", version=csv.version, sub_dir="tensorboard",
                                         default_hp_metric=False))
    if "wandb" in names:
        from lightning.pytorch.loggers import WandbLogger

        set_wandb_mode()
        folder.mkdir(parents=True, exist_ok=True)
        loggers.append(WandbLogger(save_dir=str(folder), project=os.environ.get("WANDB_PROJECT", "lightning-zoo"),
                                   name=f"{Path(root).name}/{folder.name}"))
    return loggers


def place_cli_loggers(trainer_config: Any, root: str | Path) -> None:
    """Give loggers named with ``--trainer.logger`` that would write into the current directory (W&B's default
    ``save_dir="."``) the run's folder ``root/version_N`` instead; switch W&B to offline without credentials.
    ``trainer_config`` is the parsed ``trainer`` section (before instantiation), changed in place."""
    configured = trainer_config.get("logger") if trainer_config is not None else None
    for logger in configured if isinstance(configured, list) else [configured]:
        class_path = str(_get(logger, "class_path") or "")
        if not class_path.endswith("WandbLogger"):
            continue
        set_wandb_mode()
        args = _get(logger, "init_args")
        if args is not None and _get(args, "save_dir") in (None, ".", "./") and not _get(args, "dir"):
            if launched_as_global_zero():
                version = reserve_run_folder(root)  # a folder of its own, as the CSV logger's
            else:
                from lightning.pytorch.loggers import CSVLogger

                version = CSVLogger(save_dir=str(root), name="").version
            args["save_dir"] = str(Path(root) / f"version_{version}")


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    getter = getattr(obj, "get", None)
    return getter(key) if callable(getter) else getattr(obj, key, None)


def set_wandb_mode() -> None:
    """``WANDB_MODE=offline`` unless it is set or wandb would find credentials (env, identity token, .netrc)."""
    if os.environ.get("WANDB_MODE") or os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return
    if not _netrc_has_wandb_key():
        os.environ["WANDB_MODE"] = "offline"


def _netrc_has_wandb_key() -> bool:
    """Whether the .netrc wandb reads (``$NETRC``, else ``~/.netrc``) holds a password for the W&B host."""
    path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    host = urlsplit(os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai").netloc
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return False
    return bool(entry and entry[2])
