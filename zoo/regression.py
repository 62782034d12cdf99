"""Regression models of book chapters 3 and 7, one LightningModule each.

Each class is `zoo.tasks.regression.RegressionTask` with its network fixed; every argument (loss, init, optimizer,
``l2_lambda``, ``weight_decay``) is documented there.

>>> dm = AirfoilDataModule(batch_size=10)                                           # doctest: +SKIP
>>> model = LinearRegression(num_features=dm.num_features, optimizer="adam_scratch", lr=0.01)  # doctest: +SKIP
>>> L.Trainer(max_epochs=2).fit(model, dm)                                          # doctest: +SKIP
"""

from __future__ import annotations

from torch import nn

from zoo.nets.linear import linear_regression_net
from zoo.tasks.regression import RegressionTask

__all__ = ["LinearRegression"]


class LinearRegression(RegressionTask):
    """Linear regression ``y_hat = X w + b`` (book 3.1 to 3.3; the model of 3.11, 3.12 and chapter 7)."""

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return linear_regression_net(hp.num_features, hp.init_std, hp.bias_init_std)
