"""Seeded synthetic regression data of book chapter 3: linear (3.2), polynomial (3.11) and high-dimensional (3.12).

Each datamodule draws its data from its own ``torch.Generator(seed)`` (features first, then label noise), so the data
do not depend on ``seed_everything``, which still drives model init and shuffling. Labels are (N,) vectors.
``val_dataloader()`` evaluates whole sets after every epoch, as the book's training loops do, and ``eval_sets``
names them: the full training set (3.2 prints its loss per epoch) and, for 3.11/3.12, the test set (their curves);
both come from `datamodules.regression_data.RegressionDataModule`.
Nothing is read or written, so these datamodules take no ``data_dir``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from datamodules.regression_data import RegressionDataModule
from zoo.errors import ConfigError

__all__ = [
    "HighDimSyntheticDataModule",
    "LinearSyntheticDataModule",
    "PolynomialSyntheticDataModule",
    "linear_data",
    "polynomial_features",
]


def linear_data(num_examples: int, true_w: torch.Tensor, true_b: float, noise_std: float,
                generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """X ~ N(0, 1) of shape (N, len(w)) and y = X w + b + N(0, noise_std^2) of shape (N,) (book 3.2.1, 3.12.2)."""
    features = torch.randn(num_examples, len(true_w), generator=generator)
    labels = features @ true_w + true_b
    return features, labels + noise_std * torch.randn(num_examples, generator=generator)


def polynomial_features(x: torch.Tensor, degree: int) -> torch.Tensor:
    """[x, x^2, ..., x^degree] for x of shape (N,): (N,) -> (N, degree) (book 3.11.4.1)."""
    return torch.stack([x**k for k in range(1, degree + 1)], dim=1)


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if value < 1:
            raise ConfigError(f"{name} must be >= 1, got {value}")


def _check_noise(noise_std: float) -> None:
    if noise_std < 0:
        raise ConfigError(f"noise_std must be >= 0, got {noise_std}")


class LinearSyntheticDataModule(RegressionDataModule):
    """y = X w + b + noise with X ~ N(0, 1) (book 3.2.1): 1,000 examples, w = [2, -3.4], b = 4.2, noise 0.01.

    Args:
        num_examples: training examples (book: 1,000).
        true_w, true_b: the generating weights and bias.
        noise_std: standard deviation of the label noise (book: 0.01).
        batch_size: minibatch size (book: 10).
        seed: seed of the data generator.
    """

    def __init__(self, num_examples: int = 1000, true_w: Sequence[float] = (2.0, -3.4), true_b: float = 4.2,
                 noise_std: float = 0.01, batch_size: int = 10, seed: int = 0) -> None:
        super().__init__(batch_size)
        _check_positive(num_examples=num_examples, len_true_w=len(true_w))
        _check_noise(noise_std)
        self.save_hyperparameters()

    @property
    def num_features(self) -> int:
        return len(self.hparams.true_w)

    def make_data(self) -> None:
        hp = self.hparams
        generator = torch.Generator().manual_seed(hp.seed)
        w = torch.tensor(hp.true_w, dtype=torch.float32)
        self.train_features, self.train_labels = linear_data(hp.num_examples, w, hp.true_b, hp.noise_std, generator)


class PolynomialSyntheticDataModule(RegressionDataModule):
    """Polynomial fitting (book 3.11.4): y = 1.2x - 3.4x^2 + 5.6x^3 + 5 + noise, x ~ N(0, 1).

    100 training and 100 test examples are always drawn together, so the three experiments share the test set:
    ``degree=3`` is the normal fit (3.11.4.3), ``degree=1`` the linear underfit (3.11.4.4), and ``degree=3,
    train_subset=2`` the overfit on two training examples (3.11.4.5). The model sees [x, ..., x^degree].

    Args:
        degree: polynomial order of the model's features (``num_features``).
        n_train, n_test: examples drawn for training and testing (book: 100 and 100).
        train_subset: train on only the first this many training examples; ``None`` for all.
        true_w, true_b: coefficients of x, x^2, x^3, ... and the constant of the generating polynomial.
        noise_std: standard deviation of the label noise (book: 0.01).
        batch_size: minibatch size (book: ``min(10, n_train)``; a DataLoader caps it the same way).
        seed: seed of the data generator.
    """

    has_test_set = True

    def __init__(self, degree: int = 3, n_train: int = 100, n_test: int = 100, train_subset: int | None = None,
                 true_w: Sequence[float] = (1.2, -3.4, 5.6), true_b: float = 5.0, noise_std: float = 0.01,
                 batch_size: int = 10, seed: int = 0) -> None:
        super().__init__(batch_size)
        _check_positive(degree=degree, n_train=n_train, n_test=n_test, len_true_w=len(true_w))
        if train_subset is not None and not 1 <= train_subset <= n_train:
            raise ConfigError(f"train_subset must be between 1 and n_train={n_train} or None, got {train_subset}")
        _check_noise(noise_std)
        self.save_hyperparameters()

    @property
    def num_features(self) -> int:
        return self.hparams.degree

    def make_data(self) -> None:
        hp = self.hparams
        generator = torch.Generator().manual_seed(hp.seed)
        x = torch.randn(hp.n_train + hp.n_test, generator=generator)  # (N,)
        true_w = torch.tensor(hp.true_w, dtype=torch.float32)
        labels = polynomial_features(x, len(true_w)) @ true_w + hp.true_b
        labels = labels + hp.noise_std * torch.randn(len(x), generator=generator)
        features = polynomial_features(x, hp.degree)  # (N, degree)
        n_used = hp.train_subset or hp.n_train
        self.train_features, self.train_labels = features[:n_used], labels[:n_used]
        self.test_features, self.test_labels = features[hp.n_train :], labels[hp.n_train :]


class HighDimSyntheticDataModule(RegressionDataModule):
    """High-dimensional linear regression (book 3.12.2): y = 0.05 + sum_i 0.01 x_i + noise, 200 inputs,
    20 training and 100 test examples, so that a linear model overfits without weight decay.

    Args:
        num_inputs: features per example (book: 200).
        n_train, n_test: training and test examples (book: 20 and 100).
        true_w: every generating weight (book: 0.01); true_b: the bias (book: 0.05).
        noise_std: standard deviation of the label noise (book: 0.01).
        batch_size: minibatch size (book: 1).
        seed: seed of the data generator.
    """

    has_test_set = True

    def __init__(self, num_inputs: int = 200, n_train: int = 20, n_test: int = 100, true_w: float = 0.01,
                 true_b: float = 0.05, noise_std: float = 0.01, batch_size: int = 1, seed: int = 0) -> None:
        super().__init__(batch_size)
        _check_positive(num_inputs=num_inputs, n_train=n_train, n_test=n_test)
        _check_noise(noise_std)
        self.save_hyperparameters()

    @property
    def num_features(self) -> int:
        return self.hparams.num_inputs

    def make_data(self) -> None:
        hp = self.hparams
        generator = torch.Generator().manual_seed(hp.seed)
        w = torch.full((hp.num_inputs,), hp.true_w)
        features, labels = linear_data(hp.n_train + hp.n_test, w, hp.true_b, hp.noise_std, generator)
        self.train_features, self.train_labels = features[: hp.n_train], labels[: hp.n_train]
        self.test_features, self.test_labels = features[hp.n_train :], labels[hp.n_train :]
