"""The regression task: squared loss, optional L2 penalty, any registered optimizer (book 3.2, 3.3, 3.11, 3.12, ch. 7).

Losses, as the book defines them:

* ``loss="squared"``: the mean of ``(y_hat - y)^2 / 2`` (``squared_loss``, 3.2.5; chapter 7 and 3.12 use it);
* ``loss="mse"``: the mean of ``(y_hat - y)^2`` (``nn.MSELoss``, which 3.3 and 3.11 use; no 1/2).

What is logged (every value is in the loss's own convention, so it is the number the book prints):

* ``train/loss``: the mean of the minibatch losses of the epoch (without the penalty);
* ``train/full_loss``: the loss over the *whole* training set with the current parameters, the ``loss:`` that
  chapter 7 and 3.2 print and the "train" curve of 3.11/3.12 (torchmetrics ``MeanSquaredError``, halved for
  ``squared``);
* ``test/loss`` and ``val/loss``: the same over the test or validation set;
* ``w_norm``: the L2 norm of the weights at the end of each epoch (3.12 prints it).

Which loaders are which: a datamodule names the loaders of its ``val_dataloader()`` in ``eval_sets`` (for example
``("train", "test")`` in 3.11: the full training set, then the test set, evaluated after every epoch); without that
attribute the single validation loader counts as ``"val"``. The datamodules of this zoo evaluate the full training set
as the book does; ``trainer.val_check_interval`` sets how often (chapter 7: every 100 examples).

Weight decay, two ways, both on weights and never on biases (book 3.12):

* ``l2_lambda``: the penalty ``l2_lambda * ||w||^2 / 2`` is added to the batch loss (3.12.3, from scratch);
* ``weight_decay``: the optimizer decays the weights, through `decay_groups` (3.12.4, concise).
  With plain SGD both give the update ``w <- (1 - lr * lambda) w - lr * g``.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn
from torchmetrics import MeanSquaredError

from zoo.errors import ConfigError
from zoo.ops.losses import squared_loss
from zoo.optim import OPTIMIZERS, build_optimizer, decay_groups
from zoo.tasks.base import ZooTask
from zoo.validation import check_hyperparameters

__all__ = ["EVAL_KEYS", "RegressionTask"]

Loss = Literal["squared", "mse"]

#: evaluation set name (a datamodule's ``eval_sets`` entry) -> logged metric
EVAL_KEYS = {"train": "train/full_loss", "val": "val/loss", "test": "test/loss"}


class RegressionTask(ZooTask):
    """Base of the regression models; an architecture subclasses it, implements `build_net` (a net mapping (B, F) ->
    (B, 1)) and takes its own arguments keyword-only, passing the task's through ``**task``.

    Args:
        num_features: inputs per example (``datamodule.num_features``; linked automatically by the CLI).
        loss: ``"squared"`` (book ``squared_loss``, (y_hat - y)^2 / 2) or ``"mse"`` (``nn.MSELoss``).
        optimizer: a name for `build_optimizer`: ``"sgd"``, ``"adam"``, ... or a hand-written ``"sgd_scratch"``,
            ``"momentum_scratch"``, ``"adagrad_scratch"``, ``"rmsprop_scratch"``, ``"adadelta_scratch"``,
            ``"adam_scratch"`` (`zoo.optim.scratch`).
        lr: learning rate.
        momentum: momentum (``sgd``, ``momentum_scratch``); 0 leaves it out.
        optimizer_args: any other optimizer arguments (``alpha``, ``gamma``, ``rho``, ``eps``, ``betas``, ...).
        weight_decay: optimizer weight decay on the weights only (3.12.4).
        l2_lambda: L2 penalty ``l2_lambda * ||w||^2 / 2`` on the weights only, added to the loss (3.12.3).
    """

    def __init__(
        self,
        *,
        num_features: int | None = None,
        loss: Loss = "squared",
        optimizer: str = "sgd",
        lr: float = 0.03,
        momentum: float = 0.0,
        optimizer_args: dict[str, Any] | None = None,
        weight_decay: float = 0.0,
        l2_lambda: float = 0.0,
    ) -> None:
        super().__init__()
        if num_features is None:
            raise ConfigError(f"{type(self).__name__} needs num_features: pass num_features=datamodule.num_features "
                              "(the CLI links it from the datamodule)")
        if loss not in ("squared", "mse"):
            raise ConfigError(f"unknown loss {loss!r}; choose 'squared' ((y_hat - y)^2 / 2, book 3.2) or 'mse' "
                              "(nn.MSELoss, book 3.3)")
        if optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {optimizer!r}; known optimizers: {', '.join(sorted(OPTIMIZERS))}")
        if weight_decay < 0 or l2_lambda < 0:
            raise ConfigError(f"weight_decay and l2_lambda must be >= 0, got {weight_decay} and {l2_lambda}")
        self.save_hyperparameters()
        check_hyperparameters(self.hparams, type(self).__name__)
        self.net = self.build_net()
        # keyed "<set>_set": a ModuleDict key may not shadow a Module method such as train()
        self.eval_mse = nn.ModuleDict({f"{name}_set": MeanSquaredError() for name in EVAL_KEYS})

    def build_net(self) -> nn.Module:
        """The network, built from ``self.hparams``; maps (B, num_features) to (B, 1)."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_net()")

    # ---------------------------------------------------------------- training
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)  # (B, F) -> (B, 1) -> (B,)

    def criterion(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The batch loss in the book's convention (``squared`` or ``mse``), without any penalty."""
        if self.hparams.loss == "squared":
            return squared_loss(y_hat, y)
        return nn.functional.mse_loss(y_hat, y.view_as(y_hat))

    def decayed_weights(self) -> list[nn.Parameter]:
        """The parameters that weight decay and the L2 penalty act on: weights, never biases."""
        return decay_groups(self.net, 0.0)[0]["params"]

    def l2_penalty(self) -> torch.Tensor:
        """``||w||^2 / 2`` over `decayed_weights` (book 3.12.3.2's ``l2_penalty``)."""
        return sum(((p**2).sum() for p in self.decayed_weights()), torch.zeros((), device=self.device)) / 2

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch  # (B, F), (B,)
        loss = self.criterion(self(x), y)
        self.log("train/loss", loss, on_step=False, on_epoch=True, batch_size=y.shape[0])
        if self.hparams.l2_lambda:
            penalty = self.hparams.l2_lambda * self.l2_penalty()
            self.log("train/penalty", penalty, on_step=False, on_epoch=True, batch_size=y.shape[0])
            return loss + penalty
        return loss

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()  # marks the epoch's end for the checkpoint (ZooTask)
        self.log("w_norm", self.weight_norm())

    def weight_norm(self) -> torch.Tensor:
        """L2 norm of all weights together (book 3.12: ``w.norm()``)."""
        squares = ((p.detach() ** 2).sum() for p in self.decayed_weights())
        return torch.sqrt(sum(squares, torch.zeros((), device=self.device)))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        hp = self.hparams
        params = decay_groups(self.net, hp.weight_decay) if hp.weight_decay else self.parameters()
        return build_optimizer(hp.optimizer, params, hp.lr, hp.weight_decay, hp.momentum, hp.optimizer_args)

    # ---------------------------------------------------------------- evaluation
    def _eval_name(self, dataloader_idx: int) -> str:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        names = getattr(datamodule, "eval_sets", None) or ("val",)
        if dataloader_idx >= len(names):
            raise ConfigError(f"validation loader {dataloader_idx} has no name: the datamodule's eval_sets is "
                              f"{tuple(names)}; name every loader of val_dataloader() there")
        if names[dataloader_idx] not in EVAL_KEYS:
            raise ConfigError(f"unknown evaluation set {names[dataloader_idx]!r}; choose from {', '.join(EVAL_KEYS)}")
        return names[dataloader_idx]

    def _update_eval(self, batch, name: str) -> None:
        x, y = batch  # (B, F), (B,)
        self.eval_mse[f"{name}_set"].update(self(x), y.view(-1))

    def _log_eval(self) -> None:
        scale = 0.5 if self.hparams.loss == "squared" else 1.0  # MSE -> the book's squared loss
        for name, key in EVAL_KEYS.items():
            metric = self.eval_mse[f"{name}_set"]
            if metric.update_called:
                self.log(key, metric.compute() * scale, prog_bar=name == "train")
                metric.reset()

    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._update_eval(batch, self._eval_name(dataloader_idx))

    def on_validation_epoch_end(self) -> None:
        self._log_eval()

    def test_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._update_eval(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._log_eval()

    def predict_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> torch.Tensor:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch  # (B, F), labels ignored
        return self(x)

    # ---------------------------------------------------------------- reporting
    def fit_summary(self) -> str:
        """What the CLI prints after training: the learned weights and bias (3.2, 3.11) and ||w|| (3.12)."""
        weights = [p.detach().flatten() for p in self.decayed_weights()]
        w = torch.cat(weights) if weights else torch.zeros(0)
        bias = getattr(self.net, "bias", None)
        lines = []
        if w.numel() <= 10:
            lines.append("w: [" + ", ".join(f"{v:.4f}" for v in w.tolist()) + "]")
        if isinstance(bias, torch.Tensor) and bias.numel() <= 10:
            lines.append("b: [" + ", ".join(f"{v:.4f}" for v in bias.detach().flatten().tolist()) + "]")
        lines.append(f"L2 norm of w: {float(self.weight_norm()):.6g}")
        return "\n".join(lines)
