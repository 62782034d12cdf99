"""The skip-gram model of word2vec (book 10.3.4; Mikolov et al. 2013, "Distributed representations of words and
phrases and their compositionality", https://arxiv.org/abs/1310.4546).

Two embedding tables: ``center`` (the book's ``embed_v``, the vectors used afterwards as the word vectors) and
``context`` (``embed_u``). The score of a centre and a context or noise word is the inner product of their
vectors; the book computes a batch of them with ``torch.bmm`` (10.3.4.3).

`skip_gram_scores` computes the same scores with a hand-written backward: the gradient of each table is built with one
``index_add_`` instead of PyTorch's generic embedding backward, no batched matrix-vector product is needed, and the
padded positions of a batch (more than half of the book's rows) are skipped. The gradients equal autograd's through
``bmm`` (tested with ``gradcheck``); bench/word2vec_ptb.py measures the time.

`SGNSNet` is the same model as word2vec.c trains it (`zoo.SkipGramSGNS`): an ``input`` table (word2vec.c's
``syn0``, the word vectors, drawn uniformly in +-0.5 / D) and an ``output`` table (``syn1neg``, zeros), trained
by plain SGD on the rows a batch touches, never by autograd. A batch is word2vec.c's pairs: input words (B,) (the
context words), their targets (B,) (the centres) and noise words (B / G, K) shared by G consecutive pairs. Its loss
is the sum over pairs of -log sigmoid(<in, out_target>) - sum_k log sigmoid(-<in, out_noise_k>); `sgns_rows`
computes it and the gradient rows of the two tables by hand (the scores of a group against its noise words are one
batched matrix product), already multiplied by -lr, and `add_rows` adds them to the tables in place: word2vec.c's
update, applied to a batch of pairs at once.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SGNSNet", "SGNSRows", "SkipGramNet", "add_rows", "sgns_loss", "sgns_rows", "skip_gram_scores"]


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


class SGNSRows(NamedTuple):
    """What `sgns_rows` returns: the batch's summed loss (a 0-d tensor, before the update) and the update of each table
    as rows to add: ``input_rows`` (N,) with ``input_update`` (N, D), ``output_rows`` (M,) with ``output_update``
    (M, D) (a row may repeat: its updates add up)."""

    loss: torch.Tensor
    input_rows: torch.Tensor
    input_update: torch.Tensor
    output_rows: torch.Tensor
    output_update: torch.Tensor


def sgns_rows(input_weight: torch.Tensor, output_weight: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor,
              noise: torch.Tensor, scale: float = 1.0, noise_weight: float = 1.0) -> SGNSRows:
    """The summed skip-gram negative-sampling loss of a batch and ``scale`` times its gradient, as rows of the tables.

    Args:
        input_weight, output_weight: the tables (V, D); only read.
        inputs, targets: (B,) word ids of each pair (word2vec.c: the context word, and the centre it predicts).
        noise: (B / G, K) noise words; pair ``i`` is scored against row ``i // G``, G = B / len(noise).
        scale: factor of the gradient rows: ``-lr`` makes them the SGD update.

    Loss: sum_i [-log sigmoid(s_i) - sum_k log sigmoid(-n_ik)], s_i = <in_i, out_target_i>, n_ik = <in_i,
    out_noise_ik>. Gradient: d/ds_i = sigmoid(s_i) - 1, d/dn_ik = sigmoid(n_ik); in_i gets d/ds_i out_target_i +
    sum_k d/dn_ik out_noise_ik, out_target_i gets d/ds_i in_i, out_noise_k of group g gets sum_{i in g} d/dn_ik in_i.
    """
    batch, dim = inputs.shape[0], input_weight.shape[1]
    groups, k = noise.shape
    if groups == 0 or batch % groups:
        raise ValueError(f"{batch} pairs do not split into {groups} groups of noise words")
    size = batch // groups
    v = input_weight.index_select(0, inputs)  # (B, D)
    u = output_weight.index_select(0, targets)  # (B, D)
    noise_rows = noise.reshape(-1)
    u_noise = output_weight.index_select(0, noise_rows).view(groups, k, dim)  # (G', K, D)
    positive = torch.einsum("bd,bd->b", v, u)  # (B,)
    v_groups = v.view(groups, size, dim)
    negative = torch.bmm(v_groups, u_noise.transpose(1, 2))  # (G', size, K)
    loss = -(F.logsigmoid(positive).sum() + noise_weight * F.logsigmoid(negative.neg()).sum())
    d_positive = torch.sigmoid(positive).sub_(1).mul_(scale)  # (B,)
    d_negative = torch.sigmoid(negative).mul_(scale * noise_weight)  # (G', size, K)
    input_update = torch.baddbmm(u.mul_(d_positive[:, None]).view(groups, size, dim), d_negative, u_noise)
    output_update = v.new_empty(batch + noise_rows.shape[0], dim)
    torch.mul(v, d_positive[:, None], out=output_update[:batch])
    torch.bmm(d_negative.transpose(1, 2), v_groups, out=output_update[batch:].view(groups, k, dim))
    return SGNSRows(loss, inputs, input_update.view(batch, dim), torch.cat([targets, noise_rows]), output_update)


def sgns_loss(input_weight: torch.Tensor, output_weight: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor,
              noise: torch.Tensor) -> torch.Tensor:
    """The summed loss of `sgns_rows` alone (held-out text): no gradient rows."""
    groups, k = noise.shape
    v = input_weight.index_select(0, inputs)
    positive = torch.einsum("bd,bd->b", v, output_weight.index_select(0, targets))
    u_noise = output_weight.index_select(0, noise.reshape(-1)).view(groups, k, -1)
    negative = torch.bmm(v.view(groups, -1, v.shape[1]), u_noise.transpose(1, 2))
    return -(F.logsigmoid(positive).sum() + F.logsigmoid(negative.neg()).sum())


def add_rows(weight: torch.Tensor, rows: torch.Tensor, update: torch.Tensor) -> None:
    """``weight[rows[i]] += update[i]`` for every i, repeated rows adding up (in place, no autograd)."""
    with torch.no_grad():
        weight.index_add_(0, rows, update)


class SGNSNet(nn.Module):
    """word2vec.c's skip-gram tables, trained by `sgns_rows` and `add_rows` (no autograd: the parameters do not
    require gradients).

    Args:
        vocab_size: words in the vocabulary.
        embed_size: vector size (word2vec.c's ``size``; 100 here).
    """

    def __init__(self, vocab_size: int, embed_size: int = 100) -> None:
        super().__init__()
        self.input = nn.Embedding(vocab_size, embed_size)  # syn0: the word vectors
        self.output = nn.Embedding(vocab_size, embed_size)  # syn1neg
        self.reset_parameters()
        self.requires_grad_(False)

    def reset_parameters(self) -> None:
        """word2vec.c's start: input vectors uniform in [-0.5 / D, 0.5 / D), output vectors 0."""
        bound = 0.5 / self.input.embedding_dim
        with torch.no_grad():
            self.input.weight.uniform_(-bound, bound)
            self.output.weight.zero_()

    def forward(self, centers: torch.Tensor, contexts_negatives: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (B, 1, L) of words (B, 1) against words (B, L), as `SkipGramNet` (input vectors against output
        vectors; the pairs are symmetric), for the book's batches."""
        scores = skip_gram_scores(centers, contexts_negatives, self.input.weight, self.output.weight, mask)
        return scores.unsqueeze(1)

    def rows(self, inputs: torch.Tensor, targets: torch.Tensor, noise: torch.Tensor, scale: float = 1.0) -> SGNSRows:
        """`sgns_rows` of a batch of pairs with these tables."""
        return sgns_rows(self.input.weight, self.output.weight, inputs, targets, noise, scale)

    def loss(self, inputs: torch.Tensor, targets: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """`sgns_loss` of a batch of pairs with these tables."""
        return sgns_loss(self.input.weight, self.output.weight, inputs, targets, noise)

    def add(self, rows: SGNSRows, table: str | None = None) -> None:
        """Add the update rows to the tables (``table``: only ``"input"`` or ``"output"``)."""
        if table in (None, "input"):
            add_rows(self.input.weight, rows.input_rows, rows.input_update)
        if table in (None, "output"):
            add_rows(self.output.weight, rows.output_rows, rows.output_update)

    #: The state-dict key of the word vectors (a word-embedding checkpoint records it).
    word_vectors_key = "input.weight"

    def word_vectors(self) -> torch.Tensor:
        """The input vectors (V, D), word2vec.c's output file."""
        return self.input.weight.detach()
