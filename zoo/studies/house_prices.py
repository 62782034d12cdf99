"""``python -m zoo house-prices``: book 3.16's Kaggle house-price experiment, k-fold cross-validation then training on
all the data and writing ``submission.csv``. (The recipe ``linreg_kaggle_house`` trains the same model under Lightning,
with `zoo.runtime.LogRMSE` logging the competition's metric.)

    python -m zoo house-prices [--data-dir DIR] [--k 5] [--epochs 100] [--out submission.csv]

The model and settings are the book's: ``nn.Linear(354, 1)`` with every parameter drawn from N(0, 0.01^2)
(`zoo.nets.linreg.linear_regression_net`), ``MSELoss`` on the raw prices, Adam with lr 5 and weight decay 0,
minibatches of 64, 100 epochs; the metric is the log-RMSE after every epoch. The command trains with a plain
PyTorch loop rather than a Lightning ``Trainer``: k + 1 runs of 100 short epochs, each followed by two whole-set
evaluations, are where the Trainer's per-epoch overhead would dominate (a run is about a second this way); the same
model trains under Lightning with the recipe. Every printed error is given twice: the true log-RMSE, and the book's
number, sqrt(2) times larger (`zoo.ops.regression_metrics`), labelled "book's".

The book prints (3.16.5-3.16.7): fold 0 train 0.241054 valid 0.221462 ... average train 0.234155 valid 0.241113,
full data train 0.229943, all in the book's convention (true log-RMSE: divide by 1.4142).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from zoo.errors import ConfigError
from zoo.files import atomic_write_text, check_output_file
from zoo.nets.linreg import linear_regression_net
from zoo.ops.regression_metrics import BOOK_FACTOR, log_rmse

__all__ = ["Curves", "house_prices_command", "train_house_model", "write_submission"]


@dataclass
class Curves:
    """True log-RMSE after every epoch, on the training part and (if given) the validation part."""

    train: list[float]
    valid: list[float]


def train_house_model(train_x: torch.Tensor, train_y: torch.Tensor, valid_x: torch.Tensor | None = None,
                      valid_y: torch.Tensor | None = None, epochs: int = 100, lr: float = 5.0,
                      weight_decay: float = 0.0, batch_size: int = 64,
                      seed: int = 0) -> tuple[torch.nn.Linear, Curves]:
    """Book 3.16.4's ``train``: Adam on the squared error of raw prices, log-RMSE recorded after every epoch.

    Args:
        train_x, train_y: (N, F) features and (N,) prices.
        valid_x, valid_y: an optional validation part, evaluated after every epoch too.
        seed: seeds the N(0, 0.01^2) initialisation and the shuffling.
    """
    if epochs < 1 or batch_size < 1 or lr <= 0 or weight_decay < 0:
        raise ConfigError(f"need epochs >= 1, batch_size >= 1, lr > 0 and weight_decay >= 0; got {epochs}, "
                          f"{batch_size}, {lr} and {weight_decay}")
    torch.manual_seed(seed)
    net = linear_regression_net(train_x.shape[1], init_std=0.01, bias_init_std=0.01)  # (B, F) -> (B, 1)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    order = torch.Generator().manual_seed(seed)
    curves = Curves([], [])
    for _ in range(epochs):
        for batch in torch.randperm(len(train_y), generator=order).split(batch_size):
            loss = torch.nn.functional.mse_loss(net(train_x[batch]).squeeze(1), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            curves.train.append(float(log_rmse(net(train_x), train_y)))
            if valid_x is not None and valid_y is not None:
                curves.valid.append(float(log_rmse(net(valid_x), valid_y)))
    return net, curves


def _both(value: float) -> str:
    return f"{value:f} (book's: {value * BOOK_FACTOR:f})"


def write_submission(path: str | Path, ids: Sequence[str], prices: torch.Tensor) -> Path:
    """The competition's submission format: a header ``Id,SalePrice`` and one row per test house, written atomically
    (`zoo.files.check_output_file` first: a folder, a path through a file or a read-only folder is one line)."""
    path = check_output_file(path, flag="--out")
    lines = ["Id,SalePrice", *(f"{i},{p:.2f}" for i, p in zip(ids, prices.reshape(-1).tolist()))]
    try:
        return atomic_write_text(path, "\n".join(lines) + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None


def _plot(curves: Curves, path: str | Path, title: str) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5), dpi=100)
    ax = fig.subplots()
    epochs = range(1, len(curves.train) + 1)
    ax.semilogy(epochs, curves.train, label="train")
    if curves.valid:
        ax.semilogy(epochs, curves.valid, label="valid", linestyle="--")
    ax.set_xlabel("epoch")
    ax.set_ylabel("log-RMSE (true)")
    ax.set_title(title, fontsize=9)
    ax.legend()
    from zoo.runtime.plots import save_figure

    return save_figure(fig, path, flag="--plot", bbox_inches="tight")


def house_prices_command(argv: Sequence[str]) -> int:
    """``python -m zoo house-prices``: k-fold log-RMSE, then train on all data and write the submission file."""
    from datamodules.kaggle_house import COMPETITION_URL, HOUSE_FILES, house_folder, k_fold_data, load_house_data

    parser = argparse.ArgumentParser(
        prog="python -m zoo house-prices",
        description="Book 3.16: linear regression on the Kaggle house prices. k-fold cross-validation, then "
                    "training on all of train.csv and a submission file for test.csv. Errors are the true "
                    "log-RMSE and, labelled, the book's sqrt(2)-scaled number.",
        epilog=f"the files come from {COMPETITION_URL} (Kaggle login). "
               "example: python -m zoo house-prices --data-dir ~/kaggle_house --out submission.csv")
    parser.add_argument("--data-dir", default=None,
                        help="folder with train.csv and test.csv (default: <zoo cache>/kaggle_house)")
    parser.add_argument("--k", type=int, default=5, help="folds (default: 5)")
    parser.add_argument("--epochs", type=int, default=100, help="epochs per run (default: 100)")
    parser.add_argument("--lr", type=float, default=5.0, help="Adam's learning rate (default: 5)")
    parser.add_argument("--weight-decay", type=float, default=0.0, help="Adam's weight decay (default: 0)")
    parser.add_argument("--batch-size", type=int, default=64, help="minibatch size (default: 64)")
    parser.add_argument("--seed", type=int, default=0, help="seed of initialisation and shuffling (default: 0)")
    parser.add_argument("--out", default="submission.csv", help="submission file (default: submission.csv)")
    parser.add_argument("--plot", default=None,
                        help="optional figure of fold 0's curves, .png, .jpg, .pdf or .svg (the book's figure)")
    args = parser.parse_args(argv)
    if args.k < 2:
        raise ConfigError(f"--k must be at least 2, got {args.k}")
    folder = house_folder(args.data_dir)
    inputs = [folder / name for name in HOUSE_FILES]  # never written over
    check_output_file(args.out, flag="--out", inputs=inputs)
    if args.plot:
        from zoo.runtime.plots import FIGURE_FORMATS

        check_output_file(args.plot, tuple(FIGURE_FORMATS), flag="--plot", inputs=[*inputs, args.out])

    data = load_house_data(folder)
    x, y = data.train_features, data.train_labels
    print(f"{len(y)} training and {len(data.test_ids)} test houses, {data.raw_feature_count} features -> "
          f"{x.shape[1]} after one-hot encoding")
    hyper = {"epochs": args.epochs, "lr": args.lr, "weight_decay": args.weight_decay, "batch_size": args.batch_size}
    train_sum = valid_sum = 0.0
    for i in range(args.k):
        _, curves = train_house_model(*k_fold_data(x, y, args.k, i), seed=args.seed + i, **hyper)
        train_sum, valid_sum = train_sum + curves.train[-1], valid_sum + curves.valid[-1]
        print(f"fold {i}, train log-rmse {_both(curves.train[-1])}, valid log-rmse {_both(curves.valid[-1])}")
        if i == 0 and args.plot:
            print(f"plot: {_plot(curves, args.plot, f'fold 0 of {args.k}: log-RMSE per epoch')}")
    print(f"{args.k}-fold validation: avg train log-rmse {_both(train_sum / args.k)}, "
          f"avg valid log-rmse {_both(valid_sum / args.k)}")
    net, curves = train_house_model(x, y, seed=args.seed + args.k, **hyper)
    print(f"all data: train log-rmse {_both(curves.train[-1])}")
    with torch.no_grad():
        prices = net(data.test_features)  # (n_test, 1)
    out = write_submission(args.out, data.test_ids, prices)
    print(f"wrote {out}: {len(data.test_ids)} predictions (Id,SalePrice)")
    return 0
