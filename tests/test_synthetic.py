"""The synthetic generators of book chapter 3: their statistics, their seeding and the splits of 3.11 and 3.12."""

from __future__ import annotations

import pytest
import torch

from datamodules.synthetic import (
    HighDimSyntheticDataModule,
    LinearSyntheticDataModule,
    PolynomialSyntheticDataModule,
    polynomial_features,
)
from zoo.errors import ConfigError


def ready(dm):
    dm.setup("fit")
    return dm


def least_squares(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, float]:
    """(w, b) minimising ||x w + b - y||, in float64."""
    design = torch.cat([x.double(), torch.ones(len(x), 1, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(design, y.double().unsqueeze(1)).solution.squeeze(1)
    return solution[:-1], float(solution[-1])


def test_linear_generator_statistics():
    """3.2.1: X ~ N(0, 1), y = X [2, -3.4] + 4.2 + N(0, 0.01^2)."""
    dm = ready(LinearSyntheticDataModule())
    x, y = dm.train_features, dm.train_labels
    assert x.shape == (1000, 2) and y.shape == (1000,) and dm.num_features == 2
    assert x.mean(0).abs().max() < 0.1 and (x.std(0) - 1).abs().max() < 0.1
    noise = y - (x @ torch.tensor([2.0, -3.4]) + 4.2)
    assert abs(float(noise.mean())) < 0.002 and float(noise.std()) == pytest.approx(0.01, rel=0.1)
    w, b = least_squares(x, y)
    assert w.tolist() == pytest.approx([2.0, -3.4], abs=1e-3) and b == pytest.approx(4.2, abs=1e-3)


def training_features(dm) -> torch.Tensor:
    """The whole training set, as the first evaluation loader serves it."""
    loaders = dm.val_dataloader()
    return next(iter(loaders[0] if isinstance(loaders, list) else loaders))[0]


@pytest.mark.parametrize("cls", [LinearSyntheticDataModule, PolynomialSyntheticDataModule, HighDimSyntheticDataModule])
def test_same_seed_same_data_other_seed_other_data(cls):
    a, b, c = (training_features(ready(cls(seed=seed))) for seed in (1, 1, 2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_data_do_not_depend_on_the_global_seed():
    torch.manual_seed(0)
    a = ready(LinearSyntheticDataModule(seed=5)).train_labels
    torch.manual_seed(123)
    assert torch.equal(a, ready(LinearSyntheticDataModule(seed=5)).train_labels)


def test_linear_loaders():
    dm = ready(LinearSyntheticDataModule(num_examples=25, batch_size=10))
    assert [len(y) for _, y in dm.train_dataloader()] == [10, 10, 5]
    (x, y), = list(dm.val_dataloader())
    assert torch.equal(x, dm.train_features) and torch.equal(y, dm.train_labels) and dm.eval_sets == ("train",)


def test_polynomial_features():
    x = torch.tensor([2.0, -1.0])
    assert polynomial_features(x, 3).tolist() == [[2.0, 4.0, 8.0], [-1.0, 1.0, -1.0]]
    assert polynomial_features(x, 1).shape == (2, 1)


def test_polynomial_generator_and_its_three_experiments():
    """3.11: one draw of 200 points; normal (degree 3), underfit (degree 1), overfit (2 training examples) share
    the same test set; labels follow 1.2x - 3.4x^2 + 5.6x^3 + 5 + N(0, 0.01^2)."""
    normal = ready(PolynomialSyntheticDataModule())
    underfit = ready(PolynomialSyntheticDataModule(degree=1))
    overfit = ready(PolynomialSyntheticDataModule(train_subset=2))
    assert normal.train_features.shape == (100, 3) and normal.test_features.shape == (100, 3)
    assert underfit.train_features.shape == (100, 1) and underfit.num_features == 1
    assert overfit.train_features.shape == (2, 3) and torch.equal(overfit.train_labels, normal.train_labels[:2])
    assert torch.equal(underfit.test_labels, normal.test_labels)
    assert torch.equal(overfit.test_labels, normal.test_labels)
    assert torch.equal(underfit.train_features[:, 0], normal.train_features[:, 0])
    x = normal.train_features[:, 0]
    noise = normal.train_labels - (1.2 * x - 3.4 * x**2 + 5.6 * x**3 + 5)
    assert float(noise.std()) == pytest.approx(0.01, rel=0.3)
    w, b = least_squares(normal.train_features, normal.train_labels)
    assert w.tolist() == pytest.approx([1.2, -3.4, 5.6], abs=0.01) and b == pytest.approx(5.0, abs=0.01)
    train, test = overfit.val_dataloader()
    assert len(next(iter(train))[1]) == 2 and len(next(iter(test))[1]) == 100
    assert overfit.eval_sets == ("train", "test") and len(next(iter(overfit.test_dataloader()))[1]) == 100


def test_high_dimensional_generator():
    """3.12: 200 inputs, 20 training and 100 test examples, y = 0.05 + 0.01 sum(x) + N(0, 0.01^2)."""
    dm = ready(HighDimSyntheticDataModule())
    assert dm.num_features == 200 and dm.train_features.shape == (20, 200) and dm.test_features.shape == (100, 200)
    everything = torch.cat([dm.train_features, dm.test_features])
    labels = torch.cat([dm.train_labels, dm.test_labels])
    noise = labels - (0.01 * everything.sum(1) + 0.05)
    assert float(noise.std()) == pytest.approx(0.01, rel=0.25)
    assert [len(y) for _, y in dm.train_dataloader()] == [1] * 20  # the book's batch size 1
    assert [len(next(iter(loader))[1]) for loader in dm.val_dataloader()] == [20, 100]


@pytest.mark.parametrize(("cls", "kwargs", "message"), [
    (LinearSyntheticDataModule, {"num_examples": 0}, "num_examples must be >= 1"),
    (LinearSyntheticDataModule, {"noise_std": -1.0}, "noise_std must be >= 0"),
    (PolynomialSyntheticDataModule, {"train_subset": 101}, "train_subset must be between 1 and n_train=100"),
    (PolynomialSyntheticDataModule, {"degree": 0}, "degree must be >= 1"),
    (HighDimSyntheticDataModule, {"batch_size": 0}, "batch_size must be >= 1"),
])
def test_bad_arguments(cls, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        cls(**kwargs)
