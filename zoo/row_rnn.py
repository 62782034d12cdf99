"""Images read row by row by a recurrent network (the RNN tutorial, "五、其他神经网络架构": MNIST with ``nn.RNN`` and
``nn.LSTM``), as image classifiers.

Each class is `zoo.tasks.classification.ImageClassificationTask` plus its keyword-only network arguments; the
network is `zoo.nets.row_encoder.RowClassifierNet`: the image's rows are the time steps, the top layer's last hidden
state goes through a linear layer.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from zoo.nets.recurrent import RecurrentImpl
from zoo.nets.row_encoder import RowClassifierNet
from zoo.tasks.classification import ImageClassificationTask

__all__ = ["RowLSTMClassifier", "RowRNNClassifier"]


def _row_net(hp, cell: str) -> nn.Module:
    return RowClassifierNet(cell, hp.in_channels, hp.image_size, hp.num_classes, hp.hidden_size, hp.num_layers,
                            hp.impl)


class RowRNNClassifier(ImageClassificationTask):
    """Each image row is one time step of a tanh RNN (the RNN tutorial: ``nn.RNN(28, 100, num_layers=2)``); the last
    step's hidden state goes to a linear layer. ``impl="scratch"`` uses the hand-written recurrent layer."""

    def __init__(self, *, hidden_size: int = 100, num_layers: int = 2, impl: RecurrentImpl = "fused",
                 **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        return _row_net(self.hparams, "rnn")


class RowLSTMClassifier(ImageClassificationTask):
    """Each image row is one time step of an LSTM (the RNN tutorial: ``nn.LSTM`` with 100 hidden units, one layer)."""

    def __init__(self, *, hidden_size: int = 100, num_layers: int = 1, impl: RecurrentImpl = "fused",
                 **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        return _row_net(self.hparams, "lstm")
