"""One small example per registered architecture: ``EXAMPLES[name]()`` -> (model, one training batch), and
checkpoints written from them as a Trainer writes them.

Every name in ``zoo.ARCHITECTURES`` needs an entry here (test_architectures.py checks), so a new architecture is
covered by the shared forward/backward test the moment it is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader

import zoo

LM_VOCAB = list("abcdefghij")
TEXT_VOCAB = ["<pad>", "<unk>", *LM_VOCAB]
MT_VOCAB = ["<pad>", "<bos>", "<eos>", "<unk>", *LM_VOCAB]


def _language_model(name: str) -> Callable[[], tuple[Any, Any]]:
    def build():
        model = getattr(zoo, name)(vocab=LM_VOCAB, hidden_size=8, pred_period=0)
        x = torch.randint(0, len(LM_VOCAB), (2, 5))
        return model, (x, torch.roll(x, -1, dims=1), False)

    return build


def _image_classifier(name: str, size: int, **kwargs: Any) -> Callable[[], tuple[Any, Any]]:
    """A small ``name`` (narrow where the architecture allows) on two float images of ``size`` pixels."""

    def build():
        model = getattr(zoo, name)(image_size=size, classes=[f"class {i}" for i in range(10)], **kwargs)
        return model, (torch.rand(2, 1, size, size), torch.tensor([0, 3]))

    return build


def _translation_batch() -> tuple[torch.Tensor, ...]:
    """Two sentence pairs padded to 5: (source, source lengths, target, target lengths); <eos> = 2, <pad> = 0."""
    source = torch.tensor([[5, 6, 7, 2, 0], [8, 2, 0, 0, 0]])
    target = torch.tensor([[9, 10, 2, 0, 0], [11, 12, 13, 2, 0]])
    return source, torch.tensor([4, 2]), target, torch.tensor([3, 4])


EXAMPLES: dict[str, Callable[[], tuple[Any, Any]]] = {
    "RNNLanguageModel": _language_model("RNNLanguageModel"),
    "GRULanguageModel": _language_model("GRULanguageModel"),
    "RecurrentLanguageModel": _language_model("RecurrentLanguageModel"),
    "LSTMLanguageModel": _language_model("LSTMLanguageModel"),
    "SoftmaxRegression": _image_classifier("SoftmaxRegression", 28),
    "MLP": _image_classifier("MLP", 28, hidden_sizes=(16, 8), dropout=(0.2, 0.5)),
    "LeNet": _image_classifier("LeNet", 28),
    "LeNetBN": _image_classifier("LeNetBN", 28),
    "AlexNet": _image_classifier("AlexNet", 67, fc_hidden=32),
    "VGG": _image_classifier("VGG", 32, ratio=16, fc_hidden=64),
    "NiN": _image_classifier("NiN", 67),
    "GoogLeNet": _image_classifier("GoogLeNet", 32),
    "ResNet18": _image_classifier("ResNet18", 32, variant="d2l", in_channels=1),
    "DenseNet": _image_classifier("DenseNet", 32, growth_rate=8, block_sizes=(2, 2, 2, 2)),
    "RowRNNClassifier": _image_classifier("RowRNNClassifier", 28, hidden_size=16),
    "RowLSTMClassifier": _image_classifier("RowLSTMClassifier", 28, hidden_size=16),
    "LinearRegression": lambda: (zoo.LinearRegression(num_features=3, l2_lambda=0.1),
                                 (torch.randn(4, 3), torch.randn(4))),
    "SkipGram": lambda: (zoo.SkipGram(vocab=LM_VOCAB, embed_size=8),
                         (torch.tensor([[0], [3]]), torch.tensor([[1, 2, 5, 0], [4, 6, 7, 9]]),
                          torch.tensor([[1.0, 1, 1, 0], [1, 1, 1, 1]]), torch.tensor([[1.0, 0, 0, 0], [1, 1, 0, 0]]))),
    "SkipGramSGNS": lambda: (zoo.SkipGramSGNS(vocab=LM_VOCAB, embed_size=8),
                             (torch.tensor([0, 3, 5, 1]), torch.tensor([1, 2, 4, 0]), torch.tensor([[6, 7], [8, 9]]))),
    "BiRNN": lambda: (zoo.BiRNN(vocab=TEXT_VOCAB, embed_size=8, num_hiddens=6),
                      (torch.randint(0, 12, (2, 7)), torch.tensor([7, 4]), torch.tensor([1, 0]))),
    "TextCNN": lambda: (zoo.TextCNN(vocab=TEXT_VOCAB, embed_size=8, num_channels=(4, 4, 4)),
                        (torch.randint(0, 12, (2, 7)), torch.tensor([7, 4]), torch.tensor([1, 0]))),
    "Seq2Seq": lambda: (zoo.Seq2Seq(src_vocab=MT_VOCAB, tgt_vocab=MT_VOCAB, embed_size=8, num_hiddens=6),
                        _translation_batch()),
    "Seq2SeqAttention": lambda: (zoo.Seq2SeqAttention(src_vocab=MT_VOCAB, tgt_vocab=MT_VOCAB, embed_size=8,
                                                      num_hiddens=6, attention_size=4), _translation_batch()),
    "PositionwiseTranslator": lambda: (zoo.PositionwiseTranslator(vocab=["", *LM_VOCAB], max_len=5, embed_size=8,
                                                                  hidden_size=6),
                                       (torch.randint(0, 11, (2, 5)), torch.randint(0, 11, (2, 5)))),
}


def save_checkpoint(model: L.LightningModule, path: Path, batch: Any = None) -> Path:
    """Write ``model`` to ``path`` as a Trainer does: after one training step on ``batch``, or untrained (the
    initial weights) when ``batch`` is None."""
    trainer = L.Trainer(max_steps=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, accelerator="cpu", default_root_dir=path.parent)
    if batch is None:
        trainer.strategy.connect(model)
    else:
        trainer.fit(model, DataLoader([batch], batch_size=None))
    trainer.save_checkpoint(path)
    return path


def one_step_checkpoint(architecture: str, path: Path) -> Path:
    """A checkpoint of the `EXAMPLES` model of ``architecture`` after one training step, written to ``path``."""
    model, batch = EXAMPLES[architecture]()
    return save_checkpoint(model, path, batch)


def as_written_by_lightningcli(path: Path, class_path: str) -> Path:
    """Rewrite the checkpoint at ``path`` with the ``_class_path`` and ``_instantiator`` hyperparameters LightningCLI
    adds to the checkpoints it writes (and the zoo's recipes wrote before they were loaded without it)."""
    checkpoint = torch.load(path, weights_only=False)
    checkpoint["hyper_parameters"].update(_class_path=class_path,
                                          _instantiator="lightning.pytorch.cli.instantiate_module")
    torch.save(checkpoint, path)
    return path
