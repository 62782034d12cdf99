"""NASA airfoil self-noise, the data set of book chapter 7 (7.3.1, ``get_data_ch7``; UCI "Airfoil Self-Noise").

The file has 1,503 rows of 6 tab-separated numbers (CRLF line ends): frequency, angle of attack, chord length,
free-stream velocity, suction-side displacement thickness, and the target, the scaled sound pressure level.
As the book does, **every column** (the target too) is standardised with the mean and the population standard
deviation (numpy's ``std``, ddof 0) of all 1,503 rows, and then the first 1,500 rows are kept: 5 features, 1 target.

Chapter 7 has no held-out data: ``val_dataloader()`` is the whole training set in one batch (``eval_sets =
("train",)``), so the task logs ``train/full_loss``, the ``loss:`` the book prints; recipes evaluate it every
100 examples as the book's ``train_ch7`` does (``trainer.val_check_interval``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from datamodules.download import Resource, cache_root, fetch
from datamodules.regression_data import RegressionDataModule
from zoo.errors import ConfigError, DataError
from zoo.validation import positive_int

__all__ = ["AIRFOIL", "AirfoilDataModule", "load_airfoil", "read_airfoil"]

AIRFOIL = Resource(
    filename="airfoil_self_noise.dat",
    urls=("http://d2l-data.s3-accelerate.amazonaws.com/airfoil_self_noise.dat",),
    checksum="76e5be1548fd8222e5074cf0faae75edff8cf93f",
)
NUM_COLUMNS = 6


def read_airfoil(path: Path) -> torch.Tensor:
    """The raw table, (rows, 6) float64; blank lines are skipped, anything else unreadable raises `DataError`."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is unreadable ({exc}); delete it and run again") from exc
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):  # splitlines handles the CRLF line ends
        if not line.strip():
            continue
        fields = line.split()
        try:
            values = [float(v) for v in fields]
        except ValueError:
            values = []
        if len(values) != NUM_COLUMNS:
            raise DataError(f"{path}, line {number}: expected {NUM_COLUMNS} tab-separated numbers, got "
                            f"{line.strip()[:80]!r}; is it the airfoil self-noise file?")
        rows.append(values)
    if not rows:
        raise DataError(f"{path} holds no data rows; delete it and run again")
    return torch.tensor(rows, dtype=torch.float64)


def load_airfoil(path: Path, num_examples: int = 1500, standardize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Book 7.3.1: standardise every column over all rows, keep the first ``num_examples``.

    Returns:
        features (num_examples, 5) and labels (num_examples,), float32.
    """
    data = read_airfoil(path)  # (1503, 6)
    if standardize:
        data = (data - data.mean(dim=0)) / data.std(dim=0, unbiased=False)
    if num_examples > len(data):
        raise ConfigError(f"num_examples={num_examples}, but {path} has only {len(data)} rows")
    data = data[:num_examples].float()
    return data[:, :-1].contiguous(), data[:, -1].contiguous()


class AirfoilDataModule(RegressionDataModule):
    """Airfoil self-noise regression, 5 standardised features -> standardised sound level (book 7.3.1).

    Args:
        data_dir: cache folder; default ``$ZOO_DATA_DIR`` or ``~/.cache/lightning-zoo``.
        num_examples: rows kept after standardising (book: the first 1,500 of 1,503).
        batch_size: minibatch size (book: 10; 1 for SGD and 1,500 for gradient descent in 7.3).
        shuffle: reshuffle the training set every epoch (book: yes).
        standardize: standardise every column as the book does.
    """

    num_features = NUM_COLUMNS - 1

    def __init__(self, data_dir: str | None = None, num_examples: int = 1500, batch_size: int = 10,
                 shuffle: bool = True, standardize: bool = True) -> None:
        super().__init__(batch_size, shuffle)
        positive_int(num_examples, "num_examples", type(self).__name__)
        self.save_hyperparameters()
        self.root = cache_root(data_dir)

    def prepare_data(self) -> None:
        fetch(AIRFOIL, self.root)

    def make_data(self) -> None:
        hp = self.hparams
        self.train_features, self.train_labels = load_airfoil(fetch(AIRFOIL, self.root), hp.num_examples,
                                                              hp.standardize)
