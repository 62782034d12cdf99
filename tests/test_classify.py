"""Classifying image files from a checkpoint alone: ``python -m zoo classify`` and ``model.classify``, the
preprocessing recorded in the hyperparameters, ``python -m zoo predict`` with a fine-tuned checkpoint, and the errors
for missing images and checkpoints that are not image classifiers."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import lightning as L
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from datamodules.cifar10 import CIFAR10DataModule
from datamodules.hotdog import HotdogDataModule
from tests import hotdog_fakes, vision_fakes
from tests.conftest import REPO
from zoo import GRULanguageModel, LeNet, ResNet18, load_task
from zoo.cli import main
from zoo.commands.classify import classify_files, format_prediction
from zoo.errors import ConfigError


def _fit(model, dm, tmp_path) -> str:
    trainer = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
                        default_root_dir=tmp_path)
    trainer.fit(model, dm)
    return trainer.checkpoint_callback.best_model_path


@pytest.fixture
def hotdog_ckpt(tmp_path, monkeypatch):
    """(checkpoint of a fine-tuned torchvision ResNet-18 on fake hotdog images at 32 px, datamodule, image files)."""
    hotdog_fakes.install_hotdog(tmp_path / "data", monkeypatch, n_train=2, n_test=1)
    dm = HotdogDataModule(data_dir=str(tmp_path / "data"), batch_size=4, weights="IMAGENET1K_V1", resize_size=36,
                          crop_size=32)
    model = ResNet18(variant="torchvision", pretrained=True, num_classes=2, in_channels=3, image_size=32,
                     classes=dm.classes, optimizer="sgd", lr=0.01, head_lr_mult=10)
    ckpt = _fit(model, dm, tmp_path)
    files = sorted(str(p) for p in (tmp_path / "data" / "hotdog" / "test").rglob("*.*"))
    return ckpt, dm, files


def test_the_checkpoint_records_class_names_and_the_weights_preprocessing(hotdog_ckpt, monkeypatch, tmp_path):
    ckpt, dm, _ = hotdog_ckpt
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no_weights_here"))
    model = load_task(ckpt)
    assert model.hparams.classes == ["hotdog", "not-hotdog"]
    assert model.hparams.preprocess == {"resize": 36, "crop": 32, "mean": [0.485, 0.456, 0.406],
                                        "std": [0.229, 0.224, 0.225], "channels": 3} == dm.preprocess
    assert model.preprocess_spec() == (dm.preprocess, True)
    saved = torch.load(ckpt, map_location="cpu", weights_only=False)["hyper_parameters"]
    assert all(isinstance(v, (int, float, str, bool, list, dict, type(None))) for v in saved.values())


def test_classify_equals_the_model_on_the_datamodules_test_images(hotdog_ckpt):
    ckpt, dm, files = hotdog_ckpt
    model = load_task(ckpt)
    results = classify_files(model, files, top_k=2)
    dm.setup("test")
    x = dm.transform(torch.stack([dm.eval_transform()(Image.open(f).convert("RGB")) for f in files]))
    model.eval()
    with torch.no_grad():
        probs = torch.softmax(model(x), dim=1)
    for top, row in zip(results, probs):
        assert [name for name, _ in top] == [dm.classes[i] for i in row.argsort(descending=True).tolist()]
        assert [p for _, p in top] == pytest.approx(sorted(row.tolist(), reverse=True), abs=1e-6)
    assert model.training is False
    with pytest.raises(ConfigError, match="top_k must be >= 1"):
        classify_files(model, files, top_k=0)


def test_python_m_zoo_classify_prints_class_and_probability_per_file(hotdog_ckpt, tmp_path):
    """A subprocess, as a user runs it, on a machine without the ImageNet weights (TORCH_HOME empty)."""
    ckpt, _, files = hotdog_ckpt
    env = {**os.environ, "TORCH_HOME": str(tmp_path / "no_weights_here")}
    out = subprocess.run([sys.executable, "-m", "zoo", "classify", "--ckpt", ckpt, "--top-k", "2", *files],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    expected = [format_prediction(f, top) for f, top in zip(files, classify_files(load_task(ckpt), files, top_k=2))]
    assert lines == expected
    for line in lines:
        path, rest = line.split(": ")
        (name1, p1), (name2, p2) = (item.split(" ") for item in rest.split(", "))
        assert {name1, name2} == {"hotdog", "not-hotdog"} and float(p1) >= float(p2)
        assert float(p1) + float(p2) == pytest.approx(1.0, abs=2e-3)


def test_classify_errors_are_one_clear_line(hotdog_ckpt, tmp_path, capsys):
    ckpt, _, files = hotdog_ckpt
    with pytest.raises(SystemExit) as done:
        main(["classify", "--ckpt", ckpt, files[0], str(tmp_path / "missing.jpg")])
    assert done.value.code == 1 and f"no such image file: {tmp_path / 'missing.jpg'}" in capsys.readouterr().err
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("hello")
    with pytest.raises(SystemExit) as done:
        main(["classify", "--ckpt", ckpt, str(not_an_image)])
    assert done.value.code == 1 and f"cannot read the image {not_an_image}" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["classify", "--ckpt", str(tmp_path / "none.ckpt"), files[0]])
    assert done.value.code == 1 and "does not exist" in capsys.readouterr().err


def test_a_language_model_checkpoint_is_not_a_classifier(tmp_path, capsys):
    model = GRULanguageModel(vocab=list("ab"), hidden_size=4, pred_period=0)
    trainer = L.Trainer(max_steps=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path)
    trainer.fit(model, DataLoader([(torch.zeros(1, 3, dtype=torch.long), torch.ones(1, 3, dtype=torch.long),
                                    False)], batch_size=None))
    image = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(image)
    with pytest.raises(SystemExit) as done:
        main(["classify", "--ckpt", trainer.checkpoint_callback.best_model_path, str(image)])
    assert done.value.code == 1
    assert "holds a GRULanguageModel, which does not classify images" in capsys.readouterr().err


def test_classify_with_a_grey_cifar_or_unrecorded_model(tmp_path, monkeypatch, capsys):
    """Other classifiers classify files too: CIFAR-10 (recorded preprocessing: 32 px, no normalisation), and a model
    trained on plain tensors (nothing recorded: resize to image_size, with a note)."""
    vision_fakes.install_cifar10(tmp_path / "data", monkeypatch)
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "data"), batch_size=4)
    ckpt = _fit(ResNet18(in_channels=3, image_size=32, classes=dm.classes), dm, tmp_path / "cifar")
    assert load_task(ckpt).hparams.preprocess == {"resize": 32, "crop": 32, "mean": None, "std": None, "channels": 3}
    image = tmp_path / "wide.png"
    Image.new("RGB", (64, 40), (250, 10, 10)).save(image)
    with pytest.raises(SystemExit) as done:
        main(["classify", "--ckpt", ckpt, "--top-k", "3", str(image)])
    assert done.value.code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{image}: ") and len(line.split(", ")) == 3
    assert line.split(": ")[1].split(" ")[0] in dm.classes

    plain = LeNet(classes=[f"c{i}" for i in range(10)])
    trainer = L.Trainer(max_steps=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path / "plain")
    trainer.fit(plain, DataLoader([(torch.rand(1, 28, 28), torch.tensor(3))] * 2, batch_size=2))
    with pytest.raises(SystemExit) as done:
        main(["classify", "--ckpt", trainer.checkpoint_callback.best_model_path, str(image)])
    captured = capsys.readouterr()
    assert done.value.code == 0 and "records no preprocessing" in captured.err and captured.out.startswith(str(image))


def test_python_m_zoo_predict_with_the_hotdog_recipe_prints_class_names(tmp_path, monkeypatch, capsys):
    """`python -m zoo predict --config recipes/resnet18_hotdog.yaml --ckpt_path ...` prints one class name per test
    image, without needing the ImageNet weights (the checkpoint supplies every tensor)."""
    hotdog_fakes.install_hotdog(tmp_path / "data", monkeypatch, n_train=2, n_test=2)
    common = [f"--data.init_args.data_dir={tmp_path / 'data'}", "--data.init_args.num_workers=0",
              "--data.init_args.crop_size=32", "--data.init_args.resize_size=36", "--data.init_args.batch_size=4",
              f"--trainer.default_root_dir={tmp_path / 'runs'}", "--trainer.enable_progress_bar=false"]
    with pytest.raises(SystemExit) as done:
        main(["recipe", "resnet18_hotdog", "--trainer.max_epochs=1", *common])
    assert done.value.code == 0
    ckpt = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("checkpoint: "))[12:]
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no_weights_here"))
    main(["predict", "--config", str(REPO / "recipes" / "resnet18_hotdog.yaml"), f"--ckpt_path={ckpt}", *common])
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 4 and set(printed) <= {"hotdog", "not-hotdog"}


def test_the_classify_help_example_works_as_printed_on_a_hotdog_recipe_run(tmp_path, monkeypatch, capsys):
    """A new user's first hour: ``python -m zoo recipe resnet18_hotdog`` (fake files, in the recipe's own
    runs/resnet18_hotdog), then the example that ``classify --help`` prints, run as printed from that folder."""
    hotdog_fakes.install_hotdog(tmp_path / "data", monkeypatch, n_train=2, n_test=1)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["recipe", "resnet18_hotdog", "--trainer.max_epochs=2", f"--data.init_args.data_dir={tmp_path / 'data'}",
              "--data.init_args.num_workers=0", "--data.init_args.crop_size=32", "--data.init_args.resize_size=36",
              "--data.init_args.batch_size=4", "--trainer.enable_progress_bar=false"])
    assert done.value.code == 0
    folder = tmp_path / "runs" / "resnet18_hotdog" / "version_0" / "checkpoints"
    assert (folder / "last.ckpt").is_file()
    assert f"checkpoint: {os.path.join('runs', 'resnet18_hotdog', 'version_0', 'checkpoints', 'last.ckpt')}" in \
        capsys.readouterr().out

    with pytest.raises(SystemExit) as done:
        main(["classify", "--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    example = " ".join(help_text[help_text.index("example: ") + len("example: "):].split())  # argparse wraps it
    argv = shlex.split(example)
    assert argv[:4] == ["python", "-m", "zoo", "classify"]
    for name in (a for a in argv[4:] if a.endswith((".jpg", ".png"))):  # the image files it names
        shutil.copy(next((tmp_path / "data" / "hotdog" / "test" / "hotdog").glob("*.jpg")), tmp_path / name)
    env = {**os.environ, "TORCH_HOME": str(tmp_path / "no_weights_here"), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("a.jpg: ") and out.stdout.split(": ")[1].split(" ")[0] in {"hotdog", "not-hotdog"}


def test_a_missing_checkpoint_names_the_checkpoints_beside_it(hotdog_ckpt, tmp_path, capsys):
    ckpt, _, files = hotdog_ckpt
    missing = os.path.join(os.path.dirname(ckpt), "last.ckpt")
    with pytest.raises(SystemExit) as done:
        main(["classify", "--ckpt", missing, files[0]])
    err = capsys.readouterr().err
    assert done.value.code == 1 and f"checkpoint {missing} does not exist; beside it: {ckpt}" in err
    run = os.path.dirname(os.path.dirname(ckpt))  # the run folder holding checkpoints/
    elsewhere = os.path.join(run, "version_7", "checkpoints", "last.ckpt")  # a version that does not exist
    with pytest.raises(SystemExit) as done:
        main(["classify", "--ckpt", elsewhere, files[0]])
    err = capsys.readouterr().err
    assert done.value.code == 1 and "does not exist; " in err and ckpt in err
