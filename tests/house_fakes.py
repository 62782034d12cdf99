"""Small Kaggle house-price files in the real format (book 3.16): comma-separated, a header row, ``Id`` first,
``SalePrice`` last in train.csv only, and ``NA`` for missing cells, with a handful of the real columns.

The real files have 79 features (36 numeric, 43 categorical); these have 9 of them: numeric ``MSSubClass``
(integer codes), ``LotFrontage`` (with NA), ``LotArea``, ``OverallQual``, ``YearBuilt``, and categorical
``MSZoning`` (NA in test only, as on Kaggle), ``Street``, ``Alley`` (mostly NA, meaning "no alley access") and
``SaleCondition``. The price grows with lot area, quality and year, so a linear model can learn it.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

COLUMNS = ["Id", "MSSubClass", "MSZoning", "LotFrontage", "LotArea", "Street", "Alley", "OverallQual", "YearBuilt",
           "SaleCondition"]
NUMERIC = ["MSSubClass", "LotFrontage", "LotArea", "OverallQual", "YearBuilt"]
CATEGORIES = {"MSZoning": ["C (all)", "FV", "RH", "RL", "RM"], "Street": ["Grvl", "Pave"], "Alley": ["Grvl", "Pave"],
              "SaleCondition": ["Abnorml", "Family", "Normal", "Partial"]}


def house_rows(n: int, seed: int, first_id: int = 1, test: bool = False) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        area = rng.randint(4000, 20000)
        quality = rng.randint(3, 9)
        year = rng.randint(1900, 2009)
        zoning = rng.choice(CATEGORIES["MSZoning"])
        if test and i % 7 == 3:
            zoning = "NA"
        frontage = "NA" if i % 5 == 0 else str(rng.randint(40, 120))
        alley = rng.choice(["Grvl", "Pave"]) if i % 4 == 1 else "NA"
        row = [str(first_id + i), str(rng.choice([20, 60, 120])), zoning, frontage, str(area),
               rng.choice(["Pave"] * 5 + ["Grvl"]), alley, str(quality), str(year),
               rng.choice(CATEGORIES["SaleCondition"])]
        if not test:
            price = 30000 + 4 * area + 15000 * quality + 300 * (year - 1900) + rng.gauss(0, 5000)
            row.append(str(max(int(price), 35000)))
        rows.append(row)
    return rows


def write_house_csvs(folder: Path, n_train: int = 40, n_test: int = 20, seed: int = 0) -> Path:
    """train.csv (``n_train`` houses) and test.csv (``n_test``) in ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (
        ("train.csv", [*COLUMNS, "SalePrice"], house_rows(n_train, seed)),
        ("test.csv", COLUMNS, house_rows(n_test, seed + 1, first_id=n_train + 1, test=True)),
    ):
        with open(folder / name, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows([header, *rows])
    return folder


def install_kaggle_house(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write the files where `KaggleHouseDataModule` finds them: in ``root`` (``data_dir=root``) and, with
    ``$ZOO_DATA_DIR`` pointed at ``root``, in ``root/kaggle_house`` (the default folder)."""
    write_house_csvs(root, n_train=80, n_test=30)
    write_house_csvs(root / "kaggle_house", n_train=80, n_test=30)
    monkeypatch.setenv("ZOO_DATA_DIR", str(root))
