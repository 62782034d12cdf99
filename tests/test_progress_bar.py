"""The CLI's default progress bar: Lightning's tqdm bar, redrawn at most every `min_interval` seconds."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, IterableDataset

from zoo.cli import recipe_path, run_lightning_cli
from zoo.runtime.callbacks import ThrottledProgressBar


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


def test_the_cli_uses_it_unless_the_bar_is_off(tmp_path):
    args = ["--config", str(recipe_path("linreg_synthetic")), f"--trainer.default_root_dir={tmp_path}"]
    cli = run_lightning_cli(args, run=False)
    assert isinstance(cli.trainer.progress_bar_callback, ThrottledProgressBar)
    cli = run_lightning_cli([*args, "--trainer.enable_progress_bar=false"], run=False)
    assert cli.trainer.progress_bar_callback is None
