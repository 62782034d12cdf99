"""Encoder-decoder translators of book 10.9-10.12, as LightningModules.

Each class is `zoo.tasks.seq2seq.Seq2SeqTask` (teacher forcing, masked loss, BLEU, greedy and beam search; its
arguments are documented there) plus its network's keyword-only arguments; the network is
`zoo.nets.encoder_decoder.Seq2SeqNet`.

>>> dm = FraEngDataModule()                                                              # doctest: +SKIP
>>> model = Seq2SeqAttention(src_vocab=dm.src_vocab, tgt_vocab=dm.tgt_vocab, lr=0.01)     # doctest: +SKIP
>>> L.Trainer(max_epochs=50).fit(model, dm)                                              # doctest: +SKIP
>>> model.translate("ils regardent .").text                                              # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from torch import nn

from zoo.nets.encoder_decoder import Seq2SeqNet
from zoo.tasks.seq2seq import Seq2SeqTask

__all__ = ["Seq2Seq", "Seq2SeqAttention"]


class Seq2Seq(Seq2SeqTask):
    """GRU encoder-decoder without attention (book 10.9): the decoder reads the encoder's final state as its first
    state and the encoder's final top-layer state, concatenated to every input, as its context.

    Args:
        embed_size, num_hiddens, num_layers: book 10.12: 64, 64, 2.
        dropout: between GRU layers (book: 0.5).
    """

    def __init__(self, *, embed_size: int = 64, num_hiddens: int = 64, num_layers: int = 2, dropout: float = 0.5,
                 **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return Seq2SeqNet(len(hp.src_vocab), len(hp.tgt_vocab), hp.embed_size, hp.num_hiddens, hp.num_layers, None,
                          hp.dropout)


class Seq2SeqAttention(Seq2SeqTask):
    """GRU encoder-decoder with additive attention (book 10.11, 10.12).

    Args:
        embed_size, num_hiddens, num_layers: book 10.12: 64, 64, 2.
        attention_size: hidden units of the attention's scoring network (book: 10).
        dropout: between GRU layers (book: 0.5).
        mask_padding: padded source steps get no attention weight (default). The book's code attends over them
            too; ``seq2seq_attention_fr_en`` sets False to train as the book does (at seed 0: loss 0.0107 against
            0.0318 with the mask, book 0.025).
    """

    def __init__(self, *, embed_size: int = 64, num_hiddens: int = 64, num_layers: int = 2, attention_size: int = 10,
                 dropout: float = 0.5, mask_padding: bool = True, **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return Seq2SeqNet(len(hp.src_vocab), len(hp.tgt_vocab), hp.embed_size, hp.num_hiddens, hp.num_layers,
                          hp.attention_size, hp.dropout, hp.get("mask_padding", True))
