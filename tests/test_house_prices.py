"""Book 3.16 (Kaggle house prices) on small CSVs written in the real format (tests/house_fakes.py): preprocessing,
missing values as a category, k-fold splits, the log-RMSE (true and the book's), the command end to end, the
missing-files message and the recipe's datamodule under Lightning. The real files (79 features, 354 after one-hot
encoding) are not on this machine."""

from __future__ import annotations

import csv
import math

import lightning as L
import pytest
import torch

from datamodules.kaggle_house import (
    COMPETITION_URL,
    KaggleHouseDataModule,
    house_folder,
    k_fold_data,
    load_house_data,
    read_house_csv,
)
from tests.house_fakes import install_kaggle_house, write_house_csvs
from zoo.errors import ConfigError, DataError, DataUnavailableError
from zoo.ops.regression_metrics import book_log_rmse, log_rmse
from zoo.runtime import LogRMSE
from zoo.studies.house_prices import house_prices_command, train_house_model


def write(folder, train, test):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.csv").write_text(train, encoding="utf-8")
    (folder / "test.csv").write_text(test, encoding="utf-8")
    return folder


TRAIN = """Id,MSSubClass,LotFrontage,Alley,SaleCondition,SalePrice
1,60,65,NA,Normal,208500
2,20,80,Grvl,Abnorml,181500
3,60,NA,NA,Normal,223500
"""
TEST = """Id,MSSubClass,LotFrontage,Alley,SaleCondition
4,70,60,Pave,NA
"""


def test_preprocessing_values_and_column_order(tmp_path):
    data = load_house_data(write(tmp_path, TRAIN, TEST))
    assert data.feature_names == ["MSSubClass", "LotFrontage", "Alley_Grvl", "Alley_Pave", "Alley_nan",
                                  "SaleCondition_Abnorml", "SaleCondition_Normal", "SaleCondition_nan"]
    assert data.raw_feature_count == 4 and data.test_ids == ["4"]
    assert data.train_labels.tolist() == [208500.0, 181500.0, 223500.0]
    features = torch.cat([data.train_features, data.test_features]).double()  # (4, 8), train then test
    sub = torch.tensor([60.0, 20, 60, 70], dtype=torch.float64)  # standardised over train + test, sample std
    torch.testing.assert_close(features[:, 0], (sub - sub.mean()) / sub.std(), atol=1e-6, rtol=1e-6)
    front = torch.tensor([65.0, 80, 60], dtype=torch.float64)  # the NA becomes 0, the mean
    expected = (front - front.mean()) / front.std()
    torch.testing.assert_close(features[[0, 1, 3], 1], expected, atol=1e-6, rtol=1e-6)
    assert features[2, 1] == 0
    assert features[:, 2:5].tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]]  # NA is its own category
    assert features[:, 5:].tolist() == [[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]  # _nan exists, even in train


def test_fake_files_have_the_real_layout_and_expected_width(tmp_path):
    folder = write_house_csvs(tmp_path, n_train=40, n_test=20)
    header, rows = read_house_csv(folder / "train.csv")
    assert header[0] == "Id" and header[-1] == "SalePrice" and len(rows) == 40
    data = load_house_data(folder)
    _, test_rows = read_house_csv(folder / "test.csv")
    all_rows = [r[1:-1] for r in rows] + [r[1:] for r in test_rows]
    categorical = ("MSZoning", "Street", "Alley", "SaleCondition")
    widths = [len({r[header.index(c) - 1] for r in all_rows} - {None}) + 1 for c in categorical]
    assert data.train_features.shape == (40, 5 + sum(widths)) and data.test_features.shape[0] == 20
    assert "Alley_nan" in data.feature_names and "MSZoning_nan" in data.feature_names
    assert data.train_features[:, :5].double().mean(0).abs().max() < 1  # standardised columns


def test_k_fold_split_follows_the_book():
    x, y = torch.arange(22.0).view(11, 2), torch.arange(11.0)
    tx, ty, vx, vy = k_fold_data(x, y, 5, 1)  # folds of 11 // 5 = 2 rows; row 10 in none
    assert vy.tolist() == [2.0, 3.0] and ty.tolist() == [0.0, 1.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert torch.equal(vx, x[2:4]) and tx.shape == (8, 2)
    folds = [k_fold_data(x, y, 5, i)[3].tolist() for i in range(5)]
    assert sum(folds, []) == list(map(float, range(10)))
    with pytest.raises(ConfigError, match="k-fold cross-validation needs k >= 2 and 0 <= i < k, got k=5, i=5"):
        k_fold_data(x, y, 5, 5)
    with pytest.raises(ConfigError, match="5-fold cross-validation needs at least 5 examples, got 3"):
        k_fold_data(x[:3], y[:3], 5, 0)


def test_log_rmse_true_and_the_books():
    labels = torch.tensor([100.0, 200.0, 400.0])
    preds = torch.tensor([100.0 * math.e, 200.0, 0.5])  # errors 1, 0 and log(1 / 400) after raising 0.5 to 1
    expected = math.sqrt((1 + 0 + math.log(400) ** 2) / 3)
    assert log_rmse(preds, labels).item() == pytest.approx(expected)
    assert book_log_rmse(preds, labels).item() == pytest.approx(math.sqrt(2) * expected)
    mse = torch.nn.MSELoss()  # the book's formula, sqrt(2 * MSELoss(log y_hat, log y))
    book = torch.sqrt(2 * mse(preds.clamp(min=1).log(), labels.log()))
    assert book_log_rmse(preds, labels).item() == pytest.approx(book.item())
    with pytest.raises(ConfigError, match="log_rmse needs positive labels"):
        log_rmse(preds, torch.tensor([1.0, 0.0, 2.0]))
    with pytest.raises(ConfigError, match="as many predictions as labels"):
        log_rmse(preds[:2], labels)


def test_command_end_to_end(tmp_path, capsys):
    folder = write_house_csvs(tmp_path / "house", n_train=60, n_test=25)
    out = tmp_path / "out" / "submission.csv"
    assert house_prices_command(["--data-dir", str(folder), "--k", "3", "--epochs", "40", "--out", str(out),
                                 "--plot", str(tmp_path / "fold0.png")]) == 0
    printed = capsys.readouterr().out
    assert "60 training and 25 test houses, 9 features ->" in printed
    assert "fold 2, train log-rmse " in printed and "3-fold validation: avg train log-rmse " in printed
    assert "(book's: " in printed and "all data: train log-rmse " in printed
    final = float(printed.split("all data: train log-rmse ")[1].split()[0])
    book = float(printed.split("all data: train log-rmse ")[1].split("(book's: ")[1].split(")")[0])
    assert book == pytest.approx(final * math.sqrt(2), abs=2e-6)
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Id", "SalePrice"] and [r[0] for r in rows[1:]] == [str(i) for i in range(61, 86)]
    assert all(float(r[1]) > 0 for r in rows[1:])
    assert (tmp_path / "fold0.png").stat().st_size > 1000


def test_training_learns_the_fake_prices(tmp_path):
    data = load_house_data(write_house_csvs(tmp_path, n_train=60, n_test=5))
    _, curves = train_house_model(data.train_features, data.train_labels, epochs=60, batch_size=16)
    assert curves.train[-1] < 0.5 * curves.train[0] and curves.valid == []


def test_missing_files_say_where_to_put_them(tmp_path):
    folder = tmp_path / "nowhere"
    with pytest.raises(DataUnavailableError) as info:
        house_prices_command(["--data-dir", str(folder)])
    message = str(info.value)
    assert f"the Kaggle house-price data is not in {folder}: missing train.csv and test.csv." in message
    assert COMPETITION_URL in message and f"put both files in {folder}/" in message
    write(folder, TRAIN, TEST).joinpath("test.csv").unlink()
    with pytest.raises(DataUnavailableError, match="missing test.csv"):
        KaggleHouseDataModule(data_dir=str(folder)).prepare_data()
    default = house_folder()  # conftest points $ZOO_DATA_DIR at tmp_path / "cache"
    assert default == tmp_path / "cache" / "kaggle_house"
    with pytest.raises(DataUnavailableError, match=f"not in {default}"):
        _ = KaggleHouseDataModule().num_features


def test_bad_files(tmp_path):
    with pytest.raises(DataError, match="must start with Id and end with SalePrice"):
        load_house_data(write(tmp_path / "a", TRAIN.replace("SalePrice", "Price"), TEST))
    with pytest.raises(DataError, match="must have train.csv's columns without SalePrice"):
        load_house_data(write(tmp_path / "b", TRAIN, TEST.replace("Alley", "Street")))
    with pytest.raises(DataError, match=r"line 3: 5 fields, but the header has 6"):
        load_house_data(write(tmp_path / "c", TRAIN.replace("2,20,80,", "2,20,"), TEST))
    with pytest.raises(DataError, match=r"SalePrice must be a positive number; lines \[2\] are not"):
        load_house_data(write(tmp_path / "d", TRAIN.replace("208500", "NA"), TEST))
    with pytest.raises(ConfigError, match="--k must be at least 2, got 1"):
        house_prices_command(["--k", "1"])


def test_datamodule_trains_a_linear_regression_with_the_log_rmse_callback(tmp_path, monkeypatch):
    import zoo

    install_kaggle_house(tmp_path / "data", monkeypatch)
    dm = KaggleHouseDataModule(batch_size=16)  # the default folder, under $ZOO_DATA_DIR
    model = zoo.LinearRegression(num_features=dm.num_features, loss="mse", optimizer="adam", lr=5.0,
                                 init_std=0.01, bias_init_std=0.01)
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", callbacks=[LogRMSE()],
                        default_root_dir=tmp_path)
    trainer.fit(model, dm)
    assert {"train/log_rmse", "train/log_rmse_book", "train/full_loss"} <= set(trainer.callback_metrics)
    m = trainer.callback_metrics
    assert m["train/log_rmse_book"].item() == pytest.approx(math.sqrt(2) * m["train/log_rmse"].item(), rel=1e-5)
    predictions = torch.cat(trainer.predict(model, dm))
    assert predictions.shape == (30,)
