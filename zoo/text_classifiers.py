"""The sentiment classifiers of book 10.7 and 10.8, as LightningModules.

Each class is `zoo.tasks.text_classification.TextClassificationTask` (loss, accuracy, pretrained embeddings,
``classify``; its arguments are documented there) plus its network's keyword-only arguments; the networks are in
`zoo.nets.birnn` and `zoo.nets.textcnn`.

>>> dm = IMDbDataModule(batch_size=64)                                                       # doctest: +SKIP
>>> model = BiRNN(vocab=dm.vocab, embedding="glove.6B.100d", freeze_embedding=True, lr=0.01)  # doctest: +SKIP
>>> L.Trainer(max_epochs=5).fit(model, dm)                                                   # doctest: +SKIP
>>> model.classify(["this movie is so great"])                                               # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from torch import nn

from zoo.nets.birnn import BiRNNNet
from zoo.nets.textcnn import TextCNNNet
from zoo.tasks.text_classification import TextClassificationTask

__all__ = ["BiRNN", "TextCNN"]


class BiRNN(TextClassificationTask):
    """Bidirectional LSTM over the embedded review; the first and last steps' outputs feed a linear layer (book 10.7).

    Args:
        embed_size: embedding size (book: 100, the GloVe vectors').
        num_hiddens: LSTM units per direction (book: 100).
        num_layers: stacked layers (book: 2).
        packed: read packed sequences of each review's length instead of the padded batch (not the book's).
    """

    def __init__(self, *, embed_size: int = 100, num_hiddens: int = 100, num_layers: int = 2, packed: bool = False,
                 **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return BiRNNNet(len(self.vocab), hp.embed_size, hp.num_hiddens, hp.num_layers, len(hp.classes), hp.packed)


class TextCNN(TextClassificationTask):
    """textCNN (book 10.8): a trained and a fixed embedding, Conv1d of widths ``kernel_sizes``, max-over-time
    pooling, dropout and a linear layer.

    Args:
        embed_size: size of each embedding (book: 100).
        kernel_sizes: convolution widths (book: 3, 4, 5).
        num_channels: channels of each convolution (book: 100 each).
        dropout: dropout before the linear layer (book: 0.5).
    """

    def __init__(self, *, embed_size: int = 100, kernel_sizes: tuple[int, ...] = (3, 4, 5),
                 num_channels: tuple[int, ...] = (100, 100, 100), dropout: float = 0.5, **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return TextCNNNet(len(self.vocab), hp.embed_size, hp.kernel_sizes, hp.num_channels, hp.dropout,
                          len(hp.classes), self.vocab.index("<pad>"))
