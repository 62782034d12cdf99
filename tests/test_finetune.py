"""Fine-tuning ResNet-18 (book 9.2): pretrained weights from a TORCH_HOME cache, from weights_path and through
torchvision's download with its hash check; the new head, its 10x learning rate, the frozen backbone; the offline
error; checkpoints that reload without the weights; and the resnet18_hotdog recipe from the command line."""

from __future__ import annotations

import hashlib

import lightning as L
import pytest
import torch
import yaml
from torch.utils.data import DataLoader
from torchvision.models import ResNet18_Weights, resnet18

from datamodules.cifar10 import CIFAR10DataModule
from tests import hotdog_fakes as fakes
from tests import vision_fakes
from zoo import ResNet18, load_task
from zoo.cli import main, recipes
from zoo.errors import ConfigError, WeightsUnavailableError

WEIGHTS_FILE = "resnet18-f37072fd.pth"  # the file name in ResNet18_Weights.IMAGENET1K_V1's URL


@pytest.fixture(scope="module")
def fake_state() -> dict[str, torch.Tensor]:
    return fakes.fake_resnet18_state(seed=0)


@pytest.fixture
def torch_home(tmp_path, monkeypatch, fake_state):
    """A TORCH_HOME whose hub cache holds the fake ImageNet weights under torchvision's file name."""
    path = fakes.install_fake_weights(tmp_path / "torch_home_cached", monkeypatch, fake_state)
    assert path.name == WEIGHTS_FILE and path.parent.name == "checkpoints"
    return tmp_path / "torch_home_cached"


def _model(**kwargs) -> ResNet18:
    """The model built, then its pretrained weights loaded by the named step (as zoo.create_model does)."""
    return _built(**kwargs).load_pretrained()


def _built(**kwargs) -> ResNet18:
    args = dict(variant="torchvision", num_classes=2, in_channels=3, image_size=64, classes=["hotdog", "not-hotdog"],
                optimizer="sgd", lr=0.01, weight_decay=0.001)
    return ResNet18(**{**args, **kwargs})


def test_the_constructor_reads_no_weights_and_opens_no_connection(tmp_path, monkeypatch):
    """Building with pretrained=True only records the wish: no file is read, no socket opened."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the constructor opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("ZOO_OFFLINE")
    model = _built(pretrained=True, weights_path=str(tmp_path / "not_there.pth"))
    assert "not loaded yet" in model.initial_weights
    with pytest.raises(WeightsUnavailableError, match="not_there.pth does not exist"):
        model.load_pretrained()


def _assert_backbone_is(model: ResNet18, state: dict[str, torch.Tensor]) -> None:
    backbone = model.net.features.state_dict()
    assert set(backbone) == {k for k in state if not k.startswith("fc.")}
    for key, value in backbone.items():
        assert torch.equal(value, state[key]), key


# ------------------------------------------------------------------ where the weights come from
@pytest.mark.parametrize("pretrained", [True, "IMAGENET1K_V1", "ResNet18_Weights.IMAGENET1K_V1", "DEFAULT"])
def test_pretrained_loads_exactly_the_cached_tensors_and_a_new_head(torch_home, fake_state, pretrained):
    torch.manual_seed(1)
    model = _model(pretrained=pretrained)
    _assert_backbone_is(model, fake_state)
    head = model.net.head
    assert isinstance(head, torch.nn.Linear) and (head.in_features, head.out_features) == (512, 2)
    assert fake_state["fc.weight"].shape == (1000, 512)  # the ImageNet head was dropped, not loaded
    path = torch_home / "hub" / "checkpoints" / WEIGHTS_FILE
    assert model.initial_weights == f"ResNet18_Weights.IMAGENET1K_V1 from {path}"
    assert model(torch.rand(2, 3, 64, 64)).shape == (2, 2)


def test_weights_path_loads_a_local_state_dict_without_any_cache(tmp_path, fake_state):
    path = tmp_path / "my_resnet18.pth"
    torch.save(fake_state, path)
    model = _model(weights_path=str(path))
    _assert_backbone_is(model, fake_state)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert model.initial_weights == f"{path} (sha256 {digest[:12]})"
    assert not (tmp_path / "torch_home").exists()  # conftest's TORCH_HOME was never touched
    named = _model(pretrained="IMAGENET1K_V1", weights_path=str(path))  # random weights are not ImageNet's
    assert named.initial_weights == f"{path} (sha256 {digest[:12]})"


def test_a_weights_path_file_is_named_as_the_imagenet_entry_only_when_its_digest_is_the_published_one(
        tmp_path, monkeypatch, fake_state):
    path = tmp_path / "copy.pth"
    torch.save(fake_state, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr(ResNet18_Weights.IMAGENET1K_V1.value, "url", f"https://example.org/resnet18-{digest[:8]}.pth")
    model = _model(pretrained=True, weights_path=str(path))
    assert model.initial_weights == (f"ResNet18_Weights.IMAGENET1K_V1 from {path} (sha256 {digest[:12]}, the "
                                     "published file)")


def test_a_bad_weights_path_says_what_is_wrong(tmp_path):
    with pytest.raises(WeightsUnavailableError, match="weights_path .*missing.pth does not exist"):
        _model(weights_path=str(tmp_path / "missing.pth"))
    (tmp_path / "junk.pth").write_bytes(b"not a state dict")
    with pytest.raises(WeightsUnavailableError, match="junk.pth is not a readable state dict"):
        _model(weights_path=str(tmp_path / "junk.pth"))
    torch.save({"conv1.weight": torch.zeros(3)}, tmp_path / "other.pth")
    message = "does not hold weights for TorchvisionResNet18 .a torchvision ResNet18_Weights state dict.: .*Missing key"
    with pytest.raises(WeightsUnavailableError, match=message):
        _model(weights_path=str(tmp_path / "other.pth"))


def test_offline_without_cached_weights_names_file_url_cache_path_and_weights_path(tmp_path):
    with pytest.raises(WeightsUnavailableError) as info:
        _model(pretrained=True)
    message = str(info.value)
    expected_path = tmp_path / "torch_home" / "hub" / "checkpoints" / WEIGHTS_FILE  # conftest's TORCH_HOME
    for part in (WEIGHTS_FILE, ResNet18_Weights.IMAGENET1K_V1.url, str(expected_path), "weights_path",
                 "TORCH_HOME", "pretrained false"):
        assert part in message, part
    assert not expected_path.exists()


def _serve_weights(monkeypatch, http_server, state, name_prefix: str | None = None) -> tuple[bytes, str]:
    """Serve ``state`` as resnet18-<sha256 prefix>.pth and point IMAGENET1K_V1's URL at it; returns (bytes, name)."""
    url, served = http_server
    tmp = served / "staging.pth"
    torch.save(state, tmp)
    data = tmp.read_bytes()
    name = f"resnet18-{name_prefix or hashlib.sha256(data).hexdigest()[:8]}.pth"
    tmp.rename(served / name)
    monkeypatch.setattr(ResNet18_Weights.IMAGENET1K_V1.value, "url", f"{url}/{name}")
    monkeypatch.delenv("ZOO_OFFLINE")  # allow the download (from 127.0.0.1 only)
    return data, name


def test_download_through_torchvisions_api_checks_the_hash_in_the_file_name(tmp_path, monkeypatch, http_server,
                                                                             fake_state):
    data, name = _serve_weights(monkeypatch, http_server, fake_state)
    model = _model(pretrained=True)
    cached = tmp_path / "torch_home" / "hub" / "checkpoints" / name
    assert cached.read_bytes() == data  # downloaded into TORCH_HOME's hub cache
    _assert_backbone_is(model, fake_state)


def test_a_download_failing_the_hash_check_is_refused_and_not_cached(tmp_path, monkeypatch, http_server, fake_state):
    _, name = _serve_weights(monkeypatch, http_server, fake_state, name_prefix="00000000")
    with pytest.raises(WeightsUnavailableError, match="failed torchvision's hash check"):
        _model(pretrained=True)
    assert not (tmp_path / "torch_home" / "hub" / "checkpoints" / name).exists()


def test_an_unreachable_server_gives_the_same_clear_error(monkeypatch):
    monkeypatch.delenv("ZOO_OFFLINE")
    monkeypatch.setattr(ResNet18_Weights.IMAGENET1K_V1.value, "url", "http://127.0.0.1:9/resnet18-f37072fd.pth")
    with pytest.raises(WeightsUnavailableError, match="(?s)cannot download the pretrained weights .*Two ways out"):
        _model(pretrained=True)


def test_a_corrupt_cached_file_says_delete_it(torch_home):
    (torch_home / "hub" / "checkpoints" / WEIGHTS_FILE).write_bytes(b"truncated")
    with pytest.raises(WeightsUnavailableError, match="(?s)is not a readable state dict.*delete it and run again"):
        _model(pretrained=True)


# ------------------------------------------------------------------ arguments that do not fit together
@pytest.mark.parametrize("kwargs,message", [
    (dict(variant="d2l", pretrained=True), "exist for torchvision's resnet18 layout only; set variant: torchvision"),
    (dict(variant="d2l", weights_path="w.pth"), "set variant: torchvision"),
    (dict(pretrained=True, in_channels=1), "take 3-channel images, got in_channels=1"),
    (dict(freeze_backbone=True), "freeze_backbone trains the head on top of pretrained features"),
    (dict(pretrained="IMAGENET9K"), "unknown ResNet18_Weights entry 'IMAGENET9K'; pretrained takes false, true or one"),
    (dict(head_lr_mult=0.0), "head_lr_mult must be > 0"),
    (dict(variant="keras"), "variant must be 'd2l' or 'torchvision'"),
])
def test_inconsistent_arguments_are_refused_clearly(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        _model(**kwargs)


def test_from_scratch_is_torchvisions_resnet18_with_num_classes():
    """Book E9.2b: models.resnet18(pretrained=False, num_classes=2); ours names fc 'head'."""
    ours = {k.replace("features.", "", 1).replace("head.", "fc."): v.shape
            for k, v in _model().net.state_dict().items()}
    assert ours == {k: v.shape for k, v in resnet18(num_classes=2).state_dict().items()}
    assert _model().initial_weights.startswith("random")
    grey = _model(in_channels=1)  # no weights: other channel counts work
    assert grey(torch.rand(2, 1, 64, 64)).shape == (2, 2)


# ------------------------------------------------------------------ optimisation: head learning rate, freezing
def test_the_head_gets_head_lr_mult_times_the_learning_rate(torch_home):
    model = _model(pretrained=True, head_lr_mult=10)
    groups = model.configure_optimizers().param_groups
    head = {id(p) for p in model.net.head.parameters()}
    for group in groups:
        in_head = {id(p) in head for p in group["params"]}
        assert len(in_head) == 1  # a group is all head or all backbone
        assert group["lr"] == pytest.approx(0.1 if in_head.pop() else 0.01)
    assert sorted(id(p) for g in groups for p in g["params"]) == sorted(id(p) for p in model.parameters())
    assert "head learning rate: 10 x 0.01 = 0.1" in model.fit_summary()


def _fit_steps(model: ResNet18, tmp_path, steps: int = 2) -> None:
    x, y = torch.rand(8, 3, 64, 64), torch.tensor([0, 1] * 4)
    loader = DataLoader(list(zip(x, y)), batch_size=4)
    modes = []

    class Modes(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            modes.append((pl_module.net.features.training, any(m.training for m in pl_module.net.features.modules()),
                          pl_module.net.head.training))

    trainer = L.Trainer(max_steps=steps, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, default_root_dir=tmp_path,
                        callbacks=[Modes()])
    trainer.fit(model, loader)
    return modes


@pytest.mark.parametrize("source", ["cache", "weights_path"])
def test_freeze_backbone_trains_the_head_alone(tmp_path, torch_home, fake_state, source):
    """A frozen backbone keeps every tensor, BatchNorm running statistics included (its BN layers stay in eval mode);
    the head learns. Without freezing the same steps change both (so the test can fail)."""
    weights = dict(pretrained=True) if source == "cache" else dict(weights_path=str(torch_home / "hub" /
                                                                                   "checkpoints" / WEIGHTS_FILE))
    frozen = _model(**weights, freeze_backbone=True, lr=0.5)
    head_before = {k: v.clone() for k, v in frozen.net.head.state_dict().items()}
    modes = _fit_steps(frozen, tmp_path)
    _assert_backbone_is(frozen, fake_state)
    assert not torch.equal(frozen.net.head.weight, head_before["weight"])
    assert modes == [(False, False, True)] * 2  # backbone (every submodule) in eval mode, head training
    assert not any(p.requires_grad for p in frozen.net.features.parameters())
    optimized = {id(p) for g in frozen.configure_optimizers().param_groups for p in g["params"]}
    assert optimized == {id(p) for p in frozen.net.head.parameters()}
    assert "backbone frozen" in frozen.fit_summary()
    frozen.train()
    assert not frozen.net.features.training and frozen.net.head.training  # also for hand-written loops

    free = _model(**weights, lr=0.5)
    _fit_steps(free, tmp_path)
    state = free.net.features.state_dict()
    assert not torch.equal(state["conv1.weight"], fake_state["conv1.weight"])
    assert not torch.equal(state["bn1.running_mean"], fake_state["bn1.running_mean"])


# ------------------------------------------------------------------ checkpoints
def test_a_fine_tuned_checkpoint_reloads_without_the_imagenet_weights(tmp_path, monkeypatch, torch_home):
    model = _model(pretrained=True, head_lr_mult=10)
    trainer = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(model, DataLoader([(torch.rand(3, 64, 64), torch.tensor(1))] * 4, batch_size=4))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_torch_home"))  # the ImageNet file is gone
    restored = load_task(trainer.checkpoint_callback.best_model_path)
    assert type(restored) is ResNet18 and restored.hparams.pretrained is True
    for (k1, v1), (k2, v2) in zip(model.state_dict().items(), restored.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2), k1
    assert restored.initial_weights == "the checkpoint's (trained from pretrained weights)"
    with pytest.raises(WeightsUnavailableError):  # outside a checkpoint restore the weights are needed again
        _model(pretrained=True)


# ------------------------------------------------------------------ the recipe from the command line
def _hotdog_mirror(tmp_path, monkeypatch) -> None:
    mirror = tmp_path / "mirror"
    data = fakes.write_hotdog_zip(mirror / "hotdog.zip", fakes.hotdog_images(n_train=2, n_test=1))
    fakes.accept_hotdog(monkeypatch, data)
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))


def test_make_recipe_resnet18_hotdog_pretrained_with_a_fake_cache_and_mirror(tmp_path, monkeypatch, capsys, torch_home):
    """What must hold 1: `make recipe NAME=resnet18_hotdog ARGS="--model.init_args.pretrained true
    --trainer.fast_dev_run true"` runs against the mirror and reports the loaded weights."""
    _hotdog_mirror(tmp_path, monkeypatch)
    with pytest.raises(SystemExit) as done:
        main(["recipe", "resnet18_hotdog", "--model.init_args.pretrained", "true", "--trainer.fast_dev_run", "true",
              f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    weights = torch_home / "hub" / "checkpoints" / WEIGHTS_FILE
    assert "run summary" in out and "test/acc" in out and "train/acc" in out
    assert f"initial weights: ResNet18_Weights.IMAGENET1K_V1 from {weights}" in out
    assert "head learning rate: 10 x 0.01 = 0.1" in out
    assert (tmp_path / "cache" / "hotdog" / "test" / "not-hotdog" / "0.jpg").is_file()


def test_make_recipe_resnet18_hotdog_without_the_cache_fails_with_the_clear_error(tmp_path, monkeypatch, capsys):
    _hotdog_mirror(tmp_path, monkeypatch)
    with pytest.raises(SystemExit) as done:  # the short flag form works as well
        main(["recipe", "resnet18_hotdog", "--model.pretrained", "true", "--trainer.fast_dev_run", "true",
              f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the pretrained weights ResNet18_Weights.IMAGENET1K_V1 are not in torch's cache")
    assert str(tmp_path / "torch_home" / "hub" / "checkpoints" / WEIGHTS_FILE) in err and "weights_path" in err
    assert "Traceback" not in err


def test_the_recipes_carry_the_books_e92_settings():
    configs = {name: yaml.safe_load(recipes()[name].read_text(encoding="utf-8"))
               for name in ("resnet18_hotdog", "resnet18_hotdog_scratch")}
    tuned, scratch = configs["resnet18_hotdog"], configs["resnet18_hotdog_scratch"]
    assert tuned["model"]["init_args"] == {"variant": "torchvision", "pretrained": True, "head_lr_mult": 10,
                                           "optimizer": "sgd", "lr": 0.01, "weight_decay": 0.001}  # E9.2a
    assert scratch["model"]["init_args"] == {"variant": "torchvision", "pretrained": False, "optimizer": "sgd",
                                             "lr": 0.1, "weight_decay": 0.001}  # E9.2b
    for config in configs.values():
        assert config["data"]["init_args"]["batch_size"] == 128 and config["trainer"]["max_epochs"] == 5
        assert config["data"]["class_path"] == "datamodules.HotdogDataModule"
    assert tuned["data"]["init_args"]["weights"] == "IMAGENET1K_V1"  # preprocessing of the weights it loads


def test_fit_warns_when_the_data_is_not_normalised_as_the_weights_expect(tmp_path, monkeypatch, torch_home):
    vision_fakes.install_cifar10(tmp_path / "data", monkeypatch)
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "data"), batch_size=4)  # no normalisation
    model = _model(pretrained=True, image_size=32, num_classes=10, classes=dm.classes)
    trainer = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, limit_val_batches=0,
                        default_root_dir=tmp_path)
    with pytest.warns(UserWarning, match=r"expects images normalised with mean \[0.485, 0.456, 0.406\].*mean None"):
        trainer.fit(model, dm)
    assert model.hparams.preprocess == dm.preprocess
