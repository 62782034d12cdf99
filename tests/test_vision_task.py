"""The image-classification task and the vision recipes: every recipe's model at its own input size, metrics and
the evaluated split, the optimizer translation of the book's d2l.sgd, weight decay groups, prediction, checkpoints
and the command line against a mirror of IDX files."""

from __future__ import annotations

import copy
import csv

import lightning as L
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml

import zoo
from datamodules.cifar10 import CIFAR10DataModule
from datamodules.fashion_mnist import FashionMNISTDataModule
from tests import vision_fakes as fakes
from zoo import MLP, LeNet, LeNetBN, SoftmaxRegression
from zoo.cli import main, recipes, run_lightning_cli
from zoo.errors import ConfigError
from zoo.models import load_task

DATA = {"FashionMNISTDataModule": FashionMNISTDataModule, "CIFAR10DataModule": CIFAR10DataModule}
#: The recipes of book chapters 3 and 5, 9.1 (with and without augmentation) and the RNN tutorial. The 9.2 hotdog
#: recipes are tested in test_finetune.py.
VISION_RECIPES = {f"{m}_fashion_mnist" for m in (
    "softmax_scratch", "softmax", "mlp_scratch", "mlp", "mlp_dropout_scratch", "mlp_dropout", "lenet", "alexnet",
    "vgg11", "nin", "googlenet", "lenet_bn_scratch", "lenet_bn", "resnet18", "densenet", "rnn_rows", "lstm_rows")}
VISION_RECIPES |= {"resnet18_cifar10", "resnet18_cifar10_augment"}
CONFIGS = {name: yaml.safe_load(path.read_text(encoding="utf-8")) for name, path in recipes().items()
           if name in VISION_RECIPES}


def _model_from_recipe(config: dict):
    """The recipe's model, sized as the CLI links it from the recipe's datamodule."""
    data_cls = DATA[config["data"]["class_path"].rsplit(".", 1)[-1]]
    data = data_cls(**config["data"].get("init_args", {}))
    model_cls = getattr(zoo, config["model"]["class_path"].rsplit(".", 1)[-1])
    model = model_cls(**config["model"]["init_args"], num_classes=data.num_classes, in_channels=data.in_channels,
                      image_size=data.image_size, classes=data.classes)
    return model, data


def test_every_vision_recipe_is_here():
    assert set(CONFIGS) == VISION_RECIPES
    for name, config in CONFIGS.items():
        assert config["trainer"]["default_root_dir"] == f"runs/{name}"
        assert config["data"]["class_path"].rsplit(".", 1)[-1] in DATA


@pytest.mark.parametrize("name", sorted(VISION_RECIPES))
def test_forward_backward_at_the_recipe_input_size(name):
    torch.manual_seed(0)
    model, data = _model_from_recipe(CONFIGS[name])
    x = torch.rand(2, data.in_channels, data.image_size, data.image_size)
    logits = model(x)
    assert logits.shape == (2, 10)
    loss = model.loss(logits, torch.tensor([1, 7]))
    assert torch.isfinite(loss)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"no (finite) gradient for {missing}"


@pytest.mark.parametrize("name", ["mlp_scratch_fashion_mnist", "mlp_dropout_scratch_fashion_mnist"])
def test_scratch_recipes_take_the_same_step_as_the_books_d2l_sgd(name):
    """Book 3.9/3.13: d2l.sgd(lr=100, batch_size=256) on nn.CrossEntropyLoss (a batch mean):
    param -= 100 * grad / 256."""
    torch.manual_seed(0)
    model, _ = _model_from_recipe(CONFIGS[name])
    model.eval()  # no dropout, so both updates see the same gradient
    book = copy.deepcopy(model)
    x, y = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
    optimizer = model.configure_optimizers()
    model.loss(model(x), y).backward()
    optimizer.step()
    F.cross_entropy(book(x), y).sum().backward()
    with torch.no_grad():
        for p in book.parameters():
            p -= 100.0 * p.grad / 256  # d2l.sgd
    for (n, p), q in zip(model.named_parameters(), book.parameters()):
        assert torch.allclose(p, q, atol=1e-7), n


def test_scratch_softmax_regression_uses_the_stable_scratch_loss():
    model = SoftmaxRegression(impl="scratch")
    logits, labels = torch.randn(6, 10) * 50, torch.randint(0, 10, (6,))
    assert model.loss.__func__ is SoftmaxRegression.loss
    assert torch.allclose(model.loss(logits, labels), F.cross_entropy(logits, labels), atol=1e-5)


def test_weight_decay_applies_to_weights_only():
    model = LeNetBN(impl="scratch", weight_decay=0.01)
    groups = model.configure_optimizers().param_groups
    decayed = {id(p) for g in groups if g["weight_decay"] == 0.01 for p in g["params"]}
    names = {n for n, p in model.named_parameters() if id(p) in decayed}
    assert names == {n for n, p in model.named_parameters() if p.ndim > 1}  # conv/linear weights only
    assert not any(n.endswith("bias") for n in names)


def test_optimizer_by_name_with_momentum_and_a_clear_error_for_an_unknown_one():
    optimizer = SoftmaxRegression(optimizer="sgd", lr=0.05, momentum=0.9).configure_optimizers()
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.param_groups[0]["momentum"] == 0.9
    with pytest.raises(ConfigError, match="unknown optimizer 'sgdd'"):
        SoftmaxRegression(optimizer="sgdd").configure_optimizers()


def test_input_contract_and_size_checks():
    model = LeNet()
    with pytest.raises(ConfigError, match="float images in \\[0, 1\\], got torch.uint8"):
        model(torch.zeros(1, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(ConfigError, match="2 class names for num_classes=10"):
        LeNet(classes=["a", "b"])
    with pytest.raises(ConfigError, match="NiN cannot take 1x28x28 images"):
        zoo.NiN(image_size=28)
    with pytest.raises(ConfigError, match="AlexNet: AlexNet needs images of at least 67x67"):
        zoo.AlexNet(image_size=32)
    assert model.features is model.net.features and model.head is model.net.head


def test_predict_returns_class_names_when_known():
    x = torch.rand(3, 1, 28, 28)
    named = LeNet(classes=[f"c{i}" for i in range(10)])
    expected = named(x).argmax(1).tolist()
    assert named.predict_step((x, torch.zeros(3)), 0) == [f"c{i}" for i in expected]
    anonymous = LeNet()
    anonymous.load_state_dict(named.state_dict())
    assert anonymous.predict_step(x, 0).tolist() == expected


def _fit(model, dm, tmp_path, **trainer_kwargs):
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path, **trainer_kwargs)
    trainer.fit(model, dm)
    return trainer


def test_training_logs_test_accuracy_without_a_validation_split(tmp_path, monkeypatch):
    fakes.install_fashion_mnist(tmp_path / "data", monkeypatch, n_train=16, n_test=8)
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "data"), batch_size=5, resize=32)
    model = LeNet(image_size=32, classes=dm.classes)
    trainer = _fit(model, dm, tmp_path, max_epochs=1)
    assert dm.transform_in_loader()  # "auto" under a CPU Trainer: the loader converts
    metrics = trainer.callback_metrics
    assert {"train/loss", "train/acc", "test/loss", "test/acc"} <= set(metrics) and "val/acc" not in metrics
    # test/acc is the plain fraction of correct test images (micro average), in evaluation mode
    model.eval()
    images, labels = dm.test_set.images, dm.test_set.labels
    with torch.no_grad():
        correct = (model(dm.transform(images)).argmax(1) == labels).float().mean()
    assert torch.isclose(metrics["test/acc"], correct)
    assert trainer.test(model, dm, verbose=False)[0]["test/acc"] == pytest.approx(correct.item())
    predictions = trainer.predict(model, dm)  # the uint8 -> float conversion runs for predict too
    assert sum(len(p) for p in predictions) == 8 and all(p in dm.classes for b in predictions for p in b)
    restored = load_task(trainer.checkpoint_callback.best_model_path)
    assert type(restored) is LeNet and restored.hparams.classes == dm.classes and restored.hparams.image_size == 32


def test_a_model_learns_a_learnable_dataset_end_to_end(tmp_path, monkeypatch):
    """Images of class k have a bright band at rows 2k..2k+2: shuffled batches must keep images and labels paired."""
    rng = np.random.default_rng(0)
    arrays = {}
    for prefix, n in (("train", 400), ("t10k", 100)):
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        images = rng.integers(0, 60, (n, 28, 28), dtype=np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 * k: 2 * k + 3] = 255
        arrays[f"{prefix}-images-idx3-ubyte"], arrays[f"{prefix}-labels-idx1-ubyte"] = images, labels
    sums = fakes.write_fashion_mnist_gz(tmp_path / "data" / "FashionMNIST" / "raw", arrays)
    fakes.accept_fashion_mnist(monkeypatch, sums)
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "data"), batch_size=20)
    torch.manual_seed(0)
    trainer = _fit(SoftmaxRegression(impl="scratch", lr=0.5), dm, tmp_path, max_epochs=3)
    assert trainer.callback_metrics["test/acc"] > 0.95


def test_training_logs_validation_accuracy_with_a_validation_split(tmp_path, monkeypatch):
    fakes.install_cifar10(tmp_path / "data", monkeypatch)
    # transform_on="device": uint8 batches reach on_after_batch_transfer, as on a GPU, in every stage
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "data"), batch_size=4, val_size=6, normalize=True,
                           transform_on="device")
    model = MLP(hidden_sizes=(8,), impl="nn", in_channels=3, image_size=32)
    trainer = _fit(model, dm, tmp_path, max_epochs=1)
    assert not dm.transform_in_loader() and next(iter(dm.train_dataloader()))[0].dtype == torch.uint8
    assert {"train/acc", "val/loss", "val/acc"} <= set(trainer.callback_metrics)
    assert "test/acc" not in trainer.callback_metrics
    assert trainer.test(model, dm, verbose=False)[0]["test/acc"] >= 0
    assert sum(len(p) for p in trainer.predict(model, dm)) == 8


def test_the_cli_links_sizes_and_class_names_from_the_datamodule(tmp_path):
    cli = run_lightning_cli(["--config", str(recipes()["resnet18_cifar10"]), f"--data.init_args.data_dir={tmp_path}",
                             f"--trainer.default_root_dir={tmp_path}"], run=False)
    hp = cli.model.hparams
    assert (hp.in_channels, hp.image_size, hp.num_classes, hp.classes) == (3, 32, 10, cli.datamodule.classes)
    cli = run_lightning_cli(["--config", str(recipes()["googlenet_fashion_mnist"]),
                             f"--data.init_args.data_dir={tmp_path}", f"--trainer.default_root_dir={tmp_path}"],
                            run=False)
    assert (cli.model.hparams.in_channels, cli.model.hparams.image_size) == (1, 96)


def test_make_recipe_lenet_against_a_mirror_of_idx_files(tmp_path, monkeypatch, capsys):
    """What ``make recipe NAME=lenet_fashion_mnist ARGS="--trainer.fast_dev_run true"`` runs, with the mirror set."""
    mirror = tmp_path / "mirror"
    fakes.accept_fashion_mnist(monkeypatch, fakes.write_fashion_mnist_gz(mirror, fakes.fashion_mnist_arrays(300, 40)))
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    with pytest.raises(SystemExit) as done:
        main(["recipe", "lenet_fashion_mnist", "--trainer.fast_dev_run", "true",
              f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "run summary" in out and "test/acc" in out and "train/acc" in out
    raw = tmp_path / "cache" / "FashionMNIST" / "raw"  # conftest's $ZOO_DATA_DIR
    assert (raw / "train-images-idx3-ubyte").is_file() and (raw / "t10k-labels-idx1-ubyte.gz").is_file()


def test_the_cli_reports_a_missing_dataset_in_one_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["recipe", "lenet_fashion_mnist", "--trainer.fast_dev_run", "true",
              f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: train-images-idx3-ubyte.gz (md5 ") and "ZOO_DATA_MIRROR" in err
    assert "apt-get install -y dataset-fashion-mnist" in err and len(err.strip().splitlines()) == 1


def test_metrics_csv_has_one_row_per_epoch_and_split(tmp_path, monkeypatch):
    """Each epoch logs its training metrics once and its evaluation metrics once (no row written twice)."""
    fakes.install_fashion_mnist(tmp_path / "data", monkeypatch, n_train=16, n_test=8)
    with pytest.raises(SystemExit) as done:
        main(["recipe", "lenet_fashion_mnist", "--trainer.max_epochs=3", "--data.init_args.batch_size=4",
              f"--data.init_args.data_dir={tmp_path / 'data'}", f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 0
    with open(tmp_path / "runs" / "version_0" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for column in ("train/acc", "test/acc"):
        epochs = [row["epoch"] for row in rows if row[column]]
        assert epochs == ["0", "1", "2"], (column, epochs)


def test_channels_last_is_the_same_model_in_another_layout():
    torch.manual_seed(0)
    plain = zoo.LeNet()
    nhwc = zoo.LeNet(channels_last=True)
    nhwc.load_state_dict(plain.state_dict())
    conv = next(w for w in nhwc.net.parameters() if w.dim() == 4 and w.shape[1] > 1)  # the second convolution's
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    x = torch.rand(8, 1, 28, 28)
    assert torch.allclose(nhwc(x), plain(x), atol=1e-5)
    assert nhwc.state_dict().keys() == plain.state_dict().keys()
