"""From-scratch cells (book 6.4/6.7/6.8) against nn.RNN/nn.GRU/nn.LSTM: same weights, same numbers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from zoo.nets.recurrent import ScratchRecurrent, make_recurrent
from zoo.nets.recurrent_lm import RecurrentLM

CASES = [(cell, layers, bi) for cell in ("rnn", "gru", "lstm") for layers, bi in ((1, False), (2, False), (2, True))]


def _pair(cell, layers, bi):
    torch.manual_seed(0)
    fused = make_recurrent(cell, "fused", 7, 5, layers, bi)
    scratch = make_recurrent(cell, "scratch", 7, 5, layers, bi)
    scratch.load_state_dict(fused.state_dict())
    return fused, scratch


def _initial_state(cell, layers, bi, batch=3):
    h = torch.randn(layers * (2 if bi else 1), batch, 5)
    return (h, torch.randn_like(h)) if cell == "lstm" else h


@pytest.mark.parametrize(("cell", "layers", "bi"), CASES)
def test_scratch_equals_fused_forward_and_backward(cell, layers, bi):
    fused, scratch = _pair(cell, layers, bi)
    x = torch.randn(6, 3, 7)  # (T, B, I)
    hx = _initial_state(cell, layers, bi)
    out_f, state_f = fused(x, hx)
    out_s, state_s = scratch(x, hx)
    assert out_s.shape == out_f.shape == (6, 3, 5 * (2 if bi else 1))
    torch.testing.assert_close(out_s, out_f, rtol=1e-5, atol=1e-6)
    for a, b in zip(state_s if cell == "lstm" else [state_s], state_f if cell == "lstm" else [state_f]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    (out_f.square().sum()).backward()
    (out_s.square().sum()).backward()
    grads_f = dict(fused.named_parameters())
    for name, p in scratch.named_parameters():
        torch.testing.assert_close(p.grad, grads_f[name].grad, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_state_dict_loads_both_ways(cell):
    fused, scratch = _pair(cell, 2, True)
    assert set(fused.state_dict()) == set(scratch.state_dict())
    fresh_fused = make_recurrent(cell, "fused", 7, 5, 2, True)
    fresh_fused.load_state_dict(scratch.state_dict())
    x = torch.randn(4, 2, 7)
    torch.testing.assert_close(fresh_fused(x)[0], scratch(x)[0], rtol=1e-5, atol=1e-6)


def test_language_model_nets_interchangeable():
    torch.manual_seed(0)
    fused = RecurrentLM(11, "gru", 8, impl="fused")
    scratch = RecurrentLM(11, "gru", 8, impl="scratch")
    scratch.load_state_dict(fused.state_dict())
    tokens = torch.randint(0, 11, (3, 9))
    torch.testing.assert_close(scratch(tokens)[0], fused(tokens)[0], rtol=1e-5, atol=1e-6)


def test_book_gru_candidate_equation():
    """One GRU step by the book's code (6.7.3.2): H~ = tanh(X W_xh + R * (H W_hh) + b_h)."""
    torch.manual_seed(0)
    layer = ScratchRecurrent("gru", 4, 3)
    for name, p in layer.named_parameters():
        if name.startswith("bias_hh"):
            nn.init.zeros_(p)  # the book has one bias per gate
    x, h = torch.randn(2, 4), torch.randn(2, 3)
    w_xr, w_xz, w_xh = layer.weight_ih_l0.T.chunk(3, dim=1)
    w_hr, w_hz, w_hh = layer.weight_hh_l0.T.chunk(3, dim=1)
    b_r, b_z, b_h = layer.bias_ih_l0.chunk(3)
    z = torch.sigmoid(x @ w_xz + h @ w_hz + b_z)
    r = torch.sigmoid(x @ w_xr + h @ w_hr + b_r)
    h_tilde = torch.tanh(x @ w_xh + r * (h @ w_hh) + b_h)
    expected = z * h + (1 - z) * h_tilde
    out, _ = layer(x.unsqueeze(0), h.unsqueeze(0))
    torch.testing.assert_close(out[0], expected)


def test_book_lstm_equations():
    torch.manual_seed(0)
    layer = ScratchRecurrent("lstm", 4, 3)
    x, h, c = torch.randn(2, 4), torch.randn(2, 3), torch.randn(2, 3)
    gates = x @ layer.weight_ih_l0.T + layer.bias_ih_l0 + h @ layer.weight_hh_l0.T + layer.bias_hh_l0
    i, f, g, o = gates.chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    out, (h_n, c_n) = layer(x.unsqueeze(0), (h.unsqueeze(0), c.unsqueeze(0)))
    torch.testing.assert_close(out[0], h_new)
    torch.testing.assert_close(c_n[0], c_new)


def test_book_init_std():
    net = RecurrentLM(50, "lstm", 64, impl="scratch", init_std=0.01)
    for name, p in net.named_parameters():
        if "bias" in name:
            assert torch.count_nonzero(p) == 0, name
        else:
            assert abs(p.std().item() - 0.01) < 0.002, name


def test_single_bias_per_gate_like_the_book():
    torch.manual_seed(0)
    net = RecurrentLM(6, "gru", 4, impl="scratch", init_std=0.01, hidden_bias=False)
    frozen = {n for n, p in net.named_parameters() if not p.requires_grad}
    assert frozen == {"rnn.bias_hh_l0"}
    logits, _ = net(torch.randint(0, 6, (2, 3)))
    logits.sum().backward()
    assert net.rnn.bias_hh_l0.grad is None and torch.count_nonzero(net.rnn.bias_hh_l0) == 0
    fused = RecurrentLM(6, "gru", 4, impl="fused")
    fused.load_state_dict(net.state_dict())  # same keys: the held-at-zero biases are ordinary entries


def test_one_hot_and_embedding_inputs():
    tokens = torch.tensor([[0, 3, 2]])
    one_hot_net = RecurrentLM(5, "rnn", 4)
    assert one_hot_net._inputs(tokens).shape == (3, 1, 5)
    assert one_hot_net._inputs(tokens)[:, 0].argmax(-1).tolist() == [0, 3, 2]
    embedded = RecurrentLM(5, "rnn", 4, embedding_dim=6)
    logits, _ = embedded(tokens)
    assert logits.shape == (1, 3, 5)


def test_bidirectional_net_shapes_and_encoder():
    net = RecurrentLM(9, "gru", 4, bidirectional=True)
    tokens = torch.randint(0, 9, (2, 5))
    logits, _ = net(tokens)
    assert logits.shape == (2, 5, 2, 9)
    features, _ = net.encode(tokens)
    assert features.shape == (2, 5, 8)


def test_unknown_cell_and_impl():
    with pytest.raises(ValueError, match="unknown recurrent cell 'tcn'"):
        make_recurrent("tcn", "fused", 3, 3)
    with pytest.raises(ValueError, match="unknown implementation 'cuda'"):
        make_recurrent("gru", "cuda", 3, 3)
