"""Encoder-decoder networks for translation (book 10.9, 10.11, 10.12): a GRU encoder, a GRU decoder with or without
additive attention, and one step of decoding at a time so that greedy and beam search can drive them.

* `Encoder` (10.12.2.1): embedding, then a multi-layer GRU; its outputs at every step are the attention's keys and
  values, its final state the decoder's first state.
* `AdditiveAttention` (10.11, 10.12.2.2): e = v^T tanh(W [h_enc ; s_dec]) with two bias-free linear layers
  (``2 * hidden -> attention_size -> 1``), softmax over the source steps; padded source steps get weight 0 (the
  book's code gives them weight too).
* `Decoder` (10.12.2.3): embedding of the previous target word, concatenated with a context vector, through a
  multi-layer GRU and a linear layer over the target vocabulary. The GRU's input size is embedding + hidden (the
  book writes ``2 * embed_size``, which works only because its sizes are equal). With attention the context is the
  attention over the encoder outputs given the decoder's top state; without (10.9), it is the encoder's final top
  state, the same at every step.

Shapes: tokens (B, T); encoder outputs (T, B, H); states (L, B, H); one decoder step maps (B,) to (B, V).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["AdditiveAttention", "Decoder", "Encoder", "Seq2SeqNet"]


class Encoder(nn.Module):
    """Embedding + GRU over the source tokens (book 10.12.2.1)."""

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, T) -> outputs (T, B, H) and final state (L, B, H); the state starts at zero."""
        return self.rnn(self.embedding(tokens.T))


class AdditiveAttention(nn.Module):
    """Additive (MLP) attention of book 10.11/10.12.2.2.

    With ``mask_padding`` (the default) padded keys get no weight; the book's code attends over them too (its
    ``attention_forward`` has no mask), which ``mask_padding=False`` reproduces.
    """

    def __init__(self, num_hiddens: int, attention_size: int, mask_padding: bool = True) -> None:
        super().__init__()
        self.mask_padding = mask_padding
        self.score = nn.Sequential(nn.Linear(2 * num_hiddens, attention_size, bias=False), nn.Tanh(),
                                   nn.Linear(attention_size, 1, bias=False))

    def forward(self, keys: torch.Tensor, query: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """keys (T, B, H), query (B, H), mask (T, B) of real steps -> context (B, H) and weights (T, B)."""
        queries = query.unsqueeze(0).expand_as(keys)  # (T, B, H)
        e = self.score(torch.cat((keys, queries), dim=2)).squeeze(2)  # (T, B)
        if mask is not None and self.mask_padding:
            e = e.masked_fill(~mask, float("-inf"))
        alpha = F.softmax(e, dim=0)  # over the source steps
        return (alpha.unsqueeze(2) * keys).sum(dim=0), alpha


class Decoder(nn.Module):
    """One decoding step at a time (book 10.12.2.3); ``attention_size=None`` gives the 10.9 decoder."""

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int,
                 attention_size: int | None = None, dropout: float = 0.0, mask_padding: bool = True) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.attention = AdditiveAttention(num_hiddens, attention_size, mask_padding) if attention_size else None
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.out = nn.Linear(num_hiddens, vocab_size)

    def forward(self, token: torch.Tensor, state: torch.Tensor, enc_outputs: torch.Tensor,
                enc_mask: torch.Tensor | None, enc_state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                                                 torch.Tensor | None]:
        """token (B,), state (L, B, H), encoder outputs (T, B, H), their mask (T, B), encoder final state (L, B, H)
        -> logits (B, V), the new state, and the attention weights (T, B) (None without attention)."""
        if self.attention is not None:
            context, weights = self.attention(enc_outputs, state[-1], enc_mask)  # (B, H), (T, B)
        else:
            context, weights = enc_state[-1], None  # 10.9: the source summarised once
        step_input = torch.cat((self.embedding(token), context), dim=1).unsqueeze(0)  # (1, B, E + H)
        output, state = self.rnn(step_input, state)  # (1, B, H)
        return self.out(output.squeeze(0)), state, weights


class Seq2SeqNet(nn.Module):
    """Encoder and decoder; `forward` is teacher forcing over a whole target batch.

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes.
        embed_size, num_hiddens, num_layers: book 10.12: 64, 64, 2.
        attention_size: size of the attention's hidden layer (book: 10); ``None`` for no attention (10.9).
        dropout: between the GRU layers (book: 0.5).
        mask_padding: the attention gives padded source steps no weight (the book's code does not mask them).
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embed_size: int = 64, num_hiddens: int = 64,
                 num_layers: int = 2, attention_size: int | None = 10, dropout: float = 0.0,
                 mask_padding: bool = True) -> None:
        super().__init__()
        self.encoder = Encoder(src_vocab_size, embed_size, num_hiddens, num_layers, dropout)
        self.decoder = Decoder(tgt_vocab_size, embed_size, num_hiddens, num_layers, attention_size, dropout,
                               mask_padding)

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encoder outputs (T, B, H), final state (L, B, H) and the mask of real source steps (T, B)."""
        outputs, state = self.encoder(src)
        mask = torch.arange(src.shape[1], device=src.device)[:, None] < src_len[None, :]  # (T, B)
        return outputs, state, mask

    def forward(self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Logits (B, T', V) of every target step, fed the true previous words ``tgt_in`` (B, T') (teacher forcing;
        ``tgt_in[:, 0]`` is ``<bos>``)."""
        outputs, enc_state, mask = self.encode(src, src_len)
        state, logits = enc_state, []  # the decoder starts from the encoder's final state
        for token in tgt_in.T:  # (B,) per step
            step_logits, state, _ = self.decoder(token, state, outputs, mask, enc_state)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)  # (B, T', V)
