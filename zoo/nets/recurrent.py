"""Recurrent layers written from the book's equations, interchangeable with ``nn.RNN``/``nn.GRU``/``nn.LSTM``.

The cells follow book sections 6.4 (RNN), 6.7 (GRU) and 6.8 (LSTM) and the hand-written layers of tutorial 000
(section 2). `ScratchRecurrent` stores its parameters under the names and in the layout of PyTorch's fused modules
(``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse``; gate order r, z, n for the
GRU and i, f, g, o for the LSTM), so a state dict loads from one into the other and both compute the same outputs.

Differences from the book, both deliberate:

* PyTorch keeps two biases per gate (input side and hidden side); the book keeps one. With the book's zero
  initialisation their sum plays the role of the book's single bias.
* The GRU candidate state applies the reset gate after the hidden-state product,
  ``tanh(X W_xh + b_xh + R * (H W_hh + b_hh))``. That is what the book's code does (6.7.3.2) and what cuDNN does;
  the formula printed in 6.7.1.2 applies it before the product, ``(R * H) W_hh``.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

__all__ = ["Cell", "RecurrentImpl", "ScratchRecurrent", "gru_cell", "lstm_cell", "make_recurrent", "rnn_cell"]

Cell = Literal["rnn", "gru", "lstm"]
RecurrentImpl = Literal["fused", "scratch"]
_GATES = {"rnn": 1, "gru": 3, "lstm": 4}
_FUSED = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def rnn_cell(x_proj: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """H_t = tanh(X_t W_xh + H_{t-1} W_hh + b) (book 6.4.2); ``x_proj`` is X_t W_xh + b_xh, shape (B, H)."""
    return torch.tanh(x_proj + h @ w_hh.T + b_hh)


def gru_cell(x_proj: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """GRU step (book 6.7.1): reset gate R, update gate Z, candidate H~, H_t = Z * H_{t-1} + (1 - Z) * H~."""
    xr, xz, xn = x_proj.chunk(3, dim=-1)  # each (B, H)
    hr, hz, hn = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    candidate = torch.tanh(xn + r * hn)
    return z * h + (1 - z) * candidate


def lstm_cell(
    x_proj: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor], w_hh: torch.Tensor, b_hh: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """LSTM step (book 6.8.1): gates I, F, O, candidate memory C~; C_t = F * C + I * C~, H_t = O * tanh(C_t)."""
    h, c = state
    xi, xf, xg, xo = (x_proj + h @ w_hh.T + b_hh).chunk(4, dim=-1)  # each (B, H)
    i, f, o = torch.sigmoid(xi), torch.sigmoid(xf), torch.sigmoid(xo)
    c = f * c + i * torch.tanh(xg)
    return o * torch.tanh(c), c


class ScratchRecurrent(nn.Module):
    """A multi-layer, optionally bidirectional RNN/GRU/LSTM computed one time step at a time.

    Same constructor arguments (sequence-first only), forward signature and state-dict keys as ``nn.RNN``,
    ``nn.GRU`` and ``nn.LSTM``. The input projections of all time steps are computed in one matrix product
    before the loop, which gives the same numbers as doing it inside the loop, only faster.

    Args:
        mode: ``"rnn"`` (tanh), ``"gru"`` or ``"lstm"``.
        input_size: features per time step.
        hidden_size: hidden units per direction.
        num_layers: stacked layers (book 6.9).
        bidirectional: run a second layer right to left and concatenate (book 6.10).
        dropout: dropout on the outputs of every layer but the last, in training mode.
    """

    def __init__(
        self,
        mode: Cell,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"unknown recurrent cell {mode!r}; choose one of {sorted(_GATES)}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bidirectional, self.dropout = num_layers, bidirectional, dropout
        self.num_directions = 2 if bidirectional else 1
        width = _GATES[mode] * hidden_size
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes():
                name = f"l{layer}{suffix}"
                self.register_parameter(f"weight_ih_{name}", nn.Parameter(torch.empty(width, layer_in)))
                self.register_parameter(f"weight_hh_{name}", nn.Parameter(torch.empty(width, hidden_size)))
                self.register_parameter(f"bias_ih_{name}", nn.Parameter(torch.empty(width)))
                self.register_parameter(f"bias_hh_{name}", nn.Parameter(torch.empty(width)))
        self.reset_parameters()

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        """PyTorch's default: every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _run_direction(self, x: torch.Tensor, name: str, h0, reverse: bool):
        """One layer, one direction over x (T, B, I); returns outputs (T, B, H) and the final state."""
        w_ih, w_hh = getattr(self, f"weight_ih_{name}"), getattr(self, f"weight_hh_{name}")
        b_ih, b_hh = getattr(self, f"bias_ih_{name}"), getattr(self, f"bias_hh_{name}")
        x_proj = x @ w_ih.T + b_ih  # (T, B, G*H): the input side of every step at once
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        state, outputs = h0, [None] * x.shape[0]
        for t in steps:
            if self.mode == "lstm":
                state = lstm_cell(x_proj[t], state, w_hh, b_hh)
                outputs[t] = state[0]
            else:
                state = (rnn_cell if self.mode == "rnn" else gru_cell)(x_proj[t], state, w_hh, b_hh)
                outputs[t] = state
        return torch.stack(outputs), state

    def forward(self, x: torch.Tensor, hx=None):
        """x: (T, B, input_size); hx: (L*D, B, H), or (h, c) for the LSTM; returns (output (T, B, D*H), h_n)."""
        batch = x.shape[1]
        if hx is None:
            zeros = x.new_zeros(self.num_layers * self.num_directions, batch, self.hidden_size)
            hx = (zeros, zeros) if self.mode == "lstm" else zeros
        final_h, final_c = [], []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout and self.training:
                x = nn.functional.dropout(x, self.dropout, training=True)
            outs = []
            for d, suffix in enumerate(self._suffixes()):
                k = layer * self.num_directions + d
                h0 = (hx[0][k], hx[1][k]) if self.mode == "lstm" else hx[k]
                out, state = self._run_direction(x, f"l{layer}{suffix}", h0, reverse=d == 1)
                outs.append(out)
                if self.mode == "lstm":
                    final_h.append(state[0])
                    final_c.append(state[1])
                else:
                    final_h.append(state)
            x = torch.cat(outs, dim=-1)  # (T, B, D*H)
        h_n = torch.stack(final_h)  # (L*D, B, H)
        return x, ((h_n, torch.stack(final_c)) if self.mode == "lstm" else h_n)

    def extra_repr(self) -> str:
        return (f"{self.mode}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, dropout={self.dropout}")


def make_recurrent(
    cell: Cell,
    impl: RecurrentImpl,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
) -> nn.Module:
    """``nn.RNN``/``nn.GRU``/``nn.LSTM`` (``impl="fused"``) or their `ScratchRecurrent` twin (``"scratch"``)."""
    if cell not in _GATES:
        raise ValueError(f"unknown recurrent cell {cell!r}; choose one of {sorted(_GATES)}")
    if impl == "fused":
        return _FUSED[cell](input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                            dropout=dropout)
    if impl == "scratch":
        return ScratchRecurrent(cell, input_size, hidden_size, num_layers, bidirectional, dropout)
    raise ValueError(f"unknown implementation {impl!r}; choose 'fused' or 'scratch'")
