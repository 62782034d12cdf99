"""The log root-mean-squared error of book 3.16 (the Kaggle house-price competition's metric), true and as the book
prints it.

    log_rmse = sqrt(mean((log y_hat - log y)^2)),   predictions below 1 raised to 1 first (as the book, so the log
                                                    of a negative or tiny prediction stays finite)

The book's ``log_rmse`` computes ``sqrt(2 * MSELoss(log y_hat, log y))``: the factor 2 was meant to undo MXNet's
``L2Loss``, which halves the squared error, but PyTorch's ``MSELoss`` does not halve it, so every "rmse" printed in
3.16 is sqrt(2) times the true log-RMSE (BOOK_EXPERIMENTS 0.2). `book_log_rmse` reproduces the book's number so
results can be compared with its printout; `log_rmse` is the competition's metric. For example the book's full-data
"train rmse 0.229943" is a true log-RMSE of 0.229943 / sqrt(2) = 0.1626.
"""

from __future__ import annotations

import math

import torch

from zoo.errors import ConfigError

__all__ = ["BOOK_FACTOR", "book_log_rmse", "log_rmse"]

#: the book's printed log-rmse divided by the true one
BOOK_FACTOR = math.sqrt(2)


def log_rmse(predictions: torch.Tensor, labels: torch.Tensor, floor: float = 1.0) -> torch.Tensor:
    """True log-RMSE between positive ``labels`` and ``predictions`` (any matching shapes, e.g. (N,) or (N, 1)),
    with predictions below ``floor`` raised to it; a scalar tensor."""
    if predictions.numel() != labels.numel() or labels.numel() == 0:
        raise ConfigError(f"log_rmse needs as many predictions as labels (at least one), got {predictions.numel()} "
                          f"and {labels.numel()}")
    if (labels <= 0).any():
        raise ConfigError("log_rmse needs positive labels (prices); got a label <= 0")
    clipped = predictions.reshape(-1).to(torch.float64).clamp(min=floor)
    diff = clipped.log() - labels.reshape(-1).to(torch.float64).log()
    return diff.pow(2).mean().sqrt()


def book_log_rmse(predictions: torch.Tensor, labels: torch.Tensor, floor: float = 1.0) -> torch.Tensor:
    """The number book 3.16 prints as "rmse": ``sqrt(2) * log_rmse`` (the sqrt(2) is a porting slip, see above)."""
    return BOOK_FACTOR * log_rmse(predictions, labels, floor)
