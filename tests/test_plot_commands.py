"""``python -m zoo activations`` (book 3.8.2): the derivatives autograd gives equal the book's formulas, and the PNG."""

from __future__ import annotations

import pytest
import torch

from zoo.errors import ConfigError
from zoo.studies.activations import ACTIVATIONS, activation_curves, activations_command


def test_autograd_derivatives_match_the_formulas():
    x = torch.arange(-8.0, 8.0, 0.1, dtype=torch.float64)
    curves = activation_curves(x)
    assert list(curves) == ["relu", "sigmoid", "tanh"]
    for name, (y, grad) in curves.items():
        fn, derivative = ACTIVATIONS[name]
        torch.testing.assert_close(y, fn(x))
        torch.testing.assert_close(grad, derivative(x))
    at_zero = torch.zeros(1, dtype=torch.float64)
    values = {name: float(g) for name, (_, g) in activation_curves(at_zero).items()}
    assert values == {"relu": 0.0, "sigmoid": 0.25, "tanh": 1.0}  # the book's choice for ReLU at 0; the maxima


def test_activations_command_writes_a_png(tmp_path, capsys):
    out = tmp_path / "plots" / "activations.png"
    assert activations_command(["--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert "relu, sigmoid, tanh and their derivatives on [-8, 8)" in capsys.readouterr().out


def test_activations_command_rejects_an_empty_range():
    message = "need LOW < HIGH and 0 < step with at most a million points, got --range 2 1 and --step 0.1"
    with pytest.raises(ConfigError, match=message):
        activations_command(["--range", "2", "1"])
    with pytest.raises(ConfigError, match="--step -0.1"):
        activations_command(["--step", "-0.1"])
