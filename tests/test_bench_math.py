"""The cheaper math behind the benches gives the book's numbers.

`RecurrentLM` computes one-hot input as a lookup of ``weight_ih_l0``'s columns (book 6.4.1: one-hot @ W picks a row
of W). These tests compare it with the one-hot product through the same recurrent module: forward values, final
states and every parameter's gradient, for the three cells, fused and scratch, stacked and bidirectional.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from zoo.nets.recurrent_lm import RecurrentLM

CASES = [(cell, impl, layers, bi) for cell in ("rnn", "gru", "lstm") for impl in ("fused", "scratch")
         for layers, bi in ((1, False), (2, False), (1, True))]


def _one_hot_reference(net: RecurrentLM, tokens: torch.Tensor, state=None):
    """What the network computed before the lookup: a (T, B, V) one-hot tensor through ``net.rnn``."""
    one_hot = F.one_hot(tokens.T, net.vocab_size).float()  # (T, B, V)
    return net.rnn(one_hot, state)


def _initial_state(cell: str, layers: int, bi: bool, batch: int, hidden: int):
    h = torch.randn(layers * (2 if bi else 1), batch, hidden)
    return (h, torch.randn_like(h)) if cell == "lstm" else h


@pytest.mark.parametrize(("cell", "impl", "layers", "bi"), CASES)
def test_lookup_equals_one_hot_matmul_forward_and_gradients(cell, impl, layers, bi):
    torch.manual_seed(0)
    net = RecurrentLM(13, cell, 6, num_layers=layers, bidirectional=bi, impl=impl)
    tokens = torch.randint(0, 13, (4, 7))  # (B, T)
    state = _initial_state(cell, layers, bi, 4, 6)
    assert net.uses_lookup(tokens)

    out, final = net._features(tokens, state)
    ref_out, ref_final = _one_hot_reference(net, tokens, state)
    assert out.shape == ref_out.shape == (7, 4, 6 * (2 if bi else 1))
    torch.testing.assert_close(out, ref_out, rtol=1e-5, atol=1e-6)
    for a, b in zip(final if cell == "lstm" else [final], ref_final if cell == "lstm" else [ref_final]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)

    weights = torch.randn_like(out)  # a loss that weighs every output differently
    grads = torch.autograd.grad((out * weights).sum(), list(net.rnn.parameters()))
    ref_grads = torch.autograd.grad((ref_out * weights).sum(), list(net.rnn.parameters()))
    for (name, _), g, ref in zip(net.rnn.named_parameters(), grads, ref_grads):
        torch.testing.assert_close(g, ref, rtol=1e-4, atol=1e-6, msg=name)


def test_scratch_lookup_forward_is_exactly_the_one_hot_product():
    """A product with one 1 and zeros rounds nothing: the scratch layers' forward values are bit-identical."""
    torch.manual_seed(0)
    net = RecurrentLM(50, "gru", 16, impl="scratch")
    tokens = torch.randint(0, 50, (3, 9))
    assert torch.equal(net._features(tokens)[0], _one_hot_reference(net, tokens)[0])


def test_book_gru_step_logits_and_gradients_match():
    """The book's 6.7.4 model at its real size (1,027 characters, 256 hidden, 32 x 35 windows): loss and gradients."""
    torch.manual_seed(0)
    net = RecurrentLM(1027, "gru", 256)
    tokens, targets = torch.randint(0, 1027, (32, 35)), torch.randint(0, 1027, (32, 35))

    def loss_and_grads(lookup: bool):
        net.one_hot_lookup = lookup
        logits, _ = net(tokens)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return loss, torch.autograd.grad(loss, list(net.parameters()))

    loss, grads = loss_and_grads(True)
    ref_loss, ref_grads = loss_and_grads(False)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-6, atol=0)
    for (name, _), g, ref in zip(net.named_parameters(), grads, ref_grads):
        torch.testing.assert_close(g, ref, rtol=1e-4, atol=1e-7, msg=name)


def test_parameters_keep_their_names_and_shapes():
    """Checkpoints written before the lookup load: the network has the same tensors under the same names."""
    net = RecurrentLM(11, "gru", 8)
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes == {"rnn.weight_ih_l0": (24, 11), "rnn.weight_hh_l0": (24, 8), "rnn.bias_ih_l0": (24,),
                      "rnn.bias_hh_l0": (24,), "head.weight": (11, 8), "head.bias": (11,)}


def test_one_hot_path_when_switched_off_embedded_or_traced():
    net = RecurrentLM(9, "gru", 4)
    tokens = torch.randint(0, 9, (2, 5))
    assert net.uses_lookup(tokens)
    net.one_hot_lookup = False
    assert not net.uses_lookup(tokens)
    assert not RecurrentLM(9, "gru", 4, embedding_dim=3).uses_lookup(tokens)

    seen = []

    class Probe(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = RecurrentLM(9, "gru", 4)

        def forward(self, tokens):
            seen.append(self.net.uses_lookup(tokens))
            return self.net(tokens)[0]

    probe = Probe()
    traced = torch.jit.trace(probe, tokens)
    assert seen[0] is False  # traced graphs keep nn.GRU (a free sequence length), not 5 unrolled steps
    longer = torch.randint(0, 9, (2, 8))
    torch.testing.assert_close(traced(longer), probe.net(longer)[0], rtol=1e-5, atol=1e-6)
