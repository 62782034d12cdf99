"""Seconds to load a checkpoint whose hyperparameters hold a large vocabulary, the zoo's way and Lightning's.

A ``skipgram_ptb``-sized checkpoint (9,858 words, 100-dimensional tables, LightningCLI's ``_class_path`` and
``_instantiator`` in its hyperparameters, as a recipe run writes them) is loaded:

* the zoo's way: ``zoo.load_task`` (the class called with the saved hyperparameters; `zoo.tasks.base.ZooTask`), and
  ``python -m zoo similar --ckpt`` end to end in a fresh process (interpreter start and imports included);
* Lightning's way, for comparison: ``LightningModule.load_from_checkpoint``, which hands the hyperparameters to
  LightningCLI's instantiator (jsonargparse validates and copies the vocabulary; its cost grows faster than the
  vocabulary), on 1,000-, 2,000- and 4,000-word checkpoints.

Target: the zoo's ``similar --ckpt`` on the 9,858-word checkpoint within 5 s.

    python bench/checkpoint_load.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
from _interleave import bench_line

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import zoo  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 5.0


def write_checkpoint(folder: Path, words: int) -> Path:
    model = zoo.SkipGram(vocab=[f"word{i}" for i in range(words)], embed_size=100)
    trainer = L.Trainer(max_epochs=0, logger=False, enable_checkpointing=False, accelerator="cpu")
    trainer.strategy.connect(model)
    path = folder / f"skipgram_{words}.ckpt"
    trainer.save_checkpoint(path)
    checkpoint = torch.load(path, weights_only=False)
    checkpoint["hyper_parameters"].update(_class_path="zoo.SkipGram",
                                          _instantiator="lightning.pytorch.cli.instantiate_module")
    torch.save(checkpoint, path)
    return path


def seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = write_checkpoint(folder, 9858)
        zoo_load = seconds(lambda: zoo.load_task(big), args.repeats)
        command = [sys.executable, "-m", "zoo", "similar", "--ckpt", str(big), "word1"]
        cli = seconds(lambda: subprocess.run(command, cwd=REPO, check=True, capture_output=True), args.repeats)
        print(f"9,858 words: zoo.load_task {zoo_load:.2f} s; python -m zoo similar --ckpt {cli:.2f} s "
              f"(median of {args.repeats})", flush=True)
        lightning_load = L.LightningModule.load_from_checkpoint.__func__  # Lightning's own, through the instantiator
        for words in (1000, 2000, 4000):
            path = write_checkpoint(folder, words)
            ours = seconds(lambda p=path: zoo.load_task(p), args.repeats)
            theirs = seconds(lambda p=path: lightning_load(zoo.SkipGram, p, weights_only=False), 1)
            print(f"{words:,} words: zoo.load_task {ours:.2f} s, Lightning's load_from_checkpoint via LightningCLI's "
                  f"instantiator {theirs:.2f} s ({theirs / ours:.0f}x)", flush=True)
    bench_line("checkpoint_load_similar_seconds", cli, "<=", TARGET_S, note=f"load_task={zoo_load:.2f}s")


if __name__ == "__main__":
    main()
