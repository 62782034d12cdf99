"""Every recipe writes ``last.ckpt`` (the file the commands' examples and the docs name): its ModelCheckpoint keeps
the last weights, the wall-time saver of ``--checkpoint_minutes`` writes the same file, and
``--trainer.enable_checkpointing false`` still switches checkpoints off."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from zoo.cli import recipes, run_lightning_cli

RECIPES = recipes()
CHECKPOINT = "lightning.pytorch.callbacks.ModelCheckpoint"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_keeps_last_ckpt(name):
    config = yaml.safe_load(RECIPES[name].read_text(encoding="utf-8"))
    callbacks = config["trainer"].get("callbacks") or []
    checkpoints = [cb for cb in callbacks if cb.get("class_path") == CHECKPOINT]
    assert len(checkpoints) == 1, f"{name}: one {CHECKPOINT} with save_last: true (Lightning's default has none)"
    assert checkpoints[0].get("init_args", {}).get("save_last") is True, f"{name}: save_last: true"


def test_the_wall_time_saver_and_the_epoch_end_checkpoint_write_one_last_ckpt(tmp_path):
    """``--checkpoint_minutes`` writes last.ckpt mid-epoch; the recipe's ModelCheckpoint then overwrites that same
    file at the epoch's end (no last-v1.ckpt), so after the run it holds the final weights."""
    cli = run_lightning_cli(["--config", str(RECIPES["linreg_synthetic"]), f"--trainer.default_root_dir={tmp_path}",
                             "--trainer.enable_progress_bar=false", "--checkpoint_minutes=0.000001"], run=False)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)  # a wall-time checkpoint at (nearly) every batch end
    trainer = cli.trainer
    folder = Path(trainer.checkpoint_callback.dirpath)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["epoch=2-step=300.ckpt", "last.ckpt"], names
    assert trainer.checkpoint_callback.last_model_path == str(folder / "last.ckpt")
    saved = torch.load(folder / "last.ckpt", map_location="cpu", weights_only=True)
    assert saved["global_step"] == trainer.global_step == 300 and saved["epoch"] == 2
    for key, value in cli.model.state_dict().items():
        torch.testing.assert_close(saved["state_dict"][key], value)


def test_enable_checkpointing_false_switches_the_recipes_checkpoint_off(tmp_path):
    cli = run_lightning_cli(["--config", str(RECIPES["linreg_synthetic"]), f"--trainer.default_root_dir={tmp_path}",
                             "--trainer.enable_checkpointing=false"], run=False)
    assert cli.trainer.checkpoint_callback is None
