"""Seconds per epoch of the skipgram_ptb recipe through Lightning vs. the book's own word2vec loop, in one process;
and, when gensim is installed, vs. gensim's Word2Vec on the same sentences.

The book's loop (10.3.3 to 10.3.5), written out plainly here: its ``MyDataset`` of Python lists, its ``batchify``
collate function (padding, masks and labels built in Python per batch), a ``DataLoader`` with 4 workers, two
``nn.Embedding`` tables scored with ``bmm``, its masked ``SigmoidBinaryCrossEntropyLoss`` and Adam 0.01. Both sides
get the same centres, contexts and noise words (drawn once by `datamodules.ptb.PTBDataModule`, as the book draws them
once), batches of 512, the same initial weights. The two alternate epoch by epoch (``bench/_interleave.py``); the
first pair is a warm-up. Target: the recipe takes at most 0.5x the book loop's time per epoch, both ending at the
same loss within 0.02.

gensim (``pip install gensim``; a bench extra, never a runtime dependency): skip-gram, window 5, min_count 5,
negative 5, sample 1e-4, 100 dimensions, 2 workers, on the same sentences; its seconds per epoch against ours
(goal: ours at most 3x), and the 3 neighbours of "chip", "monday" and "stock" from both.

    python bench/word2vec_ptb.py [--epochs 3] [--gensim-epochs 10]    # needs PTB: ZOO_DATA_MIRROR or the cache
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from _interleave import Interleave, bench_line, report
from torch import nn
from torch.utils.data import DataLoader, Dataset

from datamodules.ptb import PTBDataModule, read_ptb
from zoo.cli import recipe_path, run_lightning_cli

TARGET = 0.5
LOSS_TOLERANCE = 0.02
GENSIM_GOAL = 3.0
PROBES = ("chip", "monday", "stock")


class MyDataset(Dataset):
    """The book's dataset: three parallel lists."""

    def __init__(self, centers, contexts, negatives):
        assert len(centers) == len(contexts) == len(negatives)
        self.centers, self.contexts, self.negatives = centers, contexts, negatives

    def __getitem__(self, index):
        return self.centers[index], self.contexts[index], self.negatives[index]

    def __len__(self):
        return len(self.centers)


def batchify(data):
    """The book's collate function (10.3.3)."""
    max_len = max(len(c) + len(n) for _, c, n in data)
    centers, contexts_negatives, masks, labels = [], [], [], []
    for center, context, negative in data:
        cur_len = len(context) + len(negative)
        centers += [center]
        contexts_negatives += [context + negative + [0] * (max_len - cur_len)]
        masks += [[1] * cur_len + [0] * (max_len - cur_len)]
        labels += [[1] * len(context) + [0] * (max_len - len(context))]
    return (torch.tensor(centers).view(-1, 1), torch.tensor(contexts_negatives), torch.tensor(masks),
            torch.tensor(labels))


def book_loss(inputs, targets, mask):
    """The book's SigmoidBinaryCrossEntropyLoss forward."""
    inputs, targets, mask = inputs.float(), targets.float(), mask.float()
    res = nn.functional.binary_cross_entropy_with_logits(inputs, targets, reduction="none", weight=mask)
    return res.mean(dim=1)


class BookLoop:
    """The book's train() (10.3.5.3), one epoch per call."""

    def __init__(self, dm: PTBDataModule, seed: int, workers: int) -> None:
        p = dm.pairs["train"]
        n = p.n_contexts.long()
        rows = p.contexts_negatives.long().tolist()
        counts = n.tolist()
        contexts = [row[:c] for row, c in zip(rows, counts)]
        negatives = [row[c:c * (p.k + 1)] for row, c in zip(rows, counts)]
        dataset = MyDataset(p.centers.tolist(), contexts, negatives)
        self.loader = DataLoader(dataset, 512, shuffle=True, collate_fn=batchify, num_workers=workers,
                                 persistent_workers=workers > 0)
        torch.manual_seed(seed)  # as seed_everything before the recipe's model: the same initial weights
        self.net = nn.Sequential(nn.Embedding(len(dm.vocab), 100), nn.Embedding(len(dm.vocab), 100))
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=0.01)
        self.losses: list[float] = []

    def epoch(self) -> tuple[float, str]:
        start, l_sum, n = time.perf_counter(), 0.0, 0
        for center, context_negative, mask, label in self.loader:
            v, u = self.net[0](center), self.net[1](context_negative)
            pred = torch.bmm(v, u.permute(0, 2, 1))
            l = (book_loss(pred.view(label.shape), label, mask) * mask.shape[1] / mask.float().sum(dim=1)).mean()
            self.optimizer.zero_grad()
            l.backward()
            self.optimizer.step()
            l_sum += l.item()
            n += 1
        self.losses.append(l_sum / n)
        return time.perf_counter() - start, f"loss {l_sum / n:.4f}"


def gensim_side(dm: PTBDataModule, epochs: int) -> tuple[list[float], object] | None:
    """Seconds of each epoch of gensim's Word2Vec with the book's settings, and the model; None without gensim."""
    try:
        from gensim.models import Word2Vec
    except ImportError:
        print("\ngensim is not installed (pip install gensim): its comparison is skipped")
        return None
    sentences = read_ptb(dm.root / "ptb.zip", "train")
    model = Word2Vec(vector_size=100, window=5, min_count=5, negative=5, sample=1e-4, sg=1, workers=2, seed=0)
    model.build_vocab(sentences)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, epochs=1)
        times.append(time.perf_counter() - start)
    return times, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="epochs of each side; the first pair is a warm-up")
    parser.add_argument("--workers", type=int, default=4, help="DataLoader workers of the book's loop (book: 4)")
    parser.add_argument("--gensim-epochs", type=int, default=10, help="gensim epochs (the recipe trains 10)")
    parser.add_argument("--quality-epochs", type=int, default=10, help="the recipe keeps training to this many "
                        "epochs (alone, untimed) before the neighbours are compared (the recipe trains 10)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.argv = sys.argv[:1]
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is not timed)")
    with tempfile.TemporaryDirectory() as tmp:
        cli = run_lightning_cli(["--config", str(recipe_path("skipgram_ptb")), f"--seed_everything={args.seed}",
                                 f"--trainer.max_epochs={args.epochs}", "--trainer.limit_val_batches=0",
                                 f"--trainer.default_root_dir={Path(tmp) / 'runs'}"], run=False)
        dm = cli.datamodule
        dm.prepare_data()
        dm.setup("fit")  # the recipe's fit reuses these pairs
        book = BookLoop(dm, args.seed, args.workers)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(dm.pairs['train']):,} centres, "
              f"{len(book.loader)} batches/epoch, {args.epochs} epochs each side, interleaved")
        interleave = Interleave(book.epoch)
        cli.trainer.callbacks.append(interleave)
        cli.trainer.fit(cli.model, datamodule=dm)
        light, plain = interleave.pairs()
        ratio = report(light, plain, lambda s: f"{s:.2f} s/epoch", "time", TARGET)
        ours = float(cli.trainer.callback_metrics["train/loss"])
        print(f"final loss after {args.epochs} epochs: book loop {book.losses[-1]:.4f}, recipe {ours:.4f} (difference "
              f"{abs(book.losses[-1] - ours):.4f}; book after 10 epochs: 0.32)")
        result = gensim_side(dm, args.gensim_epochs)
        if result is not None and args.quality_epochs > args.epochs:
            cli.trainer.callbacks.remove(interleave)
            cli.trainer.fit_loop.max_epochs = args.quality_epochs  # continue the same run, untimed
            cli.trainer.fit(cli.model, datamodule=dm)
        if result is not None:
            times, model = result
            gensim_epoch, our_epoch = statistics.median(times), statistics.median(light)
            print(f"\ngensim Word2Vec: {gensim_epoch:.2f} s/epoch (median of {len(times)}); recipe {our_epoch:.2f} "
                  f"s/epoch: {our_epoch / gensim_epoch:.2f}x gensim's time (goal <= {GENSIM_GOAL})")
            ours_vectors = cli.model.word_vectors()
            for word in PROBES:
                theirs = ", ".join(f"{w} {c:.3f}" for w, c in model.wv.most_similar(word, topn=3))
                mine = ", ".join(f"{w} {c:.3f}" for w, c in ours_vectors.similar(word, 3))
                epochs = max(args.epochs, args.quality_epochs)
                print(f"  {word}: gensim ({args.gensim_epochs} epochs) {theirs} | recipe ({epochs} epochs) {mine}")
    print(f"\nratio recipe/book loop: {ratio:.3f} (target <= {TARGET})")
    gap = abs(book.losses[-1] - ours)
    bench_line("skipgram_ptb_vs_book_loop", ratio, "<=", TARGET, extra_ok=gap <= LOSS_TOLERANCE,
               note=f"recipe/book s/epoch; loss {ours:.4f} vs {book.losses[-1]:.4f}")


if __name__ == "__main__":
    main()
