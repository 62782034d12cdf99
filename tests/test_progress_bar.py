"""The CLI's progress report: on a terminal Lightning's tqdm bar, redrawn at most every `min_interval` seconds; into
a file or a pipe one plain line per epoch (`EpochLines`), without escape codes, Lightning's tips or its model
summary table."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelSummary
from torch.utils.data import DataLoader, IterableDataset

import zoo.cli.lightning_cli as zoo_cli
from tests.conftest import REPO
from zoo.cli import recipe_path, run_lightning_cli
from zoo.runtime.callbacks import EpochLines, ThrottledProgressBar


def test_redraws_are_throttled_but_the_last_batch_is_always_drawn():
    bar = ThrottledProgressBar(min_interval=3600)
    assert bar._should_update(1, 10)  # the first batch draws
    assert not any(bar._should_update(n, 10) for n in range(2, 10))  # then nothing for an hour...
    assert bar._should_update(10, 10)  # ...except the end of the loop
    eager = ThrottledProgressBar(min_interval=0)
    assert all(eager._should_update(n, 10) for n in range(1, 11))
    every_third = ThrottledProgressBar(refresh_rate=3, min_interval=0)  # Lightning's refresh_rate still applies
    assert [n for n in range(1, 11) if every_third._should_update(n, 10)] == [3, 6, 9, 10]


class Tiny(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class UnsizedBatches(IterableDataset):
    """Seven batches from an iterable without a length, so the bar cannot know the total."""

    def __iter__(self):
        return iter(torch.randn(7, 4, 2))


def test_the_bar_ends_each_epoch_at_the_true_batch_count(capsys):
    bar = ThrottledProgressBar(min_interval=3600)
    trainer = L.Trainer(max_epochs=2, callbacks=[bar], logger=False, enable_checkpointing=False,
                        enable_model_summary=False, accelerator="cpu")
    trainer.fit(Tiny(), DataLoader(UnsizedBatches(), batch_size=None))
    captured = capsys.readouterr()
    drawn = (captured.out + captured.err).replace("\r", "\n").splitlines()
    assert any(line.startswith("Epoch 1: |          | 7/?") for line in drawn)  # drawn again at the epoch's end
    assert not any(line.startswith("Epoch 1: |          | 4/?") for line in drawn)  # but not every batch


def test_the_cli_uses_it_on_a_terminal_unless_the_bar_is_off(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo_cli, "stdout_is_terminal", lambda: True)
    args = ["--config", str(recipe_path("linreg_synthetic")), f"--trainer.default_root_dir={tmp_path}"]
    cli = run_lightning_cli(args, run=False)
    assert isinstance(cli.trainer.progress_bar_callback, ThrottledProgressBar)
    assert _summarised(cli.trainer)  # a terminal keeps Lightning's table
    cli = run_lightning_cli([*args, "--trainer.enable_progress_bar=false"], run=False)
    assert cli.trainer.progress_bar_callback is None


def _summarised(trainer: L.Trainer) -> bool:
    return any(isinstance(cb, ModelSummary) for cb in trainer.callbacks)


def test_into_a_file_the_cli_prints_lines_and_no_summary_table(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo_cli, "stdout_is_terminal", lambda: False)
    args = ["--config", str(recipe_path("linreg_synthetic")), f"--trainer.default_root_dir={tmp_path}"]
    cli = run_lightning_cli(args, run=False)
    assert isinstance(cli.trainer.progress_bar_callback, EpochLines)
    assert not _summarised(cli.trainer)
    cli = run_lightning_cli([*args, "--trainer.enable_model_summary=true"], run=False)  # asked for: kept
    assert _summarised(cli.trainer)


def test_epoch_lines_print_one_plain_line_per_epoch(capsys):
    trainer = L.Trainer(max_epochs=3, callbacks=[EpochLines()], logger=False, enable_checkpointing=False,
                        enable_model_summary=False, accelerator="cpu")
    trainer.fit(Logged(), DataLoader(UnsizedBatches(), batch_size=None))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Logged: 3 parameters; one line per epoch follows"
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 3 and len(lines) == 4
    assert all(re.fullmatch(rf"epoch {n}/3: train/loss [0-9.e+-]+ \([0-9.]+ s\)", line)
               for n, line in enumerate(epochs, start=1)), epochs


class Logged(Tiny):
    def training_step(self, batch, batch_idx):
        loss = super().training_step(batch, batch_idx)
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        return loss


class Printing(Logged):
    def on_train_epoch_end(self) -> None:
        self.print(f"sample after epoch {self.current_epoch + 1}")  # as the language models print their samples


def test_a_model_that_prints_during_training_prints_after_each_epoch_line(capsys):
    trainer = L.Trainer(max_epochs=2, callbacks=[EpochLines()], logger=False, enable_checkpointing=False,
                        enable_model_summary=False, accelerator="cpu")
    trainer.fit(Printing(), DataLoader(UnsizedBatches(), batch_size=None))
    lines = capsys.readouterr().out.splitlines()[1:]
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "sample after epoch 1", "epoch 2/2",
                                                      "sample after epoch 2"], lines


def test_a_run_piped_to_a_file_has_no_escape_codes_and_one_line_per_epoch(tmp_path):
    """As a user runs it: ``python -m zoo recipe ... > log.txt``."""
    log = tmp_path / "log.txt"
    env = {**os.environ, "PYTHONPATH": str(REPO), "ZOO_OFFLINE": "1"}
    with open(log, "w", encoding="utf-8") as f:
        done = subprocess.run([sys.executable, "-m", "zoo", "recipe", "linreg_synthetic", "--trainer.max_epochs=4",
                               f"--trainer.default_root_dir={tmp_path / 'runs'}"], cwd=REPO, env=env, stdout=f,
                              stderr=subprocess.STDOUT, timeout=300)
    text = log.read_text(encoding="utf-8")
    assert done.returncode == 0, text
    assert "\x1b" not in text and "\r" not in text, text  # no escape codes, no carriage-return redraws
    assert "Tip:" not in text and "Total FLOPs" not in text and "litlogger" not in text, text
    epochs = [line for line in text.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epochs] == [f"epoch {n}/4" for n in range(1, 5)], text
    assert "LinearRegression: 3 parameters" in text and "run summary" in text and "wall time: " in text


def test_lightning_tips_are_filtered_but_other_rank_zero_messages_pass(caplog, tmp_path):
    zoo_cli._hide_lightning_tips()
    zoo_cli._hide_lightning_tips()  # once is enough: no second filter
    log = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    assert sum(isinstance(f, zoo_cli._NoTips) for f in log.filters) == 1
    from lightning.pytorch.utilities import rank_zero_info

    with caplog.at_level(logging.INFO, logger="lightning.pytorch.utilities.rank_zero"):
        rank_zero_info("💡 Tip: For seamless cloud logging, try installing litlogger")
        rank_zero_info(f"saved {tmp_path / 'interrupted.ckpt'}")
    assert [r.getMessage() for r in caplog.records] == [f"saved {tmp_path / 'interrupted.ckpt'}"]
