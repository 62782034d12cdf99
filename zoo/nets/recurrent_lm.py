"""Recurrent language-model network: token input, a recurrent stack, a linear head over the vocabulary.

This is the book's ``RNNModel`` (6.5) generalised: one-hot input as in the book or a learned embedding, any of the
three cells, fused or from scratch (`zoo.nets.recurrent`), several layers (6.9) and a bidirectional variant (6.10).

A bidirectional network is trained as two language models sharing the input layer, in the manner of ELMo
(Peters et al. 2018, https://arxiv.org/abs/1802.05365): the left-to-right half predicts the next token, the
right-to-left half the previous one. Its `encode` output, both halves concatenated, is what an encoder passes on.

One-hot input without the one-hot matrix: the first layer's input projection of a one-hot vector,
``one_hot(x) @ W_ih.T + b_ih``, is column ``x`` of ``W_ih`` plus ``b_ih``, so on the CPU (and for the scratch layers
anywhere) the network looks those columns up and runs the recurrence over them (`_lookup_recurrence`) instead of
building a (T, B, V) one-hot tensor and multiplying it out. The parameters are the same tensors under the same names,
the forward values are the one-hot product's (exactly: a product with a single 1 and zeros rounds nothing) and the
gradients agree to float rounding (tested); for the book's GRU it saves about a third of a training step. With
``nn.GRU`` & co. on a GPU the one-hot input still goes through the fused cuDNN kernel, which is faster there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zoo.nets.recurrent import Cell, RecurrentImpl, ScratchRecurrent, gru_cell, lstm_cell, make_recurrent, rnn_cell

__all__ = ["RecurrentLM"]


class RecurrentLM(nn.Module):
    """Next-token logits from a recurrent network (book 6.4/6.5/6.7/6.8).

    Args:
        vocab_size: size of the token vocabulary (input and output).
        cell: ``"rnn"``, ``"gru"`` or ``"lstm"``.
        hidden_size: hidden units per direction (book: 256).
        num_layers: stacked recurrent layers.
        bidirectional: add a right-to-left half (see the module docstring).
        impl: ``"fused"`` (``nn.GRU`` etc.) or ``"scratch"`` (the book's equations).
        embedding_dim: ``None`` feeds one-hot vectors as the book does; an int learns an embedding of that size.
        dropout: dropout between stacked layers.
        init_std: ``None`` keeps PyTorch's initialisation; a float draws every weight from N(0, init_std) and
            zeroes every bias, as the book's from-scratch models do (std 0.01).
        hidden_bias: ``False`` holds the hidden-side biases (``bias_hh_*``) at zero, leaving one bias per gate as the
            book's from-scratch models have (6.4.2, 6.7.3, 6.8.3); the state-dict keys stay PyTorch's.
    """

    def __init__(
        self,
        vocab_size: int,
        cell: Cell = "gru",
        hidden_size: int = 256,
        num_layers: int = 1,
        bidirectional: bool = False,
        impl: RecurrentImpl = "fused",
        embedding_dim: int | None = None,
        dropout: float = 0.0,
        init_std: float | None = None,
        hidden_bias: bool = True,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.bidirectional = bidirectional
        self.embedding = nn.Embedding(vocab_size, embedding_dim) if embedding_dim else None
        self.rnn = make_recurrent(cell, impl, embedding_dim or vocab_size, hidden_size, num_layers, bidirectional,
                                  dropout)
        self.head = nn.Linear(hidden_size, vocab_size)
        self.head_backward = nn.Linear(hidden_size, vocab_size) if bidirectional else None
        if init_std is not None:
            for name, p in self.named_parameters():
                nn.init.normal_(p, 0.0, init_std) if "weight" in name else nn.init.zeros_(p)
        if not hidden_bias:
            for name, p in self.rnn.named_parameters():
                if name.startswith("bias_hh"):
                    nn.init.zeros_(p)
                    p.requires_grad_(False)

    def _inputs(self, tokens: torch.Tensor) -> torch.Tensor:
        steps = tokens.T  # (B, T) -> (T, B): the fused kernels are sequence-first
        if self.embedding is not None:
            return self.embedding(steps)  # (T, B, E)
        one_hot = torch.zeros(*steps.shape, self.vocab_size, device=tokens.device)
        return one_hot.scatter_(-1, steps.unsqueeze(-1), 1.0)  # (T, B, V)

    #: Compute one-hot input as a column lookup where that is faster (see the module docstring). Tracing and
    #: export (TorchScript, ONNX, torch.export) always take the one-hot path, which keeps the fused recurrent
    #: operator and a free sequence length in the exported graph.
    one_hot_lookup: bool = True

    def uses_lookup(self, tokens: torch.Tensor) -> bool:
        """Whether this input goes through the column lookup rather than a one-hot tensor."""
        if not self.one_hot_lookup or self.embedding is not None or not _lookup_supported(self.rnn):
            return False
        if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.onnx.is_in_onnx_export():
            return False
        if torch.compiler.is_exporting():
            return False
        return tokens.device.type == "cpu" or isinstance(self.rnn, ScratchRecurrent)

    def _features(self, tokens: torch.Tensor, state=None):
        """tokens (B, T) -> recurrent outputs (T, B, D*H) and the final state."""
        if self.uses_lookup(tokens):
            return _lookup_recurrence(self.rnn, tokens.T, state)
        return self.rnn(self._inputs(tokens), state)

    def encode(self, tokens: torch.Tensor, state=None):
        """Hidden features (B, T, D*H) and the final state, for use as an encoder."""
        features, state = self._features(tokens, state)  # (T, B, D*H)
        return features.transpose(0, 1), state

    def forward(self, tokens: torch.Tensor, state=None):
        """tokens (B, T) -> logits and the final state.

        Logits are (B, T, V) next-token scores, or for a bidirectional network (B, T, 2, V): index 0 scores the next
        token (left-to-right half), index 1 the previous token (right-to-left half).
        """
        features, state = self._features(tokens, state)  # (T, B, D*H)
        if self.head_backward is None:
            return self.head(features).transpose(0, 1), state  # (B, T, V)
        forward_half, backward_half = features.chunk(2, dim=-1)  # each (T, B, H)
        logits = torch.stack([self.head(forward_half), self.head_backward(backward_half)], dim=2)  # (T, B, 2, V)
        return logits.transpose(0, 1), state


# The cells in the operation order of PyTorch's CPU kernels for nn.RNN/nn.GRU/nn.LSTM (input side ``x``, hidden side
# ``hh`` = h W_hh^T + b_hh), so the lookup path of a fused layer follows the fused layer's rounding closely; the
# scratch layers keep the book's equations (`zoo.nets.recurrent`).
def _fused_rnn(x: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    return torch.tanh(F.linear(h, w_hh, b_hh) + x)


def _fused_gru(x: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    hr, hz, hn = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)  # each (B, H)
    xr, xz, xn = x.chunk(3, dim=-1)
    r = torch.sigmoid(hr + xr)
    z = torch.sigmoid(hz + xz)
    n = torch.tanh(xn + hn * r)
    return (h - n) * z + n


def _fused_lstm(x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor], w_hh: torch.Tensor,
                b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    h, c = state
    i, f, g, o = (F.linear(h, w_hh, b_hh) + x).chunk(4, dim=-1)  # each (B, H)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


_CELLS = {
    "fused": {"RNN_TANH": _fused_rnn, "GRU": _fused_gru, "LSTM": _fused_lstm},
    "scratch": {"rnn": rnn_cell, "gru": gru_cell, "lstm": lstm_cell},
}


def _lookup_supported(rnn: nn.Module) -> bool:
    if isinstance(rnn, ScratchRecurrent):
        return True
    return (isinstance(rnn, nn.RNNBase) and rnn.mode in _CELLS["fused"] and not rnn.batch_first
            and not rnn.proj_size and rnn.bias)


def _lookup_recurrence(rnn: nn.Module, steps: torch.Tensor, state=None):
    """``rnn(one_hot(steps), state)`` without the one-hot tensor, for ``nn.RNN``/``nn.GRU``/``nn.LSTM`` or a
    `ScratchRecurrent` (tanh RNNs, any layers and directions, sequence-first).

    steps: token ids (T, B). Layer 0 looks up its input projections (columns of ``weight_ih_l0``); later layers
    multiply as usual. Returns outputs (T, B, D*H) and the final state in the module's own format.
    """
    if not _lookup_supported(rnn):
        raise ValueError(f"the one-hot lookup needs a sequence-first tanh RNN, GRU or LSTM with biases and without "
                         f"projections, got {rnn}")
    cell = _CELLS["scratch" if isinstance(rnn, ScratchRecurrent) else "fused"][rnn.mode]
    lstm = rnn.mode in ("LSTM", "lstm")
    directions = 2 if rnn.bidirectional else 1
    batch = steps.shape[1]
    if state is None:
        zeros = rnn.weight_hh_l0.new_zeros(rnn.num_layers * directions, batch, rnn.hidden_size)
        state = (zeros, zeros) if lstm else zeros
    x = None
    final_h, final_c = [], []
    for layer in range(rnn.num_layers):
        if layer and rnn.dropout and rnn.training:
            x = F.dropout(x, rnn.dropout, training=True)
        outputs = []
        for d, suffix in enumerate(("", "_reverse")[:directions]):
            name = f"l{layer}{suffix}"
            w_ih, b_ih = getattr(rnn, f"weight_ih_{name}"), getattr(rnn, f"bias_ih_{name}")
            w_hh, b_hh = getattr(rnn, f"weight_hh_{name}"), getattr(rnn, f"bias_hh_{name}")
            # layer 0: one_hot(steps) @ W_ih^T is the columns of W_ih that the tokens pick
            projected = F.embedding(steps, w_ih.t().contiguous()) + b_ih if layer == 0 else F.linear(x, w_ih, b_ih)
            k = layer * directions + d
            carried = (state[0][k], state[1][k]) if lstm else state[k]
            per_step = projected.unbind(0)  # T tensors (B, G*H); unbind, unlike indexing, has one backward node
            order = range(len(per_step) - 1, -1, -1) if d else range(len(per_step))
            hidden = [None] * len(per_step)
            for t in order:
                carried = cell(per_step[t], carried, w_hh, b_hh)
                hidden[t] = carried[0] if lstm else carried
            outputs.append(torch.stack(hidden))  # (T, B, H)
            final_h.append(carried[0] if lstm else carried)
            if lstm:
                final_c.append(carried[1])
        x = outputs[0] if directions == 1 else torch.cat(outputs, dim=-1)  # (T, B, D*H)
    h_n = torch.stack(final_h)  # (L*D, B, H)
    return x, ((h_n, torch.stack(final_c)) if lstm else h_n)
