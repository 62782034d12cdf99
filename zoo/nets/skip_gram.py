"""The skip-gram model of word2vec (book 10.3.4; Mikolov et al. 2013, "Distributed representations of words and
phrases and their compositionality", https://arxiv.org/abs/1310.4546).

Two embedding tables: ``center`` (the book's ``embed_v``, the vectors used afterwards as the word vectors) and
``context`` (``embed_u``). The score of a centre and a context or noise word is the inner product of their
vectors; the book computes a batch of them with ``torch.bmm`` (10.3.4.3).

`skip_gram_scores` computes the same scores with a hand-written backward: the gradient of each table is built with one
``index_add_`` instead of PyTorch's generic embedding backward, no batched matrix-vector product is needed, and the
padded positions of a batch (more than half of the book's rows) are skipped. The gradients equal autograd's through
``bmm`` (tested with ``gradcheck``); bench/word2vec_ptb.py measures the time.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SkipGramNet", "skip_gram_scores"]


class _SkipGramScores(torch.autograd.Function):
    """scores[b, l] = <center_weight[centers[b]], context_weight[words[b, l]]> where mask[b, l], else 0."""

    @staticmethod
    def forward(ctx, centers, words, mask, center_weight, context_weight):
        batch, length = words.shape
        flat = torch.arange(batch * length, device=words.device) if mask is None \
            else mask.reshape(-1).nonzero().squeeze(1)  # (N,) positions that are real words, not padding
        rows = flat // length  # (N,) the example of each position
        chosen = words.reshape(-1).index_select(0, flat)  # (N,)
        v = center_weight.index_select(0, centers.reshape(-1)).index_select(0, rows)  # (N, D)
        u = context_weight.index_select(0, chosen)  # (N, D)
        ctx.save_for_backward(centers, chosen, flat, rows, v, u)
        ctx.shapes = center_weight.shape, context_weight.shape, batch, length
        scores = (u * v).sum(-1)  # (N,)
        return scores.new_zeros(batch * length).index_copy_(0, flat, scores).view(batch, length)

    @staticmethod
    def backward(ctx, grad):  # grad (B, L)
        centers, chosen, flat, rows, v, u = ctx.saved_tensors
        center_shape, context_shape, batch, length = ctx.shapes
        g = grad.reshape(-1).index_select(0, flat).unsqueeze(1)  # (N, 1)
        per_example = grad.new_zeros(batch, center_shape[1]).index_add_(0, rows, g * u)  # (B, D)
        grad_center = grad.new_zeros(center_shape).index_add_(0, centers.reshape(-1), per_example)
        grad_context = grad.new_zeros(context_shape).index_add_(0, chosen, g * v)
        return None, None, None, grad_center, grad_context


def skip_gram_scores(centers: torch.Tensor, words: torch.Tensor, center_weight: torch.Tensor,
                     context_weight: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Scores (B, L) of centres (B,) or (B, 1) against words (B, L): the book's ``skip_gram`` without the bmm.

    With ``mask`` (B, L), padded positions (mask 0) are not computed: their score is 0 and they get no gradient,
    which a masked loss gives them anyway. In the book's batches about half of every row is padding.
    """
    return _SkipGramScores.apply(centers, words, mask, center_weight, context_weight)


class SkipGramNet(nn.Module):
    """Args:
        vocab_size: words in the vocabulary.
        embed_size: vector size (book: 100).
    """

    def __init__(self, vocab_size: int, embed_size: int = 100) -> None:
        super().__init__()
        self.center = nn.Embedding(vocab_size, embed_size)  # v: the word vectors
        self.context = nn.Embedding(vocab_size, embed_size)  # u

    def forward(self, centers: torch.Tensor, contexts_negatives: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """centres (B, 1) and contexts-and-noise words (B, L) -> scores (B, 1, L), as the book's ``skip_gram``; with
        ``mask`` (B, L) the padded positions are skipped (score 0, no gradient)."""
        scores = skip_gram_scores(centers, contexts_negatives, self.center.weight, self.context.weight, mask)
        return scores.unsqueeze(1)  # (B, L) -> (B, 1, L)

    #: The state-dict key of the word vectors (a word-embedding checkpoint records it).
    word_vectors_key = "center.weight"

    def word_vectors(self) -> torch.Tensor:
        """The centre vectors (V, D), the embedding the book queries after training."""
        return self.center.weight.detach()
