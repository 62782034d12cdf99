"""Training images per second of the lenet_fashion_mnist recipe through Lightning vs. a plain PyTorch loop.

Both sides train the recipe's network (LeNet, sigmoid, max pooling; Adam 1e-3, batch 256, shuffled) on the same
in-memory tensors: 60,000 random 28x28 images written in the real IDX format, decoded once by
``FashionMNISTDataModule`` into one uint8 tensor, served by its batched loader and converted by its batch transform
(in the loader, as under a CPU Trainer).

* Lightning: the recipe itself through ``ZooCLI`` (progress bar, CSV logger, a checkpoint per epoch, train loss and
  torchmetrics accuracy logged per epoch), with the per-epoch evaluation switched off;
* plain: the book's ``train_ch5`` loop (5.5.2) without its evaluation: forward, cross-entropy, backward, Adam step,
  and the running loss and correct-prediction sums it prints, on its own network and optimizer.

The two alternate epoch by epoch in one process (``bench/_interleave.py``); the result is the median over epoch pairs
of (plain epoch time / Lightning epoch time), the ratio of images per second. Target: >= 1.0.

    python bench/lenet_step.py [--pairs 12] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from _interleave import Interleave, bench_line, report

from datamodules.fashion_mnist import FashionMNISTDataModule
from zoo.cli import recipe_path, run_lightning_cli
from zoo.nets.lenet import LeNet

TARGET = 1.0


def write_idx(root: Path, n_train: int, n_test: int, seed: int = 0) -> None:
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 2051, n, 28, 28) + rng.integers(0, 256, (n, 28, 28), dtype=np.uint8).tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 2049, n) + rng.integers(0, 10, n, dtype=np.uint8).tobytes())


class PlainLoop:
    """The plain side: one call trains one epoch and returns (seconds, its train accuracy as text)."""

    def __init__(self, dm: FashionMNISTDataModule, seed: int) -> None:
        torch.manual_seed(seed)
        self.net = LeNet(in_channels=1, num_classes=10, image_size=28)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loader = dm.train_dataloader()

    def epoch(self) -> tuple[float, str]:
        start, loss_sum, correct, n = time.perf_counter(), 0.0, 0, 0
        for x, y in self.loader:  # float batches, converted by the loader as in the Lightning run
            logits = self.net(x)
            loss = F.cross_entropy(logits, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            loss_sum += loss.item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            n += y.shape[0]
        return time.perf_counter() - start, f"train acc {correct / n:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=12, help="timed epoch pairs, after one warm-up pair")
    parser.add_argument("--n-train", type=int, default=60_000)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # LightningCLI below gets its arguments explicitly
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        write_idx(Path(tmp), args.n_train, 1_000)
        dm = FashionMNISTDataModule(data_dir=tmp, batch_size=256, transform_on="loader")  # as under a CPU Trainer
        dm.setup("fit")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}; {args.n_train} images, batch 256, 1 + {args.pairs} epoch pairs")
        if os.getloadavg()[0] > (os.cpu_count() or 1) and torch.get_num_threads() > 1:
            print("warning: the machine is busier than its CPU count; multi-threaded tensor operations may stall "
                  "waiting for a core. Rerun with --threads 1 for a comparison without that effect.")
        cli = run_lightning_cli(
            ["--config", str(recipe_path("lenet_fashion_mnist")), f"--seed_everything={args.seed}",
             f"--data.init_args.data_dir={tmp}", f"--trainer.max_epochs={args.pairs + 1}",
             "--trainer.limit_val_batches=0", "--trainer.num_sanity_val_steps=0",
             f"--trainer.default_root_dir={Path(tmp) / 'runs'}"],
            run=False,
        )
        interleave = Interleave(PlainLoop(dm, args.seed).epoch)
        cli.trainer.callbacks.append(interleave)
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)

    light, plain = interleave.pairs()
    ratio = report(light, plain, lambda seconds: f"{args.n_train / seconds:9,.0f} images/s", "speed", TARGET,
                   cpu=interleave.cpu_pairs())
    print(f"Lightning's last train acc {float(cli.trainer.callback_metrics['train/acc']):.3f}")
    bench_line("lenet_fashion_mnist_vs_plain", ratio, ">=", TARGET, note="images/s recipe/plain")


if __name__ == "__main__":
    main()
