"""Images read row by row by a recurrent network (the RNN tutorial, "五、其他神经网络架构": MNIST with ``nn.RNN`` and
``nn.LSTM``).

A 28x28 image becomes a sequence of 28 time steps with 28 pixels each (``images.view(-1, 28, 28)``); the hidden
state after the last row goes through a linear layer to the class scores (``self.fc(out[:, -1, :])``). The tutorial uses
``nn.RNN(28, 100, num_layers=2, batch_first=True)`` and an ``nn.LSTM`` with 100 hidden units, starting from zero
states. With several channels each step sees the row of every channel (``C * W`` inputs).
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.nets.recurrent import Cell, RecurrentImpl, make_recurrent

__all__ = ["RowClassifierNet", "RowEncoder"]


class RowEncoder(nn.Module):
    """(B, C, H, W) images -> (B, hidden_size): the top layer's hidden state after the last row."""

    def __init__(self, cell: Cell, input_size: int, hidden_size: int = 100, num_layers: int = 2,
                 impl: RecurrentImpl = "fused") -> None:
        super().__init__()
        self.input_size = input_size
        self.rnn = make_recurrent(cell, impl, input_size, hidden_size, num_layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        if c * w != self.input_size:
            raise ValueError(f"each row of a {c}x{h}x{w} image has {c * w} values, but the network reads "
                             f"{self.input_size} per step")
        rows = x.permute(2, 0, 1, 3).reshape(h, b, c * w)  # (B, C, H, W) -> (T=H, B, C*W)
        out, _ = self.rnn(rows)  # (T, B, hidden), zero initial state
        return out[-1]  # (B, hidden)


class RowClassifierNet(nn.Module):
    """`RowEncoder` then a linear layer.

    Args:
        cell: ``"rnn"`` (the RNN tutorial: 2 layers) or ``"lstm"`` (the RNN tutorial: 1 layer); ``"gru"`` works too.
        in_channels, image_size: input images are (in_channels, image_size, image_size); ``image_size`` steps of
            ``in_channels * image_size`` values.
        num_classes: output classes.
        hidden_size: units per layer (the RNN tutorial: 100).
        num_layers: stacked layers.
        impl: ``"fused"`` (``nn.RNN``/``nn.LSTM``) or ``"scratch"`` (`zoo.nets.recurrent.ScratchRecurrent`).
    """

    def __init__(self, cell: Cell = "rnn", in_channels: int = 1, image_size: int = 28, num_classes: int = 10,
                 hidden_size: int = 100, num_layers: int = 2, impl: RecurrentImpl = "fused") -> None:
        super().__init__()
        self.features = RowEncoder(cell, in_channels * image_size, hidden_size, num_layers, impl)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, num_classes)
        return self.head(self.features(x))
