"""The ``compile`` option of the task bases (`ZooTask.configure_model`): torch.compile changes the speed, not the
numbers nor the checkpoint.

A tiny LeNet (book 5.5) on random 28x28 images trains three steps with ``compile`` off and on from the same seed: the
losses of every step (the later ones after the optimizer's updates) agree to 1e-5 and the checkpoints hold the same
keys. Compiling LeNet's training step on the CPU took 47 CPU seconds (264 s of wall time on a busy 2-core machine),
so that test is marked slow; the others check the flag itself (off by default, settable from the CLI) in a second.
"""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from zoo import GRULanguageModel, LeNet
from zoo.cli import recipe_path, run_lightning_cli


class _Losses(L.Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(float(outputs["loss"]))


def _train(compile: bool, tmp_path) -> tuple[list[float], set[str], LeNet]:
    L.seed_everything(0, verbose=False)
    model = LeNet(num_classes=10, in_channels=1, image_size=28, compile=compile)
    data = TensorDataset(torch.rand(24, 1, 28, 28), torch.randint(0, 10, (24,)))
    losses = _Losses()
    trainer = L.Trainer(max_steps=3, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, callbacks=[losses],
                        default_root_dir=tmp_path)
    trainer.fit(model, DataLoader(data, batch_size=8))
    path = tmp_path / f"compile_{compile}.ckpt"
    trainer.save_checkpoint(path)
    keys = set(torch.load(path, weights_only=False)["state_dict"])
    return losses.losses, keys, model


@pytest.mark.slow
def test_compiled_training_gives_the_same_losses_and_checkpoint_keys(tmp_path):
    eager_losses, eager_keys, eager = _train(False, tmp_path)
    compiled_losses, compiled_keys, compiled = _train(True, tmp_path)
    assert getattr(eager.net, "_compiled_call_impl", None) is None
    assert compiled.net._compiled_call_impl is not None  # the option did compile the network
    assert len(eager_losses) == len(compiled_losses) == 3
    torch.testing.assert_close(torch.tensor(compiled_losses), torch.tensor(eager_losses), rtol=0, atol=1e-5)
    assert compiled_keys == eager_keys and any(k.startswith("net.features.") for k in eager_keys)
    assert not any("_orig_mod" in k for k in compiled_keys)
    # the compiled model's checkpoint loads into an eager model: the same tensors under the same names
    reloaded = LeNet.load_from_checkpoint(tmp_path / "compile_True.ckpt")
    assert reloaded.hparams.compile is True
    for (name, a), (_, b) in zip(compiled.state_dict().items(), reloaded.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


def test_compile_is_off_by_default_and_settable_from_the_cli(tmp_path):
    assert LeNet().hparams.compile is False
    assert GRULanguageModel(vocab=list("abc")).hparams.compile is False
    cli = run_lightning_cli(["--config", str(recipe_path("lenet_fashion_mnist")), "--model.init_args.compile", "true",
                             f"--data.init_args.data_dir={tmp_path}"], run=False)
    assert cli.model.hparams.compile is True


@pytest.mark.parametrize("compile", [False, True])
def test_compile_flag_is_a_hyperparameter_of_the_language_models(compile):
    model = GRULanguageModel(vocab=list("abcd"), hidden_size=4, compile=compile)
    assert model.hparams.compile is compile
    model.configure_model()
    assert (getattr(model.net, "_compiled_call_impl", None) is not None) is compile


def test_a_compiled_language_model_generates_eagerly(monkeypatch):
    """Generation feeds one length after another; it must not go through the compiled network (a compile each)."""
    torch.manual_seed(0)
    model = GRULanguageModel(vocab=list("abcd"), hidden_size=4, compile=True)
    eager_text = model.generate("ab", 5)
    model.configure_model()

    def refuse(*args, **kwargs):
        raise AssertionError("generate called the compiled network")

    monkeypatch.setattr(model.net, "_compiled_call_impl", refuse)
    assert model.generate("ab", 5) == eager_text
