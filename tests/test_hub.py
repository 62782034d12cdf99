"""hubconf.py: ``torch.hub.load(<checkout>, name, source="local")`` offline, for architectures and checkpoints."""

from __future__ import annotations

import pytest
import torch

import zoo
from tests.conftest import REPO
from tests.examples import EXAMPLES, save_checkpoint
from tests.hotdog_fakes import fake_resnet18_state, install_fake_weights
from zoo.errors import ConfigError, WeightsUnavailableError


def hub(name: str, *args, **kwargs):
    return torch.hub.load(str(REPO), name, *args, source="local", trust_repo=True, **kwargs)


def test_resnet18_untrained_offline_is_torchvisions_layout():
    """One name, one network: ``resnet18`` takes what torchvision's does, pretrained or not."""
    model = hub("resnet18", num_classes=2)
    assert type(model) is zoo.ResNet18
    assert model.hparams.num_classes == 2 and model.hparams.variant == "torchvision"
    assert model.initial_weights == "random"
    assert model(torch.rand(1, 3, 224, 224)).shape == (1, 2)
    book = hub("resnet18", num_classes=2, variant="d2l", in_channels=1, image_size=96)
    assert book(torch.rand(3, 1, 96, 96)).shape == (3, 2)


def test_every_architecture_is_an_entry_by_its_lower_case_name():
    import importlib.util

    spec = importlib.util.spec_from_file_location("zoo_hubconf", REPO / "hubconf.py")
    hubconf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hubconf)
    entries = {n for n in dir(hubconf) if not n.startswith("_") and callable(getattr(hubconf, n))}
    assert entries == set(zoo.list_models()) | {"from_checkpoint"}
    for module in ("torch", "torchvision", "lightning", "torchmetrics"):
        assert module in hubconf.dependencies
    model = hub("gru", vocab=list("abc"), hidden_size=4)
    assert type(model) is zoo.GRULanguageModel and model.hparams.hidden_size == 4


def test_pretrained_resnet18_goes_through_the_zoos_weights_lookup(tmp_path, monkeypatch):
    with pytest.raises(WeightsUnavailableError, match="resnet18-f37072fd.pth"):  # offline, nothing cached
        hub("resnet18", num_classes=2, pretrained=True)
    state = fake_resnet18_state(seed=3)
    install_fake_weights(tmp_path / "torch_home", monkeypatch, state)
    model = hub("resnet18", num_classes=2, pretrained=True)
    assert model.hparams.variant == "torchvision" and model.hparams.in_channels == 3
    assert "IMAGENET1K_V1" in model.initial_weights
    torch.testing.assert_close(model.net.features.state_dict()["conv1.weight"], state["conv1.weight"])
    assert model(torch.rand(2, 3, 64, 64)).shape == (2, 2)


def test_pretrained_is_refused_where_there_are_no_weights():
    with pytest.raises(ConfigError, match="LeNet.*no published pretrained weights"):
        hub("lenet", pretrained=True)
    with pytest.raises(ConfigError, match="gru has no pretrained weights"):
        hub("gru", vocab=list("abc"), pretrained=True)


def test_from_checkpoint(tmp_path):
    model, batch = EXAMPLES["LeNet"]()
    save_checkpoint(model, tmp_path / "lenet.ckpt", batch)
    loaded = hub("from_checkpoint", str(tmp_path / "lenet.ckpt"))
    assert type(loaded) is zoo.LeNet and loaded.hparams.classes == model.hparams.classes
    images = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(loaded.eval()(images), model.eval()(images))
    with pytest.raises(ConfigError, match="does not exist"):
        hub("from_checkpoint", str(tmp_path / "missing.ckpt"))
