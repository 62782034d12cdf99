"""Every registered architecture: one training step on a small batch, a finite loss, a gradient on every parameter,
a checkpoint that reloads without the recipe."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

import zoo
from tests.examples import EXAMPLES
from zoo.models import load_task


def test_every_architecture_has_an_example():
    assert sorted(EXAMPLES) == sorted(zoo.ARCHITECTURES)


@pytest.mark.parametrize("name", sorted(zoo.ARCHITECTURES))
def test_training_step_and_gradients(name, tmp_path):
    torch.manual_seed(0)
    model, batch = EXAMPLES[name]()
    assert isinstance(model, L.LightningModule)
    losses = []

    class Record(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            losses.append(outputs["loss"].detach())

    trainer = L.Trainer(max_steps=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        accelerator="cpu", default_root_dir=tmp_path, callbacks=[Record()])
    trainer.fit(model, DataLoader([batch], batch_size=None))
    assert len(losses) == 1 and torch.isfinite(losses[0])
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"no gradient for {missing}"
    restored = load_task(trainer.checkpoint_callback.best_model_path)
    assert type(restored) is type(model)
    for (n1, p1), (n2, p2) in zip(model.state_dict().items(), restored.state_dict().items()):
        assert n1 == n2 and torch.equal(p1, p2), n1


@pytest.mark.parametrize("name", sorted(zoo.ARCHITECTURES))
def test_exported_from_zoo(name):
    assert getattr(zoo, name).__name__ == name
    assert name in dir(zoo)
