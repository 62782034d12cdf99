"""word2vec (book 10.3): the skip-gram model trained with negative sampling, as a LightningModule, two ways.

`SkipGram` is the book's: `zoo.tasks.word_embedding.WordEmbeddingTask` (loss, metrics, ``similar``/``analogy``,
export; its arguments are documented there) plus the vector size; the network is `zoo.nets.skip_gram.SkipGramNet`,
trained by autograd and Adam on both dense tables (recipe ``skipgram_ptb``).

`SkipGramSGNS` is the same model trained as word2vec.c and gensim train it: `zoo.tasks.word_embedding.SGNSTask`
(plain SGD on the rows a batch touches, the rate decaying linearly to ~0) on `zoo.nets.skip_gram.SGNSNet`, fed by
``PTBDataModule(pipeline="word2vec_c")`` (word2vec.c's subsampling, dynamic windows and unigram^0.75 noise table,
drawn again every epoch) (recipe ``skipgram_sgns_ptb``): in about gensim's time per epoch its vectors are as good as
gensim's (bench/word2vec_ptb.py).

>>> dm = PTBDataModule()                                       # doctest: +SKIP
>>> model = SkipGram(vocab=dm.vocab, embed_size=100, lr=0.01)  # doctest: +SKIP
>>> L.Trainer(max_epochs=10).fit(model, dm)                    # doctest: +SKIP
>>> model.similar("chip", 3)                                   # doctest: +SKIP
>>> dm = PTBDataModule(pipeline="word2vec_c", subsample_t=1e-3, batch_size=8192, noise_sharing=16)  # doctest: +SKIP
>>> model = SkipGramSGNS(vocab=dm.vocab, embed_size=100, lr=0.02)                                   # doctest: +SKIP
>>> L.Trainer(max_epochs=10, accelerator="cpu").fit(model, dm)                                      # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from torch import nn

from zoo.nets.skip_gram import SGNSNet, SkipGramNet
from zoo.tasks.word_embedding import SGNSTask, WordEmbeddingTask

__all__ = ["SkipGram", "SkipGramSGNS"]


class SkipGram(WordEmbeddingTask):
    """Skip-gram with negative sampling (book 10.3.4; Mikolov et al. 2013): two embedding tables, centre and context,
    of ``embed_size`` (book: 100); the centre vectors are the word vectors."""

    def __init__(self, *, embed_size: int = 100, **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        return SkipGramNet(len(self.vocab), self.hparams.embed_size)


class SkipGramSGNS(SGNSTask):
    """Skip-gram with negative sampling trained as word2vec.c trains it (Mikolov et al. 2013; gensim's
    ``Word2Vec(sg=1)``): input and output tables of ``embed_size`` (word2vec.c's ``size``), the input vectors
    uniform in +-0.5 / embed_size and the output vectors 0 at the start; the input vectors are the word vectors."""

    def __init__(self, *, embed_size: int = 100, **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        return SGNSNet(len(self.vocab), self.hparams.embed_size)
