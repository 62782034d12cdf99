"""word2vec (book 10.3): the skip-gram model trained with negative sampling, as a LightningModule.

`SkipGram` is `zoo.tasks.word_embedding.WordEmbeddingTask` (loss, metrics, ``similar``/``analogy``, export; its
arguments are documented there) plus the vector size; the network is `zoo.nets.skip_gram.SkipGramNet`.

>>> dm = PTBDataModule()                                       # doctest: +SKIP
>>> model = SkipGram(vocab=dm.vocab, embed_size=100, lr=0.01)  # doctest: +SKIP
>>> L.Trainer(max_epochs=10).fit(model, dm)                    # doctest: +SKIP
>>> model.similar("chip", 3)                                   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from torch import nn

from zoo.nets.skip_gram import SkipGramNet
from zoo.tasks.word_embedding import WordEmbeddingTask

__all__ = ["SkipGram"]


class SkipGram(WordEmbeddingTask):
    """Skip-gram with negative sampling (book 10.3.4; Mikolov et al. 2013): two embedding tables, centre and context,
    of ``embed_size`` (book: 100); the centre vectors are the word vectors."""

    def __init__(self, *, embed_size: int = 100, **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        return SkipGramNet(len(self.vocab), self.hparams.embed_size)
