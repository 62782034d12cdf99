"""Kaggle "House Prices: Advanced Regression Techniques", the data set of book 3.16.

The competition's ``train.csv`` (1,460 houses: ``Id``, 79 features, ``SalePrice``) and ``test.csv`` (1,459 houses,
no price) cannot be downloaded without a Kaggle login, so this module only reads them from a folder: ``data_dir``,
by default ``<zoo cache>/kaggle_house`` (``$ZOO_DATA_DIR/kaggle_house`` or ``~/.cache/lightning-zoo/kaggle_house``).
When they are missing, the error names the competition page, the two files and that folder.

Preprocessing, as the book's pandas code (3.16.3), written here with the ``csv`` module (pandas is not a dependency):

1. drop ``Id``; stack the 79 features of train and test (2,919 rows); the label is the raw ``SalePrice``;
2. a column is numeric when every present value parses as a number (pandas' dtype inference); numeric columns are
   standardised with the mean and the *sample* standard deviation (pandas' ``std``, ddof 1) of train and test
   together, and missing values become 0 (the mean);
3. every other column becomes indicator columns, one per value in sorted order plus one for "missing"
   (``get_dummies(dummy_na=True)``, always present); numeric columns come first, then the indicators column by
   column, named ``<column>_<value>`` and ``<column>_nan``. On the real files this gives 354 features.

Missing means an empty cell or one of pandas' default NA strings (``NA``, ``N/A``, ``NaN``, ``null``, ...); the
Kaggle files write ``NA``, which in columns like ``Alley`` or ``PoolQC`` means "none" and becomes its own category.

`k_fold_data` is the book's ``get_k_fold_data`` (3.16.5): fold j holds rows ``j * (n // k)`` to
``(j + 1) * (n // k)``; the last ``n % k`` rows belong to no fold (none on the real 1,460 rows and k = 5).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from datamodules.download import cache_root
from datamodules.regression_data import RegressionDataModule
from zoo.errors import ConfigError, DataError, DataUnavailableError

__all__ = [
    "COMPETITION_URL",
    "HOUSE_FILES",
    "NA_STRINGS",
    "HouseData",
    "KaggleHouseDataModule",
    "house_folder",
    "k_fold_data",
    "load_house_data",
    "preprocess_house_features",
    "read_house_csv",
]

COMPETITION_URL = "https://www.kaggle.com/c/house-prices-advanced-regression-techniques"
HOUSE_FILES = ("train.csv", "test.csv")
LABEL = "SalePrice"
#: pandas' default missing-value strings (``read_csv``'s ``na_values``)
NA_STRINGS = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                        "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})

Cell = str | None  # None: missing


def house_folder(data_dir: str | Path | None = None) -> Path:
    """The folder holding train.csv and test.csv: ``data_dir``, else ``<zoo cache>/kaggle_house``."""
    return Path(data_dir).expanduser().resolve() if data_dir else cache_root() / "kaggle_house"


def _check_files(folder: Path) -> None:
    missing = [name for name in HOUSE_FILES if not (folder / name).is_file()]
    if missing:
        raise DataUnavailableError(
            f"the Kaggle house-price data is not in {folder}: missing {' and '.join(missing)}.\n"
            f"Kaggle requires a login, so the zoo cannot download it. Sign in at {COMPETITION_URL} , accept the "
            f"competition's rules, download {HOUSE_FILES[0]} and {HOUSE_FILES[1]} from its Data tab and put both "
            f"files in {folder}/ (or pass data_dir / --data-dir naming the folder that holds them).")


def read_house_csv(path: Path) -> tuple[list[str], list[list[Cell]]]:
    """Header and rows of a competition CSV; missing cells are ``None``. Raises `DataError` if unreadable or ragged."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path} is unreadable ({exc}); download it again from {COMPETITION_URL}") from exc
    rows = [row for row in rows if row]  # a trailing blank line
    if not rows:
        raise DataError(f"{path} is empty; download it again from {COMPETITION_URL}")
    header, body = rows[0], rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise DataError(f"{path}, line {number}: {len(row)} fields, but the header has {len(header)}")
    return header, [[None if cell.strip() in NA_STRINGS else cell for cell in row] for row in body]


def _number(cell: Cell) -> float | None:
    try:
        return None if cell is None else float(cell)
    except ValueError:
        return None


def _is_numeric(values: list[Cell]) -> bool:
    present = [v for v in values if v is not None]
    return all(_number(v) is not None for v in present)


def preprocess_house_features(columns: list[str], rows: list[list[Cell]]) -> tuple[torch.Tensor, list[str]]:
    """Book 3.16.3 on the stacked feature rows (train then test, no ``Id``, no label): standardise numeric columns
    (mean, sample std), fill missing with 0, one-hot the others with a "missing" indicator.

    Returns:
        features (rows, F) float64 and the F column names: numeric columns first, then ``<col>_<value>`` and
        ``<col>_nan``.
    """
    numeric_blocks, indicator_blocks, names_numeric, names_indicator = [], [], [], []
    for c, name in enumerate(columns):
        values = [row[c] for row in rows]
        if _is_numeric(values):
            numbers = torch.tensor([math.nan if v is None else float(v) for v in values], dtype=torch.float64)
            present = numbers[~numbers.isnan()]
            if present.numel() > 1:
                mean, std = present.mean(), present.std(unbiased=True)
                standardised = (numbers - mean) / std
            else:  # pandas: std of one value is NaN, so the whole column becomes NaN, then 0
                standardised = torch.full_like(numbers, math.nan)
            numeric_blocks.append(torch.nan_to_num(standardised, nan=0.0, posinf=0.0, neginf=0.0))  # fillna(0)
            names_numeric.append(name)
        else:
            categories = sorted({v for v in values if v is not None})
            index = {v: i for i, v in enumerate(categories)}
            block = torch.zeros(len(rows), len(categories) + 1, dtype=torch.float64)  # last column: missing
            for r, v in enumerate(values):
                block[r, len(categories) if v is None else index[v]] = 1.0
            indicator_blocks.append(block)
            names_indicator += [f"{name}_{v}" for v in categories] + [f"{name}_nan"]
    numeric = torch.stack(numeric_blocks, dim=1) if numeric_blocks else torch.zeros(len(rows), 0, dtype=torch.float64)
    features = torch.cat([numeric, *indicator_blocks], dim=1)  # (rows, F)
    return features, names_numeric + names_indicator


@dataclass
class HouseData:
    """The preprocessed competition data."""

    train_features: torch.Tensor  # (n_train, F) float32
    train_labels: torch.Tensor  # (n_train,) float32, SalePrice
    test_features: torch.Tensor  # (n_test, F) float32
    test_ids: list[str]
    feature_names: list[str]
    raw_feature_count: int  # columns before one-hot encoding (79 on the real files)


def load_house_data(folder: Path) -> HouseData:
    """Read and preprocess ``folder``/train.csv and test.csv (book 3.16.2-3.16.3)."""
    _check_files(folder)
    train_header, train_rows = read_house_csv(folder / HOUSE_FILES[0])
    test_header, test_rows = read_house_csv(folder / HOUSE_FILES[1])
    if train_header[:1] != ["Id"] or train_header[-1:] != [LABEL]:
        raise DataError(f"{folder / HOUSE_FILES[0]} must start with Id and end with {LABEL}, got columns "
                        f"{train_header[:1]} ... {train_header[-1:]}; is it the competition's train.csv?")
    if test_header != train_header[:-1]:
        raise DataError(f"{folder / HOUSE_FILES[1]} must have train.csv's columns without {LABEL}; they differ "
                        f"(is it the competition's test.csv?)")
    if not train_rows or not test_rows:
        raise DataError(f"{folder} holds a train.csv or test.csv without data rows")
    labels = [_number(row[-1]) for row in train_rows]
    bad = [i + 2 for i, v in enumerate(labels) if v is None or v <= 0]
    if bad:
        raise DataError(f"{folder / HOUSE_FILES[0]}: {LABEL} must be a positive number; lines {bad[:5]} are not")
    columns = train_header[1:-1]
    stacked = [row[1:-1] for row in train_rows] + [row[1:] for row in test_rows]
    features, names = preprocess_house_features(columns, stacked)
    n_train = len(train_rows)
    return HouseData(features[:n_train].float(), torch.tensor(labels, dtype=torch.float32),
                     features[n_train:].float(), [row[0] for row in test_rows], names, len(columns))


def k_fold_data(features: torch.Tensor, labels: torch.Tensor, k: int,
                i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Book 3.16.5's ``get_k_fold_data``: fold ``i`` of ``k`` for validation, the other folds (in order) for training.

    Returns:
        train features, train labels, valid features, valid labels. Folds have ``n // k`` rows each; the last
        ``n % k`` rows are in neither part, as in the book.
    """
    n = features.shape[0]
    if k < 2 or not 0 <= i < k:
        raise ConfigError(f"k-fold cross-validation needs k >= 2 and 0 <= i < k, got k={k}, i={i}")
    size = n // k
    if size == 0:
        raise ConfigError(f"{k}-fold cross-validation needs at least {k} examples, got {n}")
    valid = torch.arange(i * size, (i + 1) * size)
    train = torch.cat([torch.arange(j * size, (j + 1) * size) for j in range(k) if j != i])
    return features[train], labels[train], features[valid], labels[valid]


class KaggleHouseDataModule(RegressionDataModule):
    """Kaggle house prices (book 3.16): preprocessed features -> SalePrice.

    Training batches come from train.csv; ``val_dataloader()`` is the whole training set (the book reports the
    training error), ``predict_dataloader()`` the unlabelled test.csv houses in file order (``test_ids``).
    ``num_features`` (354 on the real files) reads the files on first use, so the CLI can link it to the model.

    Args:
        data_dir: the folder holding train.csv and test.csv; default ``<zoo cache>/kaggle_house``.
        batch_size: minibatch size (book: 64).
        shuffle: reshuffle the training set every epoch (book: yes).
    """

    def __init__(self, data_dir: str | None = None, batch_size: int = 64, shuffle: bool = True) -> None:
        super().__init__(batch_size, shuffle)
        self.save_hyperparameters()
        self.folder = house_folder(data_dir)
        self._data: HouseData | None = None

    @property
    def data(self) -> HouseData:
        if self._data is None:
            self._data = load_house_data(self.folder)
        return self._data

    @property
    def num_features(self) -> int:
        return self.data.train_features.shape[1]

    def prepare_data(self) -> None:
        _check_files(self.folder)  # nothing to download: fail early with the instructions

    def make_data(self) -> None:
        self.train_features, self.train_labels = self.data.train_features, self.data.train_labels
        self.test_features, self.test_ids = self.data.test_features, self.data.test_ids

    def predict_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(self.data.test_features), batch_size=self.batch_size, shuffle=False)
