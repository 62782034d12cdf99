"""The regression task and LinearRegression: the book's losses, weight decay on weights only, logged whole-set losses,
and the chapter 3 recipes reproducing what the book shows (w and b recovered, 3.11's fits, 3.12's norm collapse)."""

from __future__ import annotations

import copy

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from datamodules.synthetic import LinearSyntheticDataModule
from tests.regression_fakes import fit_recipe
from zoo import LinearRegression
from zoo.errors import ConfigError
from zoo.ops.losses import squared_loss


def quiet_trainer(tmp_path, **kwargs) -> L.Trainer:
    return L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                     accelerator="cpu", default_root_dir=tmp_path, **kwargs)


def one_step(model: LinearRegression, x: torch.Tensor, y: torch.Tensor, tmp_path) -> LinearRegression:
    """``model`` after one optimizer step on the batch (x, y)."""
    quiet_trainer(tmp_path, max_steps=1).fit(model, DataLoader([(x, y)], batch_size=None))
    return model


def test_losses_are_the_books():
    y_hat, y = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([0.0, 2.0, 1.0])
    assert float(squared_loss(y_hat, y)) == pytest.approx((1 + 0 + 9) / 2 / 3)  # 3.2.5: (y_hat - y)^2 / 2
    squared = LinearRegression(num_features=1, loss="squared")
    mse = LinearRegression(num_features=1, loss="mse")
    assert float(mse.criterion(y_hat, y)) == pytest.approx(10 / 3)  # nn.MSELoss: no 1/2
    assert float(squared.criterion(y_hat, y.view(3, 1))) == pytest.approx(10 / 6)  # labels reshaped like the book's


def test_book_initialisations():
    torch.manual_seed(0)
    small = LinearRegression(num_features=200)  # 3.2: w ~ N(0, 0.01^2), b = 0
    assert float(small.net.weight.std()) == pytest.approx(0.01, rel=0.2) and float(small.net.bias) == 0.0
    unit = LinearRegression(num_features=200, init_std=1.0, bias_init_std=1.0)  # 3.12 concise
    assert float(unit.net.weight.std()) == pytest.approx(1.0, rel=0.2) and float(unit.net.bias) != 0.0
    default = LinearRegression(num_features=200, init_std=None, bias_init_std=None)  # PyTorch: U(+-1/sqrt(200))
    assert float(default.net.weight.abs().max()) <= 200**-0.5


@pytest.mark.parametrize("route", [{"l2_lambda": 3.0}, {"weight_decay": 3.0},
                                   {"weight_decay": 3.0, "optimizer": "sgd_scratch"}])
def test_decay_shrinks_the_weights_and_leaves_the_bias_alone(route, tmp_path):
    """Book 3.12: with zero inputs the data gradient of w is 0, so one SGD step gives w <- (1 - lr*lambda) w exactly,
    while the bias takes the same step as without any decay."""
    torch.manual_seed(0)
    base = LinearRegression(num_features=4, init_std=1.0, bias_init_std=1.0, optimizer=route.get("optimizer", "sgd"),
                            lr=0.1)
    decayed = LinearRegression(**{**base.hparams, **route})
    decayed.load_state_dict(base.state_dict())
    w0, b0 = base.net.weight.detach().clone(), base.net.bias.detach().clone()
    x, y = torch.zeros(8, 4), torch.full((8,), 2.0)
    one_step(base, x, y, tmp_path)
    one_step(decayed, x, y, tmp_path)
    assert torch.equal(base.net.weight.detach(), w0)  # no data gradient on w
    assert torch.allclose(decayed.net.weight.detach(), (1 - 0.1 * 3.0) * w0, atol=1e-6)
    assert not torch.equal(decayed.net.bias.detach(), b0)  # the bias moved ...
    assert torch.equal(decayed.net.bias.detach(), base.net.bias.detach())  # ... exactly as without decay


def test_weight_decay_groups():
    model = LinearRegression(num_features=3, weight_decay=0.5, optimizer="momentum_scratch", momentum=0.9)
    opt = model.configure_optimizers()
    groups = {tuple(p.shape): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    assert groups == {(1, 3): 0.5, (1,): 0.0}
    assert type(opt).__name__ == "MomentumScratch" and opt.param_groups[0]["momentum"] == 0.9


def test_optimizer_args_reach_the_optimizer():
    model = LinearRegression(num_features=2, optimizer="rmsprop", lr=0.01, optimizer_args={"alpha": 0.9})
    assert model.configure_optimizers().param_groups[0]["alpha"] == 0.9


def test_logged_losses_are_whole_set_losses(tmp_path):
    """``train/full_loss`` is the squared loss over every training example with the final parameters (the number the
    book prints), and ``w_norm`` is ||w||."""
    torch.manual_seed(0)
    dm = LinearSyntheticDataModule(num_examples=50, batch_size=10)
    model = LinearRegression(num_features=dm.num_features, lr=0.05)
    quiet_trainer(tmp_path, max_epochs=2).fit(model, datamodule=dm)
    logged = model.trainer.callback_metrics
    with torch.no_grad():
        expected = squared_loss(model(dm.train_features), dm.train_labels)
    assert float(logged["train/full_loss"]) == pytest.approx(float(expected), rel=1e-5)
    assert float(logged["w_norm"]) == pytest.approx(float(model.net.weight.norm()), rel=1e-6)
    assert "train/loss" in logged and "test/loss" not in logged


def test_plain_loaders_log_val_and_test(tmp_path):
    torch.manual_seed(0)
    x, y = torch.randn(20, 3), torch.randn(20)
    loader = DataLoader(TensorDataset(x, y), batch_size=5)
    model = LinearRegression(num_features=3, loss="mse")
    trainer = quiet_trainer(tmp_path, max_epochs=1)
    trainer.fit(model, loader, loader)
    with torch.no_grad():
        mse = float(((model(x) - y) ** 2).mean())
    assert float(trainer.callback_metrics["val/loss"]) == pytest.approx(mse, rel=1e-5)
    trainer.test(model, loader, verbose=False)
    assert float(trainer.callback_metrics["test/loss"]) == pytest.approx(mse, rel=1e-5)
    predictions = trainer.predict(model, DataLoader(TensorDataset(x), batch_size=8))
    assert [p.shape for p in predictions] == [(8,), (8,), (4,)]


def test_fit_summary():
    model = LinearRegression(num_features=2)
    with torch.no_grad():
        model.net.weight.copy_(torch.tensor([[2.0, -3.4]]))
        model.net.bias.fill_(4.2)
    assert model.fit_summary().splitlines() == ["w: [2.0000, -3.4000]", "b: [4.2000]", "L2 norm of w: 3.94462"]
    assert LinearRegression(num_features=200).fit_summary().splitlines()[0] == "b: [0.0000]"  # 200 weights: norm only


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "needs num_features"),
    ({"num_features": 2, "optimizer": "adamax_scratch"}, "unknown optimizer 'adamax_scratch'; known .*adam_scratch"),
    ({"num_features": 2, "loss": "l1"}, "unknown loss 'l1'"),
    ({"num_features": 2, "l2_lambda": -1.0}, "must be >= 0"),
    ({"num_features": 0}, "num_features must be >= 1"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        LinearRegression(**kwargs)


def test_hyperparameters_are_primitive_and_reload(tmp_path):
    model = LinearRegression(num_features=2, optimizer="adam_scratch", optimizer_args={"betas": [0.9, 0.99]})
    clone = LinearRegression(**copy.deepcopy(dict(model.hparams)))
    clone.load_state_dict(model.state_dict())
    assert clone.configure_optimizers().param_groups[0]["betas"] == (0.9, 0.99)


# ------------------------------------------------------------------ the chapter 3 recipes, run in full
def test_linreg_synthetic_recovers_w_and_b(tmp_path):
    """E3.2: after 3 epochs w ~ [2, -3.4] and b ~ 4.2 (book: [1.9998, -3.3998], 4.2001; loss 0.000050)."""
    cli = fit_recipe("linreg_synthetic", tmp_path)
    net = cli.model.net
    assert net.weight.detach().flatten().tolist() == pytest.approx([2.0, -3.4], abs=0.01)
    assert float(net.bias) == pytest.approx(4.2, abs=0.01)
    assert float(cli.trainer.callback_metrics["train/full_loss"]) < 1e-4


def test_polynomial_recipes_under_and_overfit(tmp_path):
    """E3.11: the cubic fit reaches noise level on train and test; the linear fit stays far off (book: train 249,
    test 168); two training examples fit well but test badly (book: train 1.2, test 166)."""
    def losses(name):
        metrics = fit_recipe(name, tmp_path / name).trainer.callback_metrics
        return float(metrics["train/full_loss"]), float(metrics["test/loss"])

    train, test = losses("linreg_cubic_polynomial")
    assert train < 1e-3 and test < 1e-3
    train, test = losses("linreg_underfit_polynomial")
    assert train > 50 and test > 50
    train, test = losses("linreg_overfit_polynomial")
    assert test > 50 and test > 100 * train


@pytest.mark.parametrize(("name", "collapsed"), [("linreg_lambda0_highdim", False), ("linreg_lambda3_highdim", True),
                                                 ("linreg_wd3_highdim", True)])
def test_weight_norm_collapses_with_lambda_3(name, collapsed, tmp_path):
    """E3.12: ||w|| stays near its N(0, 1) init without decay (book 15.1 / 12.9) and collapses with lambda = 3
    (book 0.035 / 0.096); with decay the test loss is far lower."""
    metrics = fit_recipe(name, tmp_path).trainer.callback_metrics
    norm, test = float(metrics["w_norm"]), float(metrics["test/loss"])
    if collapsed:
        assert norm < 0.1 and test < 0.1
    else:
        assert norm > 10 and test > 10
