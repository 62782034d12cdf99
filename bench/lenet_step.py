"""Training images per second of the lenet_fashion_mnist recipe through Lightning vs. a plain PyTorch loop.

Both sides train the recipe's network (LeNet, sigmoid, max pooling; Adam 1e-3, batch 256, shuffled) on the same
in-memory tensors: 60,000 random 28x28 images written in the real IDX format, decoded once by
``FashionMNISTDataModule`` into one uint8 tensor, served by its batched loader and converted by its batch transform
(in the loader, as under a CPU Trainer).

* Lightning: the recipe itself through ``ZooCLI`` (progress bar, CSV logger, a checkpoint per epoch, train loss and
  torchmetrics accuracy logged per epoch), with the per-epoch evaluation switched off;
* plain: the book's ``train_ch5`` loop (5.5.2) without its evaluation: forward, cross-entropy, backward, Adam step,
  and the running loss and correct-prediction sums it prints.

Rounds alternate (plain, Lightning, plain, ...) so that drift of a shared machine hits both; the first epoch of each
run is a warm-up and not timed; rates use the median epoch. Target: Lightning >= 0.9x the plain loop's
images/second.

    python bench/lenet_step.py [--epochs 3] [--rounds 2] [--threads N]
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


class EpochTimer(L.Callback):
    def __init__(self) -> None:
        self.starts: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.starts.append(time.perf_counter())

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.ends = getattr(self, "ends", []) + [time.perf_counter()]


def write_idx(root: Path, n_train: int, n_test: int, seed: int = 0) -> None:
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 2051, n, 28, 28) + rng.integers(0, 256, (n, 28, 28), dtype=np.uint8).tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 2049, n) + rng.integers(0, 10, n, dtype=np.uint8).tobytes())


def plain_loop(dm: FashionMNISTDataModule, epochs: int, seed: int) -> tuple[list[float], float]:
    """Seconds of each epoch after the first, and the last epoch's train accuracy."""
    torch.manual_seed(seed)
    net = LeNet(in_channels=1, num_classes=10, image_size=28)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    loader = dm.train_dataloader()
    times, acc = [], 0.0
    for epoch in range(epochs):
        start, loss_sum, correct, n = time.perf_counter(), 0.0, 0, 0
        for x, y in loader:  # float batches, converted by the loader as in the Lightning run
            logits = net(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            n += y.shape[0]
        acc = correct / n
        if epoch:
            times.append(time.perf_counter() - start)
    return times, acc


def lightning_recipe(data_dir: str, epochs: int, seed: int, root: Path) -> tuple[list[float], float]:
    cli = run_lightning_cli(
        ["--config", str(recipe_path("lenet_fashion_mnist")), f"--seed_everything={seed}",
         f"--data.init_args.data_dir={data_dir}", f"--trainer.max_epochs={epochs}", "--trainer.limit_val_batches=0",
         "--trainer.num_sanity_val_steps=0", f"--trainer.default_root_dir={root}"],
        run=False,
    )
    timer = EpochTimer()
    cli.trainer.callbacks.append(timer)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    times = [end - start for start, end in zip(timer.starts, timer.ends)][1:]
    return times, float(cli.trainer.callback_metrics["train/acc"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run; the first is a warm-up")
    parser.add_argument("--rounds", type=int, default=2, help="alternating plain/Lightning rounds")
    parser.add_argument("--n-train", type=int, default=60_000)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # LightningCLI below gets its arguments explicitly
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is not timed)")
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        write_idx(Path(tmp), args.n_train, 1_000)
        dm = FashionMNISTDataModule(data_dir=tmp, batch_size=256, transform_on="loader")  # as under a CPU Trainer
        dm.setup("fit")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}; {args.n_train} images, batch 256, {args.epochs} epochs x {args.rounds} "
              "rounds")
        if os.getloadavg()[0] > (os.cpu_count() or 1) and torch.get_num_threads() > 1:
            print("warning: the machine is busier than its CPU count; multi-threaded tensor operations may stall "
                  "waiting for a core. Rerun with --threads 1 for a comparison without that effect.")
        plain, light = [], []
        for r in range(args.rounds):
            times, acc = plain_loop(dm, args.epochs, args.seed)
            plain += times
            print(f"round {r}: plain     {args.n_train / statistics.median(times):9,.0f} images/s, train acc {acc:.3f}")
            times, acc = lightning_recipe(tmp, args.epochs, args.seed, Path(tmp) / f"runs{r}")
            light += times
            print(f"round {r}: lightning {args.n_train / statistics.median(times):9,.0f} images/s, train acc {acc:.3f}")
    plain_rate = args.n_train / statistics.median(plain)
    light_rate = args.n_train / statistics.median(light)
    ratio = light_rate / plain_rate
    print(f"\nplain PyTorch: {plain_rate:,.0f} training images/s")
    print(f"Lightning:     {light_rate:,.0f} training images/s")
    print(f"ratio Lightning/plain: {ratio:.3f}  (target >= {TARGET}: {'met' if ratio >= TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
