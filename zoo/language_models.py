"""Character- and word-level recurrent language models of book chapter 6, one LightningModule per cell.

Each class is `zoo.tasks.language_model.LanguageModelTask` with its cell fixed; every argument (``impl`` for the
from-scratch cells, ``num_layers``, ``bidirectional``, ``embedding_dim``, ...) is documented there.

>>> dm = JayChouLyricsDataModule()                        # doctest: +SKIP
>>> model = GRULanguageModel(vocab=dm.vocab, lr=1e-2)      # doctest: +SKIP
>>> L.Trainer(max_epochs=160).fit(model, dm)               # doctest: +SKIP
>>> model.generate("分开", 50)                              # doctest: +SKIP
"""

from __future__ import annotations

from zoo.tasks.language_model import LanguageModelTask

__all__ = ["GRULanguageModel", "LSTMLanguageModel", "RNNLanguageModel"]


class RNNLanguageModel(LanguageModelTask):
    """Elman RNN language model, tanh hidden state (book 6.4 from scratch, 6.5 with ``nn.RNN``)."""

    cell = "rnn"


class GRULanguageModel(LanguageModelTask):
    """Gated recurrent unit language model (book 6.7; Cho et al. 2014, https://arxiv.org/abs/1406.1078)."""

    cell = "gru"


class LSTMLanguageModel(LanguageModelTask):
    """Long short-term memory language model (book 6.8; Hochreiter & Schmidhuber 1997)."""

    cell = "lstm"
