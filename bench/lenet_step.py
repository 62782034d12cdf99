"""Training images per second of the lenet_fashion_mnist recipe through Lightning vs. a plain PyTorch loop.

Both sides train the recipe's network (LeNet, sigmoid, max pooling; Adam 1e-3, batch 256, shuffled) on the same
in-memory tensors: 60,000 random 28x28 images written in the real IDX format, decoded once by
``FashionMNISTDataModule`` into one uint8 tensor, served by its batched loader and converted by its batch transform
(in the loader, as under a CPU Trainer).

* Lightning: the recipe itself through ``ZooCLI`` (progress bar, CSV logger, a checkpoint per epoch, train loss and
  torchmetrics accuracy logged per epoch), with the per-epoch evaluation switched off;
* plain: the book's ``train_ch5`` loop (5.5.2) without its evaluation: forward, cross-entropy, backward, Adam step,
  and the running loss and correct-prediction sums it prints, on its own network and optimizer.

The two alternate epoch by epoch in one process: after each Lightning epoch a callback runs one plain epoch, so
both see the same state of a shared machine, whose speed drifts by tens of percent over minutes. A Lightning epoch
is timed from its start to the next one's, less the plain epoch in between, so it includes everything Lightning
does per epoch (checkpoint, logging, progress bar). The first epoch of each side is a warm-up. Result: the median
over pairs of (plain epoch time / Lightning epoch time), the ratio of images per second. Target: >= 0.9.

    python bench/lenet_step.py [--pairs 8] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F

from datamodules.fashion_mnist import FashionMNISTDataModule
from zoo.cli import recipe_path, run_lightning_cli
from zoo.nets.lenet import LeNet

TARGET = 0.9


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
    """The plain side: one call trains one epoch and returns (seconds, train accuracy)."""

    def __init__(self, dm: FashionMNISTDataModule, seed: int) -> None:
        torch.manual_seed(seed)
        self.net = LeNet(in_channels=1, num_classes=10, image_size=28)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loader = dm.train_dataloader()

    def epoch(self) -> tuple[float, float]:
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
        return time.perf_counter() - start, correct / n


class Interleave(L.Callback):
    """Runs a plain epoch after each Lightning epoch and records both durations."""

    def __init__(self, plain: PlainLoop) -> None:
        self.plain = plain
        self.starts: list[float] = []
        self.plain_times: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.starts.append(time.perf_counter())

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        seconds, acc = self.plain.epoch()
        self.plain_times.append(seconds)
        print(f"\n  plain epoch {len(self.plain_times) - 1}: {seconds:.2f} s, train acc {acc:.3f}")

    def on_train_end(self, trainer, pl_module) -> None:
        self.starts.append(time.perf_counter())  # closes the last epoch

    def lightning_times(self) -> list[float]:
        return [b - a - p for a, b, p in zip(self.starts, self.starts[1:], self.plain_times)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=8, help="timed epoch pairs, after one warm-up pair")
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
        interleave = Interleave(PlainLoop(dm, args.seed))
        cli.trainer.callbacks.append(interleave)
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)

    light, plain = interleave.lightning_times()[1:], interleave.plain_times[1:]
    ratios = [p / lt for p, lt in zip(plain, light)]
    for i, (p, lt, r) in enumerate(zip(plain, light, ratios), start=1):
        print(f"pair {i}: plain {args.n_train / p:9,.0f} images/s, Lightning {args.n_train / lt:9,.0f} images/s, "
              f"ratio {r:.3f}")
    print(f"\nplain PyTorch: {args.n_train / statistics.median(plain):,.0f} training images/s (median epoch)")
    print(f"Lightning:     {args.n_train / statistics.median(light):,.0f} training images/s (median epoch), train acc "
          f"{float(cli.trainer.callback_metrics['train/acc']):.3f}")
    ratio = statistics.median(ratios)
    print(f"ratio Lightning/plain, median of {len(ratios)} interleaved epoch pairs: {ratio:.3f} (range "
          f"{min(ratios):.3f}-{max(ratios):.3f}; target >= {TARGET}: {'met' if ratio >= TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
