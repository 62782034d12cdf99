"""Character- and word-level recurrent language models of book chapter 6: one LightningModule, its cell by name.

`RecurrentLanguageModel` is `zoo.tasks.language_model.LanguageModelTask` (training, perplexity, clipping,
generation; its arguments are documented there) plus the arguments of its network,
`zoo.nets.recurrent_lm.RecurrentLM`. `RNNLanguageModel`, `GRULanguageModel` and `LSTMLanguageModel` are the same
class with the cell of their book section chosen (the catalogue's ``rnn``, ``gru`` and ``lstm``); they add nothing
else.

>>> dm = JayChouLyricsDataModule()                        # doctest: +SKIP
>>> model = GRULanguageModel(vocab=dm.vocab, lr=1e-2)      # doctest: +SKIP
>>> L.Trainer(max_epochs=160).fit(model, dm)               # doctest: +SKIP
>>> model.generate("分开", 50)                              # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from torch import nn

from zoo.errors import ConfigError
from zoo.nets.recurrent import Cell, RecurrentImpl
from zoo.nets.recurrent_lm import RecurrentLM
from zoo.tasks.language_model import LanguageModelTask

__all__ = ["GRULanguageModel", "LSTMLanguageModel", "RNNLanguageModel", "RecurrentLanguageModel"]


class RecurrentLanguageModel(LanguageModelTask):
    """A recurrent language model: tokens -> embedding or one-hot -> recurrent layers -> next-token logits.

    Args:
        cell: ``"rnn"`` (Elman, tanh; book 6.4, 6.5), ``"gru"`` (6.7; Cho et al. 2014) or ``"lstm"`` (6.8;
            Hochreiter & Schmidhuber 1997).
        hidden_size: hidden units per direction (book: 256).
        num_layers: stacked recurrent layers (6.9).
        bidirectional: add a right-to-left half trained to predict the previous token (6.10; one layer only).
        impl: ``"fused"`` (``nn.RNN``/``nn.GRU``/``nn.LSTM``) or ``"scratch"`` (the book's equations).
        embedding_dim: ``None`` feeds one-hot vectors as the book does; an int learns an embedding of that size.
        dropout: dropout between stacked layers.
        init_std: ``None`` keeps PyTorch's initialisation; a float draws weights from N(0, init_std), biases zero
            (the book's from-scratch models: 0.01).
        hidden_bias: ``False`` holds the hidden-side biases at zero (one bias per gate, as the book's scratch models).
    """

    def __init__(self, *, cell: Cell = "gru", hidden_size: int = 256, num_layers: int = 1, bidirectional: bool = False,
                 impl: RecurrentImpl = "fused", embedding_dim: int | None = None, dropout: float = 0.0,
                 init_std: float | None = None, hidden_bias: bool = True, **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        if hp.bidirectional and hp.num_layers > 1:
            raise ConfigError("a stacked bidirectional RNN feeds both directions of layer 1 into each direction of "
                              "layer 2, so a next-token objective would see the answer; use num_layers=1 with "
                              "bidirectional=True, or use zoo.nets.recurrent_lm.RecurrentLM as an encoder elsewhere")
        return RecurrentLM(len(self.vocab), hp.cell, hp.hidden_size, hp.num_layers, hp.bidirectional, hp.impl,
                           hp.embedding_dim, hp.dropout, hp.init_std, hp.hidden_bias)


class RNNLanguageModel(RecurrentLanguageModel):
    """Elman RNN language model, tanh hidden state (book 6.4 from scratch, 6.5 with ``nn.RNN``)."""

    def __init__(self, *, cell: Cell = "rnn", **options: Any) -> None:
        super().__init__(cell=cell, **options)


class GRULanguageModel(RecurrentLanguageModel):
    """Gated recurrent unit language model (book 6.7; Cho et al. 2014, https://arxiv.org/abs/1406.1078)."""

    def __init__(self, *, cell: Cell = "gru", **options: Any) -> None:
        super().__init__(cell=cell, **options)


class LSTMLanguageModel(RecurrentLanguageModel):
    """Long short-term memory language model (book 6.8; Hochreiter & Schmidhuber 1997)."""

    def __init__(self, *, cell: Cell = "lstm", **options: Any) -> None:
        super().__init__(cell=cell, **options)
