"""Seconds for an epoch of Fashion-MNIST batches: the zoo's fast path vs. torchvision's per-image pipeline.

Writes 60,000 training images (random pixels) and 10,000 test images in the real IDX format into a temporary
``FashionMNIST/raw`` folder, then times, in the same process and with the same batch size, shuffling and workers:

* ours: ``FashionMNISTDataModule`` batches (one uint8 indexing operation per batch) with the batched conversion
  (float, bilinear antialiased resize) where a CPU training run does it: in the loader, i.e. in the workers when
  there are any (``transform_on="loader"``, what ``"auto"`` picks under a CPU Trainer). Given ``num_workers``, the
  datamodule uses the workers when it resizes; at the native 28x28 a batch costs less than handing it over from a
  worker, so it loads in the main process (the bench says so where that happens);
* torchvision: ``FashionMNIST(transform=Compose([Resize(size), ToTensor()]))`` (just ``ToTensor()`` at 28) in a
  ``DataLoader``, one PIL image at a time, as the book's ``load_data_fashion_mnist`` does.

At size 28 a full epoch is measured; at larger sizes the per-image path takes minutes on a small CPU, so by default
the first 40 batches are timed (``--limit-batches 0`` for full epochs). Rounds alternate and the best round counts.
Target: ours at least 5x faster at 28x28.

    python bench/fashion_mnist_pipeline.py [--sizes 28 224] [--num-workers 0 2] [--limit-batches N] [--rounds 2]

On a machine shared with other jobs, multi-threaded tensor operations can stall waiting for a core (small batched
operations then take milliseconds instead of microseconds), which penalises the batched path; the load average is
printed, and ``--threads 1`` shows the pipeline without that effect.
"""

from __future__ import annotations

import argparse
import os
import struct
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _interleave import bench_line
from torch.utils.data import DataLoader
from torchvision import transforms as T
from torchvision.datasets import FashionMNIST

from datamodules.fashion_mnist import FashionMNISTDataModule

TARGET_AT_28 = 5.0


def write_idx(root: Path, n_train: int, n_test: int, seed: int = 0) -> None:
    """Uncompressed IDX files where torchvision and the datamodule read them (``root/FashionMNIST/raw``)."""
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())


def time_batches(batches, limit: int | None) -> tuple[float, int]:
    """Seconds to draw ``limit`` float batches, or all of them; returns (seconds, images)."""
    start, images = time.perf_counter(), 0
    for i, (x, _) in enumerate(batches):
        if limit and i >= limit:
            break
        assert x.dtype == torch.float32
        images += x.shape[0]
    return time.perf_counter() - start, images


def ours(root: Path, size: int, batch_size: int, workers: int, limit: int | None) -> tuple[float, int]:
    dm = FashionMNISTDataModule(data_dir=str(root), batch_size=batch_size, resize=None if size == 28 else size,
                                num_workers=workers, transform_on="loader")
    dm.prepare_data()  # finds the unpacked files: nothing to fetch
    dm.setup("fit")
    return time_batches(dm.train_dataloader(), limit)


def torchvision_per_item(root: Path, size: int, batch_size: int, workers: int, limit: int | None) -> tuple[float, int]:
    transform = T.ToTensor() if size == 28 else T.Compose([T.Resize(size), T.ToTensor()])
    dataset = FashionMNIST(str(root), train=True, transform=transform)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers)
    return time_batches(loader, limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[28, 224])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--num-workers", type=int, nargs="+", default=[0, 2],
                        help="DataLoader workers, the same for both pipelines; one comparison per value")
    parser.add_argument("--limit-batches", type=int, default=None,
                        help="batches timed per run; default: all at 28, 40 at larger sizes; 0 = all")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best of each side counts")
    parser.add_argument("--n-train", type=int, default=60_000)
    parser.add_argument("--threads", type=int, default=None, help="torch threads in the main process")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}, "
          f"{args.n_train} training images; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if os.getloadavg()[0] > (os.cpu_count() or 1) and torch.get_num_threads() > 1:
        print("warning: the machine is busier than its CPU count; multi-threaded tensor operations may stall "
              "waiting for a core. Rerun with --threads 1 for a comparison without that effect.")
    ratios = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_idx(root, args.n_train, 10_000)
        start = time.perf_counter()
        FashionMNISTDataModule(data_dir=tmp).setup("fit")
        print(f"decode once into a uint8 tensor (and cache it): {time.perf_counter() - start:.2f} s")
        for workers in args.num_workers:
            for size in args.sizes:
                ratios[workers, size] = compare(root, size, workers, args)
    for (workers, size), ratio in ratios.items():
        met = "met" if ratio >= TARGET_AT_28 else "NOT met"
        verdict = f" (target >= {TARGET_AT_28:.0f}x: {met})" if size == 28 else ""
        print(f"speed-up at {size}x{size}, {workers} workers: {ratio:.1f}x{verdict}")
    for (workers, size), ratio in ratios.items():
        if size == 28:
            bench_line(f"fashion_mnist_pipeline_28px_{workers}_workers", ratio, ">=", TARGET_AT_28,
                       note="torchvision time / ours")


def compare(root: Path, size: int, workers: int, args: argparse.Namespace) -> float:
    """Best-of-rounds seconds of both pipelines at one size and worker count; returns torchvision / ours."""
    limit = args.limit_batches if args.limit_batches is not None else (None if size == 28 else 40)
    limit = limit or None
    best = {"ours": float("inf"), "torchvision": float("inf")}
    for r in range(args.rounds):
        for name, run in (("torchvision", torchvision_per_item), ("ours", ours)):
            seconds, images = run(root, size, args.batch_size, workers, limit)
            best[name] = min(best[name], seconds)
            print(f"size {size:>3}, {workers} workers, round {r}: {name:<11} {seconds:8.2f} s for {images} images "
                  f"({images / seconds:,.0f} images/s)")
    ratio = best["torchvision"] / best["ours"]
    if workers and size == 28:
        print(f"size {size:>3}, {workers} workers: ours loads in the main process at the native size (a batch is "
              "one indexing operation; see num_workers in datamodules/images.py)")
    what = "a full epoch" if limit is None else f"the first {limit} batches"
    print(f"size {size:>3}, {workers} workers, {what}: torchvision {best['torchvision']:.2f} s, "
          f"ours {best['ours']:.2f} s, ratio {ratio:.1f}x")
    return ratio


if __name__ == "__main__":
    main()
