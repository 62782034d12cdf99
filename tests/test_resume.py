"""Resume that reproduces: a run stopped by Ctrl-C or killed by SIGKILL in the middle of an epoch, then
resumed from its checkpoint, ends at exactly the uninterrupted run's numbers (CPU, same seed), for consecutive
(gru_lyrics) and random (rnn_scratch_random_lyrics) sampling; epoch-end resume for a classifier and a regression;
Ctrl-C prints the summary and exits 130; a non-finite loss stops the run with a message, or continues on request.

Interrupted runs are subprocesses (signals as a user sends them); the others run in this process, which is faster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO
from tests.fakes import write_lyrics_zip
from zoo.cli import recipes, run_lightning_cli
from zoo.runtime.run_control import RunStopped

QUIET = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]
# small versions of the chapter 6 recipes: 6,000 characters give 5 batches an epoch, 3 epochs 15 steps
LYRICS = ["--data.init_args.num_chars=6000", "--data.init_args.val_chars=0", "--model.init_args.pred_period=0",
          "--trainer.max_epochs=3", *QUIET]


@pytest.fixture
def lyrics_env(tmp_path, monkeypatch) -> dict[str, str]:
    """Fake lyrics in the cache, accepted without their checksum (subprocesses cannot be monkeypatched)."""
    cache = Path(os.environ["ZOO_DATA_DIR"])
    write_lyrics_zip(cache / "jaychou_lyrics.txt.zip")
    monkeypatch.setenv("ZOO_VERIFY_CHECKSUMS", "0")
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}


def fit(recipe: str, root: Path, *args: str):
    """Fit ``recipe`` in this process; returns the final training metrics."""
    cli = run_lightning_cli(["fit", "--config", str(recipes()[recipe]), f"--trainer.default_root_dir={root}",
                             *args])
    return {k: float(v) for k, v in cli.trainer.callback_metrics.items() if k.startswith("train/")}


def fit_subprocess(recipe: str, root: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zoo", "recipe", recipe, f"--trainer.default_root_dir={root}", *args],
                          cwd=root.parent, env=env, capture_output=True, text=True, timeout=240)


def checkpoint(root: Path, name: str) -> Path:
    found = sorted(root.rglob(name))
    assert found, f"no {name} under {root}: {sorted(p.name for p in root.rglob('*'))}"
    return found[-1]


@pytest.mark.parametrize("recipe", ["gru_lyrics", "rnn_scratch_random_lyrics"])
def test_ctrl_c_and_sigkill_mid_epoch_then_resume_end_where_the_uninterrupted_run_ends(recipe, tmp_path, lyrics_env):
    straight = fit(recipe, tmp_path / "straight", *LYRICS)

    # Ctrl-C at step 7 (epoch 1, batch 2 of 5): stops after that batch, saves interrupted.ckpt, summary, exit 130
    out = fit_subprocess(recipe, tmp_path / "sigint", lyrics_env, *LYRICS,
                         "--trainer.callbacks+=tests.run_probes.SignalAt", "--trainer.callbacks.step=7",
                         f"--trainer.callbacks.signum={int(signal.SIGINT)}")
    assert out.returncode == 130, out.stderr[-3000:]
    assert "run interrupted" in out.stdout and "Traceback" not in out.stderr
    resumed = fit(recipe, tmp_path / "sigint", *LYRICS,
                  f"--ckpt_path={checkpoint(tmp_path / 'sigint', 'interrupted.ckpt')}")
    assert resumed == straight

    # kill -9 at step 8: last.ckpt, written by wall time after every batch here, is whole and resumes exactly
    out = fit_subprocess(recipe, tmp_path / "sigkill", lyrics_env, *LYRICS, "--checkpoint_minutes=1e-9",
                         "--trainer.callbacks+=tests.run_probes.SignalAt", "--trainer.callbacks.step=8",
                         f"--trainer.callbacks.signum={int(signal.SIGKILL)}")
    assert out.returncode == -signal.SIGKILL, out.stderr[-3000:]
    last = checkpoint(tmp_path / "sigkill", "last.ckpt")
    assert torch.load(last, weights_only=True, map_location="cpu")["global_step"] == 8
    assert not list((tmp_path / "sigkill").rglob("*.tmp"))
    resumed = fit(recipe, tmp_path / "sigkill", *LYRICS, f"--ckpt_path={last}")
    assert resumed == straight


@pytest.mark.parametrize(("recipe", "args"), [
    ("lenet_fashion_mnist", ["--data.init_args.batch_size=4", "--trainer.limit_val_batches=0"]),
    ("linreg_adam_torch_airfoil", []),
    ("skipgram_ptb", ["--data.init_args.batch_size=16", "--data.init_args.min_count=1"]),
    ("textcnn_imdb", ["--data.init_args.batch_size=4", "--data.init_args.min_freq=1"]),
    ("seq2seq_fr_en", ["--data.init_args.batch_size=2"]),
])
def test_epoch_end_resume_is_exact_for_shuffled_map_style_data(recipe, args, tmp_path, monkeypatch):
    """The shuffled order of the next epoch comes from the global generator, restored from the checkpoint."""
    from tests.fakes import install

    data_module = {"lenet_fashion_mnist": "FashionMNISTDataModule", "linreg_adam_torch_airfoil": "AirfoilDataModule",
                   "skipgram_ptb": "PTBDataModule", "textcnn_imdb": "IMDbDataModule",
                   "seq2seq_fr_en": "FraEngDataModule"}
    install(data_module[recipe], Path(os.environ["ZOO_DATA_DIR"]), monkeypatch)
    common = [*QUIET, *args]
    if "ModelCheckpoint" not in recipes()[recipe].read_text(encoding="utf-8"):  # else the recipe's saves last.ckpt
        common += ["--trainer.callbacks+=lightning.pytorch.callbacks.ModelCheckpoint",
                   "--trainer.callbacks.save_last=true", "--trainer.callbacks.every_n_epochs=1"]
    straight = fit(recipe, tmp_path / "straight", *common, "--trainer.max_epochs=3")
    fit(recipe, tmp_path / "part", *common, "--trainer.max_epochs=2")
    resumed = fit(recipe, tmp_path / "part", *common, "--trainer.max_epochs=3",
                  f"--ckpt_path={checkpoint(tmp_path / 'part', 'last.ckpt')}")
    assert resumed == straight and straight


def test_a_nonfinite_loss_stops_before_the_update_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    from tests.fakes import install
    from zoo.cli.main import main

    install("AirfoilDataModule", Path(os.environ["ZOO_DATA_DIR"]), monkeypatch)
    args = ["recipe", "linreg_adam_torch_airfoil", f"--trainer.default_root_dir={tmp_path}", *QUIET,
            "--model.init_args.lr=1e30", "--trainer.max_epochs=2"]
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "error: the training loss became" in err and "epoch 0, step" in err and "lr=1e+30" in err
    assert not list(tmp_path.rglob("*.ckpt"))  # nothing written with broken weights
    assert not list(tmp_path.glob("version_*"))  # and no folder holding only the config

    fit("linreg_adam_torch_airfoil", tmp_path / "go_on", *QUIET, "--model.init_args.lr=1e30",
        "--trainer.max_epochs=1", "--on_nonfinite=continue")  # warns, ends normally


def test_run_stopped_carries_the_shell_exit_status():
    assert RunStopped(signal.SIGINT).status == 130 and RunStopped(signal.SIGTERM).status == 143
