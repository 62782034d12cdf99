"""Checkpoints cannot run code, altered tensors are refused, and bad checkpoint paths are one clear line.

A crafted checkpoint here is a real torch file whose unpickling would call ``open(marker, "w")``: the marker file
appears if and only if the file was unpickled without the restricted unpickler (`test_the_crafted_file_is_armed`
shows it does, so the refusals below are not vacuous).
"""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import zoo
from datamodules.token_windows import LanguageModelBatches
from tests.conftest import REPO
from zoo.cli import main, recipe_path
from zoo.io.checkpoints import DIGEST_KEY, tensor_digest, verify_digest
from zoo.io.safe_load import SAFE_GLOBALS, CheckpointError, UnsafeCheckpointError, safe_load

VOCAB = list("abcdefgh ")


class _OpensAFile:
    """Unpickles as ``open(marker, "w")``: a stand-in for any code a crafted pickle could run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def craft(path: Path, marker: Path, legacy: bool = False) -> Path:
    """A checkpoint shaped like a zoo one, with the payload among its hyperparameters."""
    checkpoint = {"state_dict": {"net.w": torch.zeros(2)}, "zoo_class": "zoo.language_models:GRULanguageModel",
                  "hyper_parameters": {"vocab": VOCAB, "payload": _OpensAFile(marker)},
                  "pytorch-lightning_version": L.__version__}
    torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
    return path


@pytest.fixture(scope="module")
def lm_checkpoint(tmp_path_factory) -> Path:
    """A small GRU language model trained for a few steps, saved by a Trainer (so with class, digest, RNG state)."""
    tmp_path = tmp_path_factory.mktemp("lm")
    torch.manual_seed(0)
    ids = torch.tensor([VOCAB.index(c) for c in "abcdefgh " * 20])
    model = zoo.GRULanguageModel(vocab=VOCAB, hidden_size=8, lr=0.5, pred_period=0, pred_len=6, prefixes=["ab"])
    trainer = L.Trainer(max_steps=3, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, accelerator="cpu", default_root_dir=tmp_path)
    trainer.fit(model, DataLoader(LanguageModelBatches(ids, 4, 6, "consecutive"), batch_size=None))
    path = tmp_path / "lm.ckpt"
    trainer.save_checkpoint(path)
    return path


def run_main(args: list[str], capsys) -> tuple[int, str]:
    """``python -m zoo ARGS`` in this process: (exit status, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(args)
    return info.value.code, capsys.readouterr().err


def assert_one_line_error(code: int, err: str, *parts: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "\n" not in lines[0], err
    for part in parts:
        assert part in lines[0], (part, lines[0])


def predict_args(ckpt: Path | str, tmp_path: Path) -> list[str]:
    return ["predict", "--config", str(recipe_path("linreg_synthetic")), f"--ckpt_path={ckpt}",
            f"--trainer.default_root_dir={tmp_path / 'runs'}", "--trainer.enable_progress_bar=false"]


# ---------------------------------------------------------------------------------------------- crafted pickles
def test_the_crafted_file_is_armed(tmp_path):
    """Control: an unrestricted load of the crafted file does create the marker."""
    marker = tmp_path / "armed"
    torch.load(craft(tmp_path / "evil.ckpt", marker), weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy-format"])
def test_crafted_checkpoint_is_refused_by_every_python_entry_point(tmp_path, legacy):
    marker = tmp_path / "pwned"
    evil = craft(tmp_path / "evil.ckpt", marker, legacy)
    loaders = [zoo.load_task, zoo.GRULanguageModel.load_from_checkpoint, zoo.LeNet.load_from_checkpoint,
               lambda p: zoo.WordVectors.load(p), safe_load]
    for load in loaders:
        with pytest.raises(UnsafeCheckpointError, match="refusing to load") as info:
            load(evil)
        assert str(evil) in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


def test_crafted_checkpoint_names_what_it_would_call(tmp_path):
    evil = craft(tmp_path / "evil.ckpt", tmp_path / "pwned")
    with pytest.raises(UnsafeCheckpointError) as info:
        zoo.load_task(evil)
    assert "_OpensAFile" not in str(info.value)  # only what unpickling calls: the reduce function
    assert "open" in str(info.value)


def test_crafted_checkpoint_through_the_commands(tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = craft(tmp_path / "evil.ckpt", marker)
    image = tmp_path / "cat.png"
    image.write_bytes(b"not read: the checkpoint is refused first")
    for args in (["generate", "--ckpt", str(evil)], ["classify", "--ckpt", str(evil), str(image)],
                 ["classify-text", "--ckpt", str(evil), "great"], ["translate", "--ckpt", str(evil), "va !"],
                 predict_args(evil, tmp_path)):
        code, err = run_main(args, capsys)
        assert_one_line_error(code, err, "refusing to load", str(evil))
    assert not marker.exists()


def test_crafted_checkpoint_through_a_real_process(tmp_path):
    """End to end, as a user runs it: a separate ``python -m zoo generate`` exits 1 with one line."""
    marker = tmp_path / "pwned"
    evil = craft(tmp_path / "evil.ckpt", marker)
    out = subprocess.run([sys.executable, "-m", "zoo", "generate", "--ckpt", str(evil)], cwd=REPO,
                         env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert_one_line_error(out.returncode, out.stderr, "refusing to load", str(evil))
    assert not marker.exists()


def test_a_foreign_class_or_instantiator_named_by_the_file_is_refused(lm_checkpoint, tmp_path):
    checkpoint = torch.load(lm_checkpoint, weights_only=True)
    foreign = dict(checkpoint, zoo_class="antigravity:Fly")
    torch.save(foreign, tmp_path / "foreign.ckpt")
    with pytest.raises(CheckpointError, match="not one of the zoo's"):
        zoo.load_task(tmp_path / "foreign.ckpt")
    assert "antigravity" not in sys.modules  # never imported for the file
    instantiator = dict(checkpoint, hyper_parameters={**checkpoint["hyper_parameters"], "_instantiator": "os.system"})
    torch.save(instantiator, tmp_path / "instantiator.ckpt")
    with pytest.raises(UnsafeCheckpointError, match="os.system"):
        zoo.load_task(tmp_path / "instantiator.ckpt")


def test_every_torch_load_in_the_zoo_is_weights_only():
    """Static check over zoo/ and datamodules/: each ``torch.load(...)`` passes ``weights_only=True``."""
    calls = []
    for root in ("zoo", "datamodules"):
        for path in sorted((REPO / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                    flags = {k.arg: k.value for k in node.keywords}
                    ok = isinstance(flags.get("weights_only"), ast.Constant) and flags["weights_only"].value is True
                    calls.append((f"{path.relative_to(REPO)}:{node.lineno}", ok))
    assert calls, "found no torch.load at all: the check is looking in the wrong place"
    assert [where for where, ok in calls if not ok] == []


# ---------------------------------------------------------------------------------------------- the allow-list
def test_allow_list_covers_numpy_random_state(lm_checkpoint, tmp_path):
    """Callbacks' resume state may hold numpy's RNG state (a uint32 array): zoo loads accept it."""
    assert isinstance(SAFE_GLOBALS, tuple)
    checkpoint = torch.load(lm_checkpoint, weights_only=True)
    checkpoint["callbacks"]["SomeCallback"] = {"numpy": np.random.get_state(), "scalar": np.float64(0.5)}
    torch.save(checkpoint, tmp_path / "numpy.ckpt")
    loaded = safe_load(tmp_path / "numpy.ckpt")
    assert loaded["callbacks"]["SomeCallback"]["numpy"][1].dtype == np.uint32
    assert type(zoo.load_task(tmp_path / "numpy.ckpt")) is zoo.GRULanguageModel


# ---------------------------------------------------------------------------------------------- the digest
def test_a_zoo_checkpoint_carries_a_digest_that_matches(lm_checkpoint):
    checkpoint = torch.load(lm_checkpoint, weights_only=True)
    assert checkpoint[DIGEST_KEY] == tensor_digest(checkpoint["state_dict"])
    assert checkpoint[DIGEST_KEY].startswith("sha256:")
    assert verify_digest(checkpoint, lm_checkpoint) is True
    model = zoo.load_task(lm_checkpoint)
    assert len(model.generate("ab", 4)) == 6


def tamper_by_value(source: Path, target: Path) -> Path:
    """Change one weight, keep the recorded digest (what a hand edit or a bad copy tool does)."""
    checkpoint = torch.load(source, weights_only=True)
    key = next(k for k, v in checkpoint["state_dict"].items() if v.is_floating_point() and v.numel() > 4)
    checkpoint["state_dict"][key][0] += 1e-3
    torch.save(checkpoint, target)
    return target


def tamper_by_bytes(source: Path, target: Path) -> Path:
    """Flip one byte inside a tensor's storage in the file itself (torch does not check the zip CRC)."""
    checkpoint = torch.load(source, weights_only=True)
    weight = next(v for v in checkpoint["state_dict"].values() if v.is_floating_point() and v.numel() >= 32)
    data = bytearray(source.read_bytes())
    at = data.find(weight.contiguous().numpy().tobytes()[:64])
    assert at > 0
    data[at + 9] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize("tamper", [tamper_by_value, tamper_by_bytes], ids=["value", "bytes"])
def test_altered_tensors_are_refused_with_the_file_named(lm_checkpoint, tmp_path, tamper, capsys):
    bad = tamper(lm_checkpoint, tmp_path / "altered.ckpt")
    for load in (zoo.load_task, zoo.GRULanguageModel.load_from_checkpoint):
        with pytest.raises(CheckpointError, match="do not match the digest") as info:
            load(bad)
        assert str(bad) in str(info.value)
    code, err = run_main(["generate", "--ckpt", str(bad)], capsys)
    assert_one_line_error(code, err, str(bad), "do not match the digest")


def test_altered_tensors_are_refused_by_predict_and_by_resume(lm_checkpoint, tmp_path, capsys):
    bad = tamper_by_value(lm_checkpoint, tmp_path / "altered.ckpt")
    code, err = run_main(predict_args(bad, tmp_path), capsys)
    assert_one_line_error(code, err, str(bad), "do not match the digest")
    # a Trainer given ckpt_path directly (a project's own script): the task's on_load_checkpoint refuses
    ids = torch.tensor([VOCAB.index(c) for c in "abcdefgh " * 20])
    model = zoo.GRULanguageModel(vocab=VOCAB, hidden_size=8, lr=0.5, pred_period=0, pred_len=6, prefixes=["ab"])
    trainer = L.Trainer(max_steps=6, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, accelerator="cpu", default_root_dir=tmp_path)
    with pytest.raises(CheckpointError, match="do not match the digest") as info:
        trainer.fit(model, DataLoader(LanguageModelBatches(ids, 4, 6, "consecutive"), batch_size=None), ckpt_path=bad)
    assert str(bad) in str(info.value)


def test_a_checkpoint_without_a_digest_still_loads_with_a_note(lm_checkpoint, tmp_path, caplog):
    checkpoint = torch.load(lm_checkpoint, weights_only=True)
    del checkpoint[DIGEST_KEY]
    torch.save(checkpoint, tmp_path / "old.ckpt")
    with caplog.at_level(logging.WARNING, logger="zoo.io.checkpoints"):
        model = zoo.load_task(tmp_path / "old.ckpt")
    assert type(model) is zoo.GRULanguageModel
    assert "records no tensor digest" in caplog.text and "old.ckpt" in caplog.text


def test_metadata_edits_keep_the_digest_valid(lm_checkpoint, tmp_path):
    """The digest covers tensors only: a renamed class path (as after the layout move) still loads."""
    checkpoint = torch.load(lm_checkpoint, weights_only=True)
    checkpoint["zoo_class"] = "zoo.old_place:GRULanguageModel"
    torch.save(checkpoint, tmp_path / "moved.ckpt")
    assert type(zoo.load_task(tmp_path / "moved.ckpt")) is zoo.GRULanguageModel


# ---------------------------------------------------------------------------------------------- bad paths
def test_a_folder_given_as_checkpoint_says_so(lm_checkpoint, tmp_path, capsys):
    folder = lm_checkpoint.parent
    code, err = run_main(["generate", "--ckpt", str(folder)], capsys)
    assert_one_line_error(code, err, f"{folder} is a directory", "lm.ckpt")
    code, err = run_main(predict_args(folder, tmp_path), capsys)
    assert_one_line_error(code, err, f"{folder} is a directory")


@pytest.mark.parametrize("keep", [0.5, 0.02], ids=["half", "head"])
def test_a_truncated_checkpoint_is_one_line(lm_checkpoint, tmp_path, capsys, keep):
    data = lm_checkpoint.read_bytes()
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(data[: int(len(data) * keep)])
    code, err = run_main(["generate", "--ckpt", str(cut)], capsys)
    assert_one_line_error(code, err, str(cut), "not a readable checkpoint")
    code, err = run_main(predict_args(cut, tmp_path), capsys)
    assert_one_line_error(code, err, str(cut), "not a readable checkpoint")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.ckpt"))
