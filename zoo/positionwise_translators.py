"""The layers tutorial's translator comparison as a LightningModule: one class, the cell chosen by name.

`PositionwiseTranslator` is `zoo.tasks.positionwise_translation.PositionwiseTranslationTask` plus the network's
keyword-only arguments; ``python -m zoo translator-study`` trains the four (ERNN, LSTM, GRU, DNN) and draws the
tutorial's figures.
"""

from __future__ import annotations

from typing import Any, Literal

from torch import nn

from zoo.nets.positionwise_translator import PositionwiseTranslatorNet
from zoo.tasks.positionwise_translation import PositionwiseTranslationTask

__all__ = ["PositionwiseTranslator"]


class PositionwiseTranslator(PositionwiseTranslationTask):
    """The tutorial's ``Translator``: word vectors, then an ERNN (``cell="rnn"``), LSTM, GRU or DNN, then a linear layer
    and log-softmax at every position.

    Args:
        cell: ``rnn``, ``lstm``, ``gru`` or ``dnn``.
        embed_size: word-vector size (the tutorial: 128, its GloVe file's).
        hidden_size: hidden units (the tutorial: 128).
        initial_state: ``random`` (the tutorial) or ``zeros``.
    """

    def __init__(self, *, cell: Literal["rnn", "lstm", "gru", "dnn"] = "gru", embed_size: int = 128,
                 hidden_size: int = 128, initial_state: Literal["random", "zeros"] = "random", **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return PositionwiseTranslatorNet(len(self.vocab), hp.cell, hp.embed_size, hp.hidden_size, hp.max_len,
                                    hp.initial_state, fixed_embedding=bool(hp.word_vectors))
