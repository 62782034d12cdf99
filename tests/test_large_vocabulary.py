"""Every command that reads a checkpoint (``generate``, ``similar --ckpt``, ``classify-text``, ``translate``,
``classify``, ``export``) rebuilds the model straight from the checkpoint's hyperparameters: with a 20,000-word
vocabulary (or 20,000 class names) among them, no argument parser is built and the vocabulary is deep-copied at most
once (Lightning's own copy of the arguments in ``save_hyperparameters``), not once per argument parsed, which is what
made such checkpoints slow when they went through LightningCLI's parser."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import jsonargparse
import numpy as np
import pytest
import torch
from PIL import Image

import zoo
from tests.examples import EXAMPLES, save_checkpoint
from zoo.cli import main

WORDS = 20_000
CHARS = [chr(0x4E00 + i) for i in range(WORDS)]  # a character vocabulary for the language model
VOCAB = [f"w{i}" for i in range(WORDS)]


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("big_vocab")
    image = root / "a.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(image)
    built = {
        "lm": (zoo.GRULanguageModel(vocab=CHARS, hidden_size=8, pred_period=0), EXAMPLES["GRULanguageModel"]()[1]),
        "skipgram": (zoo.SkipGram(vocab=VOCAB, embed_size=8), EXAMPLES["SkipGram"]()[1]),
        "textcnn": (zoo.TextCNN(vocab=["<pad>", "<unk>", *VOCAB], embed_size=8, num_channels=(4, 4, 4)),
                    EXAMPLES["TextCNN"]()[1]),
        "seq2seq": (zoo.Seq2Seq(src_vocab=["<pad>", "<bos>", "<eos>", "<unk>", *VOCAB],
                                tgt_vocab=["<pad>", "<bos>", "<eos>", "<unk>", *VOCAB], embed_size=8, num_hiddens=6),
                    EXAMPLES["Seq2Seq"]()[1]),
        "lenet": (zoo.LeNet(image_size=28, num_classes=WORDS, classes=[f"class {i}" for i in range(WORDS)]),
                  EXAMPLES["LeNet"]()[1]),
    }
    found = {name: save_checkpoint(model, root / f"{name}.ckpt", batch) for name, (model, batch) in built.items()}
    found["image"] = image
    return found


def commands(ckpts: dict[str, Path], tmp_path: Path) -> dict[str, list[str]]:
    return {
        "generate": ["generate", "--ckpt", str(ckpts["lm"]), "--prefix", CHARS[1] + CHARS[2], "--length", "5"],
        "similar --ckpt": ["similar", "--ckpt", str(ckpts["skipgram"]), "w3"],
        "classify-text": ["classify-text", "--ckpt", str(ckpts["textcnn"]), "w1 w2 w3 w4 w5 w6"],
        "translate": ["translate", "--ckpt", str(ckpts["seq2seq"]), "w1 w2 ."],
        "classify": ["classify", "--ckpt", str(ckpts["lenet"]), str(ckpts["image"])],
        "export": ["export", "--ckpt", str(ckpts["lm"]), "--format", "torchscript", "--out",
                   str(tmp_path / "lm.pt"), "--no-check"],
    }


@pytest.mark.parametrize("name", ["generate", "similar --ckpt", "classify-text", "translate", "classify", "export"])
def test_a_checkpoint_with_a_20000_word_vocabulary_is_read_without_a_parser_or_a_deep_copy(name, ckpts, tmp_path,
                                                                                          monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["zoo"])

    def no_parser(self, *args, **kwargs):
        raise AssertionError("an argument parser was built to read the checkpoint")

    copied: list[str] = []  # the function that deep-copied the vocabulary (or a dict holding it), per copy
    real_deepcopy = copy.deepcopy

    def watched_deepcopy(value, *args, **kwargs):
        values = value.values() if isinstance(value, dict) else [value]
        if any(isinstance(v, (list, tuple)) and len(v) >= WORDS for v in values):
            copied.append(sys._getframe(1).f_code.co_name)
        return real_deepcopy(value, *args, **kwargs)

    monkeypatch.setattr(jsonargparse.ArgumentParser, "__init__", no_parser)
    monkeypatch.setattr(copy, "deepcopy", watched_deepcopy)
    with pytest.raises(SystemExit) as info:
        main(commands(ckpts, tmp_path)[name])
    captured = capsys.readouterr()
    assert info.value.code == 0, captured.err[-3000:]
    assert captured.out.strip()  # it answered
    # Lightning's save_hyperparameters keeps one copy of the arguments as first given, once per model built; nothing
    # else may copy them (jsonargparse copied its whole namespace for every argument it parsed)
    assert copied in ([], ["save_hyperparameters"]), f"the vocabulary was deep-copied by {copied}"


def test_the_vocabulary_travels_in_the_hyperparameters(ckpts):
    header = torch.load(ckpts["textcnn"], map_location="cpu", weights_only=True)
    assert len(header["hyper_parameters"]["vocab"]) == WORDS + 2
