"""The toy experiments of book 7.2-7.6: the zoo's optimizers retrace the book's printed endpoints; plots and CLI."""

from __future__ import annotations

import pytest

from zoo.cli import main
from zoo.errors import ConfigError
from zoo.optim.toys import format_endpoint, trajectory, trajectory_figure
from zoo.runtime.plots import save_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# (optimizer, function, lr, other hyperparameters, the book's printed line, line in the seed text)
BOOK_ENDPOINTS = [
    ("sgd_scratch", "square", 0.2, {}, "epoch 10, x: 0.060466", "L8171"),
    ("sgd_scratch", "square", 0.05, {}, "epoch 10, x: 3.486784", "L8203"),
    ("sgd_scratch", "square", 1.1, {}, "epoch 10, x: 61.917364", "L8218"),
    ("sgd_scratch", "bowl", 0.1, {}, "epoch 20, x1 -0.057646, x2 -0.000073", "L8283"),
    ("sgd_scratch", "elongated", 0.4, {}, "epoch 20, x1 -0.943467, x2 -0.000073", "L8579"),
    ("sgd_scratch", "elongated", 0.6, {}, "epoch 20, x1 -0.387814, x2 -1673.365109", "L8596"),
    ("momentum_scratch", "elongated", 0.4, {"momentum": 0.5}, "epoch 20, x1 -0.062843, x2 0.001202", "L8629"),
    ("momentum_scratch", "elongated", 0.6, {"momentum": 0.5}, "epoch 20, x1 0.007188, x2 0.002553", "L8643"),
    ("adagrad_scratch", "elongated", 0.4, {}, "epoch 20, x1 -2.382563, x2 -0.158591", "L8825"),
    ("adagrad_scratch", "elongated", 2.0, {}, "epoch 20, x1 -0.002295, x2 -0.000000", "L8840"),
    ("rmsprop_scratch", "elongated", 0.4, {"gamma": 0.9}, "epoch 20, x1 -0.010599, x2 0.000000", "L8952"),
]


@pytest.mark.parametrize(("optimizer", "function", "lr", "hyper", "book", "line"), BOOK_ENDPOINTS,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[5]}" for c in BOOK_ENDPOINTS])
def test_book_endpoint(optimizer, function, lr, hyper, book, line):
    points = trajectory(optimizer, function, lr, **hyper)
    assert format_endpoint(points[-1], len(points) - 1) == book


def test_exact_values_of_the_1d_toy():
    """The book prints 1-D endpoints in full: 0.06046617599999997 and 3.4867844009999995 (L8171, L8203)."""
    assert trajectory("sgd_scratch", "square", 0.2)[-1][0] == pytest.approx(0.06046617599999997, abs=1e-15)
    assert trajectory("sgd_scratch", "square", 0.05)[-1][0] == pytest.approx(3.4867844009999995, abs=1e-14)


def test_trajectory_shape_and_start():
    points = trajectory("adam_scratch", "bowl", 0.5, steps=7)
    assert len(points) == 8 and points[0] == (-5.0, -2.0)
    assert all(len(p) == 2 for p in points)
    assert trajectory("sgd_scratch", "bowl", 0.1, start=(1.0, 1.0), steps=1) == [(1.0, 1.0), (0.8, 0.6)]


def test_pytorch_builtins_run_on_the_toys_too():
    ours = trajectory("momentum_scratch", "elongated", 0.6, momentum=0.5)
    theirs = trajectory("sgd", "elongated", 0.6, momentum=0.5)
    assert ours[-1] == pytest.approx(theirs[-1], abs=1e-12)


def test_noisy_gradients_are_seeded():
    """7.2.4's simulated SGD is random (the book's endpoint cannot be matched) but reproducible per seed."""
    a = trajectory("sgd_scratch", "bowl", 0.1, noise_std=1.0, seed=3)
    assert a == trajectory("sgd_scratch", "bowl", 0.1, noise_std=1.0, seed=3)
    assert a != trajectory("sgd_scratch", "bowl", 0.1, noise_std=1.0, seed=4)
    exact = trajectory("sgd_scratch", "bowl", 0.1)
    assert a[-1] != pytest.approx(exact[-1], abs=1e-3)
    assert max(abs(v) for v in a[-1]) < 1.5  # still near the minimum: the noise is zero-mean


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"function": "banana"}, "unknown toy function 'banana'"),
    ({"function": "bowl", "start": (1.0,)}, "2-D start point"),
    ({"function": "bowl", "steps": -1}, "steps must be >= 0"),
    ({"function": "bowl", "gamma": 0.9}, "does not take gamma"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        trajectory("sgd_scratch", lr=0.1, **kwargs)


@pytest.mark.parametrize("function", ["square", "elongated"])
def test_plot_is_a_png(function, tmp_path):
    points = trajectory("sgd_scratch", function, 0.6 if function == "elongated" else 1.1)  # diverging: wide axes
    path = save_figure(trajectory_figure(points, function), tmp_path / "sub" / "t.png")
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000


def test_cli_prints_endpoint_and_plot(tmp_path, capsys):
    out_png = tmp_path / "traj.png"
    with pytest.raises(SystemExit) as exit_info:
        main(["trajectory", "--optimizer", "momentum_scratch", "--lr", "0.4", "--momentum", "0.5", "--function",
              "elongated", "--out", str(out_png)])
    assert exit_info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["epoch 20, x1 -0.062843, x2 0.001202", f"plot: {out_png}"]
    assert out_png.read_bytes().startswith(PNG_SIGNATURE)


def test_cli_default_path_and_clear_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["trajectory", "--optimizer", "adagrad_scratch", "--lr", "2", "--function", "elongated"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.splitlines()[0] == "epoch 20, x1 -0.002295, x2 -0.000000"
    assert (tmp_path / "runs" / "trajectory" / "adagrad_scratch_elongated.png").is_file()
    with pytest.raises(SystemExit) as exit_info:
        main(["trajectory", "--optimizer", "nadam_scratch"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and "unknown optimizer 'nadam_scratch'" in err and "adam_scratch" in err
