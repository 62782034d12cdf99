"""The command line as a user meets it: recipe names, listing, offline failure, generation, error exits."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

import datamodules.jaychou_lyrics as lyrics
from datamodules.token_windows import LanguageModelBatches
from tests.conftest import REPO
from tests.fakes import point_resource_at, write_lyrics_zip
from zoo import GRULanguageModel
from zoo.cli import main


def zoo_cmd(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "zoo", *args], cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def test_list_shows_recipes_with_descriptions():
    out = zoo_cmd("list")
    assert out.returncode == 0
    line = next(row for row in out.stdout.splitlines() if row.startswith("gru_lyrics "))
    assert "GRU language model" in line


def test_list_finds_the_zoos_recipes_from_any_directory(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "zoo", "list"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and "gru_lyrics " in out.stdout, out.stderr


def test_unknown_recipe_lists_known_ones():
    out = zoo_cmd("recipe", "gru_lyric")
    assert out.returncode == 1
    assert "unknown recipe 'gru_lyric'" in out.stderr and "gru_lyrics" in out.stderr
    assert "Traceback" not in out.stderr


def test_offline_without_mirror_fails_fast_with_the_message(tmp_path):
    start = time.monotonic()
    out = zoo_cmd("recipe", "gru_lyrics", env={"ZOO_DATA_DIR": str(tmp_path / "cache")})
    assert time.monotonic() - start < 30
    assert out.returncode == 1
    for part in ("jaychou_lyrics.txt.zip", lyrics.JAYCHOU_LYRICS.checksum, lyrics.JAYCHOU_LYRICS.urls[0],
                 str(tmp_path / "cache"), "ZOO_DATA_MIRROR"):
        assert part in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_argument_value_exits_nonzero():
    out = zoo_cmd("recipe", "gru_lyrics", "--model.init_args.hidden_size", "many")
    assert out.returncode != 0 and "hidden_size" in out.stderr


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    vocab = list("abcdefgh ")
    ids = torch.tensor([vocab.index(c) for c in "abcdefgh " * 40])
    model = GRULanguageModel(vocab=vocab, hidden_size=16, lr=5e-2, clipping_theta=1.0, pred_period=0, pred_len=9,
                             prefixes=["ab"])
    trainer = L.Trainer(max_epochs=30, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path)
    trainer.fit(model, DataLoader(LanguageModelBatches(ids, 4, 6, "consecutive"), batch_size=None))
    return trainer.checkpoint_callback.best_model_path


def test_generate_from_checkpoint(checkpoint):
    out = zoo_cmd("generate", "--ckpt", checkpoint, "--prefix", "abc", "--length", "12")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "abcdefgh abcdef"
    default = zoo_cmd("generate", "--ckpt", checkpoint)
    assert default.stdout.strip().startswith("ab") and len(default.stdout.strip()) == 11  # model's prefix + 9


def test_generate_with_unknown_characters_is_a_clear_error(checkpoint):
    out = zoo_cmd("generate", "--ckpt", checkpoint, "--prefix", "分开")
    assert out.returncode == 1
    assert "outside the model's 9-character vocabulary" in out.stderr and "'分'" in out.stderr
    assert "Traceback" not in out.stderr


def test_generate_missing_checkpoint(tmp_path):
    out = zoo_cmd("generate", "--ckpt", str(tmp_path / "none.ckpt"))
    assert out.returncode == 1 and "does not exist" in out.stderr


def run_small_gru_lyrics(tmp_path, monkeypatch, epochs: int) -> None:
    """`python -m zoo recipe gru_lyrics` in this process on fake lyrics with a 16-unit GRU; checks exit status 0."""
    path = tmp_path / "data" / lyrics.JAYCHOU_LYRICS.filename
    write_lyrics_zip(path)
    point_resource_at(monkeypatch, lyrics, "JAYCHOU_LYRICS", path)
    monkeypatch.setattr(sys, "argv", ["zoo"])
    with pytest.raises(SystemExit) as exit_info:
        main(["recipe", "gru_lyrics", f"--trainer.max_epochs={epochs}", "--trainer.enable_progress_bar=false",
              f"--data.init_args.data_dir={tmp_path / 'data'}", f"--trainer.default_root_dir={tmp_path / 'runs'}",
              "--model.init_args.hidden_size=16", "--model.init_args.pred_len=5"])
    assert exit_info.value.code == 0


def test_recipe_in_process_prints_summary_checkpoint_and_samples(tmp_path, monkeypatch, capsys):
    run_small_gru_lyrics(tmp_path, monkeypatch, epochs=2)
    out = capsys.readouterr().out
    assert "run summary" in out and "train/ppl" in out and "val/ppl" in out
    ckpt = next(line for line in out.splitlines() if line.startswith("checkpoint: ")).split(": ", 1)[1]
    assert os.path.isfile(ckpt)
    assert " - 分开" in out and " - 不分开" in out

    main(["predict", "--config", str(REPO / "recipes" / "gru_lyrics.yaml"), f"--ckpt_path={ckpt}",
          f"--data.init_args.data_dir={tmp_path / 'data'}", "--data.init_args.predict_prefixes=[不分开]",
          f"--trainer.default_root_dir={tmp_path / 'runs'}", "--trainer.enable_progress_bar=false",
          "--model.init_args.hidden_size=16", "--model.init_args.pred_len=5"])  # LightningCLI's predict prints text
    printed = capsys.readouterr().out.rstrip("\n").splitlines()
    assert printed[-1].startswith("不分开") and len(printed[-1]) == 3 + 5


@pytest.mark.mirror
def test_recipe_end_to_end_on_the_real_lyrics(tmp_path):
    out = zoo_cmd("recipe", "gru_lyrics", "--trainer.max_epochs=2", f"--trainer.default_root_dir={tmp_path}",
                  env={"ZOO_DATA_DIR": str(tmp_path / "cache")}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "train/ppl" in out.stdout and "val/ppl" in out.stdout and "checkpoint: " in out.stdout
    assert " - 分开" in out.stdout and " - 不分开" in out.stdout


def test_a_short_lyrics_run_saves_samples_and_explains_its_held_out_perplexity(tmp_path, monkeypatch, capsys):
    """3 epochs of gru_lyrics (pred_period 40): samples.txt holds the final samples, and the summary says why val/ppl
    is far above train/ppl and how long the run took."""
    run_small_gru_lyrics(tmp_path, monkeypatch, epochs=3)
    out = capsys.readouterr().out
    summary = out[out.index("run summary"):].splitlines()
    assert any(line.startswith("wall time: ") for line in summary)
    note = next(line for line in summary if line.startswith("note: val/ppl"))
    assert "the 2,000 characters held out after the training text" in note and "10,000 training characters" in note
    samples = (tmp_path / "runs" / "version_0" / "samples.txt").read_text(encoding="utf-8").splitlines()
    assert samples[0].startswith("epoch 3, perplexity ") and [s[:5] for s in samples[1:]] == [" - 分开", " - 不分"]
    assert samples[1] in summary and samples[2] in summary  # the summary prints the samples it saved
