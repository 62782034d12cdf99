"""The linear models of book chapter 3: softmax regression and the multilayer perceptron (image classifiers), and
linear regression (the model of 3.2, 3.3, 3.11, 3.12 and chapter 7).

Each class is a task base (`zoo.tasks.classification.ImageClassificationTask` or
`zoo.tasks.regression.RegressionTask`) plus its own keyword-only network arguments and a `build_net`; the task's
arguments (optimizer, learning rate, loss, ...) are documented there. The networks are plain ``nn.Module``s in
``zoo.nets``. A class restates a task argument where its book section's setting differs from the task's default
(``SoftmaxRegression(optimizer="sgd", lr=0.1)``).

>>> dm = AirfoilDataModule(batch_size=10)                                           # doctest: +SKIP
>>> model = LinearRegression(num_features=dm.num_features, optimizer="adam_scratch", lr=0.01)  # doctest: +SKIP
>>> L.Trainer(max_epochs=2).fit(model, dm)                                          # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo.nets.layers import BiasInit, LayerImpl
from zoo.nets.linreg import linear_regression_net
from zoo.nets.mlp import MLPNet
from zoo.nets.softmax import SoftmaxRegressionNet
from zoo.ops.losses import cross_entropy
from zoo.tasks.classification import ImageClassificationTask
from zoo.tasks.regression import RegressionTask

__all__ = ["MLP", "LinearRegression", "SoftmaxRegression"]


def _pixels(hp) -> int:
    return hp.in_channels * hp.image_size * hp.image_size


class SoftmaxRegression(ImageClassificationTask):
    """Softmax regression (book 3.6 with ``impl="scratch"``: hand-written linear layer and stable cross-entropy;
    3.7 with ``impl="nn"``: ``nn.Linear`` and ``F.cross_entropy``). Weights N(0, ``init_std``), biases per
    ``init_bias``; ``init_std=None`` keeps PyTorch's default initialisation."""

    def __init__(self, *, impl: LayerImpl = "scratch", init_std: float | None = 0.01, init_bias: BiasInit = "zeros",
                 optimizer: str = "sgd", lr: float = 0.1, **task: Any) -> None:
        super().__init__(optimizer=optimizer, lr=lr, **task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return SoftmaxRegressionNet(_pixels(hp), hp.num_classes, hp.impl, hp.init_std, hp.init_bias)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.hparams.impl == "scratch":
            return cross_entropy(logits, labels)  # zoo.ops.losses: log-sum-exp, equal to F.cross_entropy
        return super().loss(logits, labels)


class MLP(ImageClassificationTask):
    """Multilayer perceptron (book 3.9 scratch / 3.10 ``nn``; with ``dropout``, 3.13). ``impl="scratch"`` uses the
    hand-written linear layer, ReLU and dropout (uniform mask, see `zoo.nets.mlp`)."""

    def __init__(self, *, hidden_sizes: tuple[int, ...] = (256,), dropout: tuple[float, ...] = (),
                 impl: LayerImpl = "scratch", init_std: float | None = 0.01, init_bias: BiasInit = "zeros",
                 optimizer: str = "sgd", lr: float = 0.5, **task: Any) -> None:
        super().__init__(optimizer=optimizer, lr=lr, **task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return MLPNet(_pixels(hp), hp.hidden_sizes, hp.num_classes, hp.dropout, hp.impl, hp.init_std, hp.init_bias)


class LinearRegression(RegressionTask):
    """Linear regression ``y_hat = X w + b`` (book 3.1 to 3.3; the model of 3.11, 3.12 and chapter 7).

    Args:
        init_std: weight init N(0, init_std^2); ``None`` for PyTorch's default (see `zoo.nets.linreg`).
        bias_init_std: bias init N(0, bias_init_std^2), 0 for zeros, ``None`` for PyTorch's default.
    """

    def __init__(self, *, init_std: float | None = 0.01, bias_init_std: float | None = 0.0, **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return linear_regression_net(hp.num_features, hp.init_std, hp.bias_init_std)
