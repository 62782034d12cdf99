"""Training steps per second of the birnn_imdb and textcnn_imdb recipes through Lightning vs. a plain PyTorch loop of
the same model on the same batches (64 reviews x 500 tokens), in one process; and what skipping the padding buys.

The data: an archive in the real aclImdb layout written to a temporary folder, with review lengths drawn from a
log-normal fitted to IMDb's (median 174 words, mean about 230, 5% longer than 500) and a 46,151-word vocabulary as the
book's; the recipes run on it with random embeddings (GloVe is not needed to time a step). Each side trains
``--batches`` batches an epoch; the sides alternate epoch by epoch (``bench/_interleave.py``); the first pair is a
warm-up. Target: Lightning >= 0.95x the plain loop's steps per second.

Then the padding: one epoch of the book's batches (every review padded to 500) against ``length_buckets`` (reviews
of similar length together, each batch cut at its longest review), and for the BiRNN also with packed sequences.

    python bench/text_classifiers.py [--batches 20] [--pairs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from _interleave import Interleave, bench_line, report

import datamodules.imdb as imdb
from datamodules.imdb import IMDbDataModule
from zoo.cli import recipe_path, run_lightning_cli

TARGET = 0.95
WORDS = [f"w{i}" for i in range(46_149)]  # + <pad>, <unk>: the book's 46,151


def write_archive(root: Path, reviews: int, seed: int = 0) -> Path:
    """A real-layout aclImdb_v1.tar.gz with IMDb-like review lengths; every word occurs >= 5 times."""
    import io
    import tarfile

    rng = random.Random(seed)
    path = root / imdb.IMDB.filename
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for split, count in (("train", reviews), ("test", 64)):
            for i in range(count):
                length = min(int(rng.lognormvariate(5.16, 0.65)), 2470)
                text = " ".join(rng.choices(WORDS[:4000] if i % 7 else WORDS, k=length)).encode()
                info = tarfile.TarInfo(f"aclImdb/{split}/{'pos' if i % 2 else 'neg'}/{i}_5.txt")
                info.size = len(text)
                tar.addfile(info, io.BytesIO(text))
    imdb.IMDB = imdb.Resource(imdb.IMDB.filename, imdb.IMDB.urls, hashlib.sha1(path.read_bytes()).hexdigest())
    return path


class PlainLoop:
    """The book's d2l.train loop (cross-entropy, Adam over the trainable parameters) on the recipe's network."""

    def __init__(self, net: torch.nn.Module, loader, lr: float, batches: int) -> None:
        self.net, self.loader, self.batches = net, loader, batches
        self.optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=lr)

    def epoch(self) -> tuple[float, str]:
        start, correct, n = time.perf_counter(), 0, 0
        for i, (tokens, lengths, labels) in enumerate(self.loader):
            if i == self.batches:
                break
            logits = self.net(tokens, lengths)
            loss = F.cross_entropy(logits, labels)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            correct += int((logits.argmax(1) == labels).sum())
            n += len(labels)
        return time.perf_counter() - start, f"train acc {correct / n:.3f}"


def run_recipe(name: str, tmp: Path, batches: int, pairs: int, extra: list[str]) -> tuple[list[float], list[float]]:
    cli = run_lightning_cli(["--config", str(recipe_path(name)), "--model.init_args.embedding=random",
                             f"--trainer.max_epochs={pairs + 1}", f"--trainer.limit_train_batches={batches}",
                             "--trainer.limit_val_batches=0", f"--trainer.default_root_dir={tmp / name}", *extra],
                            run=False)
    dm = cli.datamodule
    dm.prepare_data()
    dm.setup("fit")
    torch.manual_seed(0)
    twin = type(cli.model)(**{k: v for k, v in cli.model.hparams.items() if not k.startswith("_")})
    plain = PlainLoop(twin.net, dm.train_dataloader(), cli.model.hparams.lr, batches)
    interleave = Interleave(plain.epoch)
    cli.trainer.callbacks.append(interleave)
    cli.trainer.fit(cli.model, datamodule=dm)
    return interleave.pairs()


def padding_epoch(name: str, tmp: Path, batches: int, buckets: bool, packed: bool = False) -> float:
    """Seconds per batch of one epoch of the recipe's model in a plain loop, padded to 500 or in length buckets."""
    dm = IMDbDataModule(data_dir=str(tmp), length_buckets=buckets)
    dm.setup("fit")
    cli = run_lightning_cli(["--config", str(recipe_path(name)), "--model.init_args.embedding=random",
                             f"--trainer.default_root_dir={tmp / 'pad'}",
                             *(["--model.init_args.packed=true"] if packed else [])], run=False)
    loop = PlainLoop(cli.model.net, dm.train_dataloader(), cli.model.hparams.lr, batches)
    seconds, _ = loop.epoch()
    return seconds / batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=20, help="batches per epoch on each side")
    parser.add_argument("--pairs", type=int, default=3, help="timed epoch pairs (after one warm-up)")
    parser.add_argument("--reviews", type=int, default=3200, help="training reviews in the fake archive")
    args = parser.parse_args()
    sys.argv = sys.argv[:1]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        import os

        os.environ["ZOO_DATA_DIR"] = str(tmp)
        write_archive(tmp, args.reviews)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batches of 64 x 500; {args.batches} "
              f"batches an epoch, {args.pairs} timed pairs")
        ratios = {}
        for name in ("textcnn_imdb", "birnn_imdb"):
            print(f"\n== {name}")
            light, plain = run_recipe(name, tmp, args.batches, args.pairs, [])
            ratios[name] = report(light, plain, lambda s: f"{args.batches / s:.2f} steps/s", "speed", TARGET)
        print("\n== skipping the padding (plain loop, one epoch each)")
        for name, packed in (("textcnn_imdb", False), ("birnn_imdb", False), ("birnn_imdb", True)):
            padded = padding_epoch(name, tmp, args.batches, buckets=False)
            bucketed = padding_epoch(name, tmp, args.batches, buckets=True, packed=packed)
            print(f"{name}: padded to 500 {padded * 1e3:.0f} ms/batch, length buckets"
                  f"{' + packed LSTM' if packed else ''} {bucketed * 1e3:.0f} ms/batch: {padded / bucketed:.2f}x")
    print("\n" + ", ".join(f"{k}: Lightning/plain {v:.3f}" for k, v in ratios.items()) + f" (target >= {TARGET})")
    for name, ratio in ratios.items():
        bench_line(f"{name}_vs_plain", ratio, ">=", TARGET, note="steps/s Lightning/plain")


if __name__ == "__main__":
    main()
