"""Loggers by flag (zoo/runtime/loggers.py): CSV by default, TensorBoard and W&B by ``--logger`` or by LightningCLI's
``--trainer.logger``, each tried on a tiny run started in an empty directory: every file lands in the run's folder
under runs/, nothing else is written to the current directory, the summary names that folder, and W&B runs offline
without credentials (its server address points at a closed port, so any network use would fail the run)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from zoo.cli import main
from zoo.errors import ConfigError
from zoo.runtime.loggers import parse_logger_names, set_wandb_mode

RUN = Path("runs/linreg_synthetic/version_0")
TINY = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=3", "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false"]


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty current directory; HOME elsewhere (wandb keeps settings there), no W&B credentials, and W&B's server
    address at a closed local port."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "NETRC", "WANDB_DIR", "WANDB_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "home" / "wandb-cache"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "home" / "wandb-config"))
    yield work
    import wandb

    if wandb.run is not None:  # the next W&B logger would reuse an active run
        wandb.finish()


def fit(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(["recipe", "linreg_synthetic", *TINY, *args])
    captured = capsys.readouterr()
    assert info.value.code == 0, captured.err[-2000:]
    return captured.out


def only_runs_in(work: Path) -> None:
    assert sorted(p.name for p in work.iterdir()) == ["runs"], "files written outside runs/"


def summary_folder(out: str) -> str:
    return re.search(r"^logs: (.+)$", out, re.M).group(1)


def checkpoints(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.ckpt"))


def test_csv_by_default(workdir, capsys):
    out = fit(capsys)
    only_runs_in(workdir)
    assert summary_folder(out) == str(RUN)
    assert {"metrics.csv", "config.yaml", "hparams.yaml", "checkpoints"} <= {p.name for p in RUN.iterdir()}
    assert checkpoints(RUN) and all(p.is_relative_to(RUN / "checkpoints") for p in checkpoints(RUN))
    assert "train/loss" in (RUN / "metrics.csv").read_text()


def test_tensorboard_by_the_zoo_flag(workdir, capsys):
    out = fit(capsys, "--logger", "tensorboard")
    only_runs_in(workdir)
    assert summary_folder(out) == str(RUN)
    events = list((RUN / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1 and b"train/loss" in events[0].read_bytes()
    assert (RUN / "metrics.csv").is_file() and (RUN / "config.yaml").is_file() and checkpoints(RUN / "checkpoints")


def test_wandb_by_the_zoo_flag_runs_offline(workdir, capsys):
    out = fit(capsys, "--logger", "wandb")
    only_runs_in(workdir)
    assert os.environ["WANDB_MODE"] == "offline"
    assert summary_folder(out) == str(RUN)
    runs = list((RUN / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("run-*.wandb"))
    assert (RUN / "metrics.csv").is_file() and (RUN / "config.yaml").is_file() and checkpoints(RUN / "checkpoints")


def test_tensorboard_and_wandb_together(workdir, capsys):
    fit(capsys, "--logger", "tensorboard,wandb")
    only_runs_in(workdir)
    assert list((RUN / "tensorboard").glob("events.out.tfevents.*")) and list((RUN / "wandb").glob("offline-run-*"))


def test_wandb_by_lightning_cli_lands_in_the_run_folder(workdir, capsys):
    """The README's former command wrote config.yaml into the current directory, checkpoints under
    ./lightning-zoo/ and printed ``logs: .``."""
    out = fit(capsys, "--trainer.logger", "lightning.pytorch.loggers.WandbLogger", "--trainer.logger.project",
              "lightning-zoo")
    only_runs_in(workdir)
    assert summary_folder(out) == str(RUN)
    assert (RUN / "config.yaml").is_file() and list((RUN / "wandb").glob("offline-run-*"))
    found = checkpoints(RUN)
    assert found and all(p.is_relative_to(RUN / "lightning-zoo") for p in found)  # Lightning's W&B layout


def test_tensorboard_by_lightning_cli(workdir, capsys):
    out = fit(capsys, "--trainer.logger", "TensorBoardLogger", "--trainer.logger.save_dir", "runs/tb")
    only_runs_in(workdir)
    folder = Path("runs/tb/lightning_logs/version_0")
    assert summary_folder(out) == str(folder)
    assert list(folder.glob("events.out.tfevents.*")) and (folder / "config.yaml").is_file() and checkpoints(folder)


def test_bad_logger_flags_are_one_line_errors(workdir, capsys):
    for args, message in ((["--logger", "mlflow"], "unknown logger 'mlflow' for --logger; choose from csv"),
                          (["--logger", "wandb", "--trainer.logger", "false"], "--logger wandb and --trainer.logger")):
        with pytest.raises(SystemExit) as info:
            main(["recipe", "linreg_synthetic", *TINY, *args])
        last = capsys.readouterr().err.strip().splitlines()[-1]  # (a stale logging handler may complain above)
        assert info.value.code == 1 and last.startswith("error: ") and message in last


def test_parse_logger_names():
    assert parse_logger_names("csv") == ["csv"]
    assert parse_logger_names("wandb, tensorboard,wandb") == ["csv", "wandb", "tensorboard"]
    with pytest.raises(ConfigError):
        parse_logger_names("tensorbord")


@pytest.mark.parametrize(("env", "netrc", "expected"), [
    ({}, None, "offline"),
    ({"WANDB_API_KEY": "x" * 40}, None, None),
    ({"WANDB_MODE": "online"}, None, "online"),
    ({}, "machine api.wandb.ai login user password " + "k" * 40, None),
    ({}, "machine example.com login user password secret", "offline"),
])
def test_wandb_is_offline_unless_credentials_exist(env, netrc, expected, tmp_path, monkeypatch):
    for name in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    if netrc:
        (tmp_path / "netrc").write_text(netrc + "\n")
        (tmp_path / "netrc").chmod(0o600)
    set_wandb_mode()
    assert os.environ.get("WANDB_MODE") == expected
