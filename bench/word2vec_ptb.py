"""word2vec on PTB, in one process: seconds per epoch of the book's recipe (skipgram_ptb) against the book's own loop;
of the word2vec.c-style recipe (skipgram_sgns_ptb) against gensim's Word2Vec; and the vectors of those two side by
side.

Part 1, the book's recipe against the book's loop (10.3.3 to 10.3.5), written out plainly here: its ``MyDataset`` of
Python lists, its ``batchify`` collate function (padding, masks and labels built in Python per batch), a
``DataLoader`` with 4 workers, two ``nn.Embedding`` tables scored with ``bmm``, its masked
``SigmoidBinaryCrossEntropyLoss`` and Adam 0.01. Both sides get the same centres, contexts and noise words (drawn once
by `datamodules.ptb.PTBDataModule`, as the book draws them once), batches of 512, the same initial weights. The two
alternate epoch by epoch (``bench/_interleave.py``); the first pair is a warm-up. Target: the recipe takes at most
0.5x the book loop's time per epoch, both ending at the same loss within 0.02.

Part 2, skipgram_sgns_ptb against gensim (``pip install gensim``; a bench extra, never a runtime dependency):
``Word2Vec(sg=1, negative=5, window=5, vector_size=100, epochs=10)`` with its defaults otherwise (``sample=1e-3``,
``alpha`` 0.025 to ``min_alpha`` 1e-4, ``min_count=5``: the recipe's 9,858 words), 2 workers, on the same PTB
training sentences. For each of ``--seeds`` (2), the recipe trains its 10 epochs through Lightning (without the
validation pass, which gensim has not) and after each of its epochs gensim trains one of its own, with the rate
gensim's ``epochs=10`` would give that epoch; the first pair of each seed is a warm-up. Printed: seconds per epoch
of the three (the book's recipe from part 1), the ratio recipe/gensim (median over the epoch pairs; goal <= 1.5),
and the vectors' quality: cos(intel, chip), cos(monday, tuesday), cos(billion, million) and the mean cosine of
2,000 random word pairs (how much all vectors share one direction) for each seed, and the mean over 10 words of how
many of their 10 nearest neighbours two seeds share (goals: cosines at least gensim's minus 0.05, overlap >= 6).

    python bench/word2vec_ptb.py [--epochs 3] [--seeds 0 1]    # needs PTB: ZOO_DATA_MIRROR or the cache
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from _interleave import Interleave, bench_line, report
from torch import nn
from torch.utils.data import DataLoader, Dataset

from datamodules.ptb import PTBDataModule, read_ptb
from zoo.cli import recipe_path, run_lightning_cli

TARGET = 0.5
LOSS_TOLERANCE = 0.02
GENSIM_GOAL = 1.5  # skipgram_sgns_ptb's seconds per epoch / gensim's (2 workers)
COSINE_MARGIN = 0.05  # each cosine at least gensim's minus this
OVERLAP_GOAL = 6.0
PAIRS = (("intel", "chip"), ("monday", "tuesday"), ("billion", "million"))
OVERLAP_WORDS = ("chip", "intel", "monday", "billion", "president", "stock", "bank", "computer", "university", "week")


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


def book_part(args: argparse.Namespace, tmp: str) -> tuple[float, float, float, list[float]]:
    """skipgram_ptb against the book's loop, interleaved: (ratio, recipe's loss, loop's loss, recipe s/epoch)."""
    cli = run_lightning_cli(["--config", str(recipe_path("skipgram_ptb")), f"--seed_everything={args.seed}",
                             f"--trainer.max_epochs={args.epochs}", "--trainer.limit_val_batches=0",
                             f"--trainer.default_root_dir={Path(tmp) / 'book'}"], run=False)
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
    ratio = report(light, plain, lambda s: f"{s:.2f} s/epoch", "time", TARGET, sides=("book loop", "skipgram_ptb"))
    ours = float(cli.trainer.callback_metrics["train/loss"])
    print(f"final loss after {args.epochs} epochs: book loop {book.losses[-1]:.4f}, recipe {ours:.4f} (difference "
          f"{abs(book.losses[-1] - ours):.4f}; book after 10 epochs: 0.32)")
    return ratio, ours, book.losses[-1], light


class GensimEpochs:
    """gensim's Word2Vec with its defaults and the recipe's settings, trained one epoch per call with the rate its
    ``epochs=10`` would use for that epoch (0.025 down to ``min_alpha`` 1e-4, linearly over all epochs)."""

    def __init__(self, sentences: list[list[str]], epochs: int, seed: int, workers: int) -> None:
        from gensim.models import Word2Vec

        self.sentences, self.epochs, self.done = sentences, epochs, 0
        self.model = Word2Vec(sg=1, negative=5, window=5, vector_size=100, min_count=5, workers=workers, seed=seed)
        self.model.build_vocab(sentences)
        self.alpha, self.min_alpha = self.model.alpha, self.model.min_alpha  # train() overwrites them
        self.times: list[float] = []

    def epoch(self) -> tuple[float, str]:
        m, e, alpha, floor = self.model, self.done, self.alpha, self.min_alpha
        start_alpha = alpha - (alpha - floor) * e / self.epochs
        end_alpha = alpha - (alpha - floor) * (e + 1) / self.epochs
        start = time.perf_counter()
        m.train(self.sentences, total_examples=m.corpus_count, epochs=1, start_alpha=start_alpha, end_alpha=end_alpha)
        seconds = time.perf_counter() - start
        self.done += 1
        self.times.append(seconds)
        return seconds, f"gensim epoch {self.done}, alpha {start_alpha:.5f} -> {end_alpha:.5f}"

    def vectors(self) -> dict[str, torch.Tensor]:
        return {w: torch.tensor(self.model.wv[w]) for w in self.model.wv.index_to_key}


def sgns_part(args: argparse.Namespace, tmp: str) -> dict[str, Any] | None:
    """skipgram_sgns_ptb against gensim, one interleaved run per seed; None without gensim."""
    try:
        import gensim
    except ImportError:
        print("\ngensim is not installed (pip install gensim): the comparison with skipgram_sgns_ptb is skipped")
        return None
    light_all, plain_all, cpu_light, cpu_plain, runs = [], [], [], [], []
    for seed in args.seeds:
        cli = run_lightning_cli(["--config", str(recipe_path("skipgram_sgns_ptb")), f"--seed_everything={seed}",
                                 f"--data.init_args.seed={seed}", "--trainer.limit_val_batches=0",
                                 *([f"--model.init_args.threads={args.threads}"] if args.threads else []),
                                 f"--trainer.default_root_dir={Path(tmp) / f'sgns{seed}'}"], run=False)
        dm = cli.datamodule
        dm.prepare_data()
        dm.setup("fit")
        sentences = read_ptb(dm.root / "ptb.zip", "train")
        side = GensimEpochs(sentences, cli.trainer.max_epochs, seed, args.gensim_workers)
        print(f"\nseed {seed}: gensim {gensim.__version__} with {args.gensim_workers} workers, "
              f"{len(side.model.wv):,} words (the recipe: {len(dm.vocab):,}); skipgram_sgns_ptb with "
              f"{cli.model.hparams.threads} thread(s), {len(dm.epochs['train']):,} batches/epoch; interleaved")
        interleave = Interleave(side.epoch)
        cli.trainer.callbacks.append(interleave)
        cli.trainer.fit(cli.model, datamodule=dm)
        light, plain = interleave.pairs()
        light_all += light
        plain_all += plain
        cpu = interleave.cpu_pairs()
        cpu_light += cpu[0]
        cpu_plain += cpu[1]
        ours = cli.model.word_vectors()
        runs.append({"seed": seed, "ours": {w: ours.vectors[i] for i, w in enumerate(ours.tokens)},
                     "gensim": side.vectors(), "loss": float(cli.trainer.callback_metrics["train/loss"])})
    print(f"\nskipgram_sgns_ptb against gensim, {len(light_all)} interleaved epoch pairs over {len(args.seeds)} "
          "seeds (each seed's first pair dropped):")
    ratio = report(light_all, plain_all, lambda s: f"{s:.2f} s/epoch", "time", GENSIM_GOAL,
                   sides=("gensim", "skipgram_sgns_ptb"), cpu=(cpu_light, cpu_plain))
    return {"ratio": ratio, "ours_epoch": statistics.median(light_all), "gensim_epoch": statistics.median(plain_all),
            "pairs": len(light_all), "runs": runs}


def cosine(vectors: dict[str, torch.Tensor], a: str, b: str) -> float:
    return float(torch.nn.functional.cosine_similarity(vectors[a], vectors[b], dim=0))


def nearest(vectors: dict[str, torch.Tensor], word: str, k: int = 10) -> list[str]:
    words = list(vectors)
    table = torch.nn.functional.normalize(torch.stack([vectors[w] for w in words]), dim=1)
    scores = table @ table[words.index(word)]
    scores[words.index(word)] = -2
    return [words[i] for i in scores.topk(k).indices.tolist()]


def quality(runs: list[dict[str, Any]]) -> bool:
    """Print the quality table; whether every goal is met."""
    sides = ("ours", "gensim")
    names = {"ours": "skipgram_sgns_ptb", "gensim": "gensim"}
    words = list(runs[0]["ours"])
    generator = torch.Generator().manual_seed(0)
    random_pairs = torch.randint(0, len(words), (2, 2000), generator=generator).T.tolist()
    print(f"\n{'':>20} {'seed':>4} " + " ".join(f"{a + '/' + b:>17}" for a, b in PAIRS) + f" {'random pairs':>12}")
    means: dict[str, list[float]] = {}
    for side in sides:
        values = []
        for run in runs:
            vectors = run[side]
            row = [cosine(vectors, a, b) for a, b in PAIRS]
            anisotropy = statistics.mean(cosine(vectors, words[i], words[j]) for i, j in random_pairs if i != j)
            values.append(row)
            print(f"{names[side]:>20} {run['seed']:>4} " + " ".join(f"{c:>17.3f}" for c in row)
                  + f" {anisotropy:>12.3f}")
        means[side] = [statistics.mean(column) for column in zip(*values)]
        print(f"{names[side]:>20} {'mean':>4} " + " ".join(f"{c:>17.3f}" for c in means[side]))
    overlaps = {}
    for side in sides:
        if len(runs) >= 2:
            shared = [len(set(nearest(runs[0][side], w)) & set(nearest(runs[1][side], w))) for w in OVERLAP_WORDS]
            overlaps[side] = statistics.mean(shared)
            print(f"top-10 neighbours shared by seeds {runs[0]['seed']} and {runs[1]['seed']}, {names[side]}: "
                  f"{overlaps[side]:.1f} (mean over {', '.join(OVERLAP_WORDS)}; per word {shared})")
    for side in sides:
        print(f"  chip, {names[side]} (seed {runs[0]['seed']}): {', '.join(nearest(runs[0][side], 'chip', 5))}")
    cosines_met = all(o >= g - COSINE_MARGIN for o, g in zip(means["ours"], means["gensim"]))
    overlap_met = overlaps.get("ours", 0.0) >= OVERLAP_GOAL
    print(f"goals: every mean cosine >= gensim's - {COSINE_MARGIN}: {'met' if cosines_met else 'NOT met'}; "
          f"seed-to-seed overlap >= {OVERLAP_GOAL:g}: {'met' if overlap_met else 'NOT met'}")
    return cosines_met and overlap_met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="epochs of each side of part 1; the first pair is a "
                        "warm-up")
    parser.add_argument("--workers", type=int, default=4, help="DataLoader workers of the book's loop (book: 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of part 1")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds of part 2 (two for the overlap)")
    parser.add_argument("--gensim-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="skipgram_sgns_ptb's threads (0: the recipe's)")
    parser.add_argument("--skip-book", action="store_true", help="part 2 only")
    args = parser.parse_args()
    sys.argv = sys.argv[:1]
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is not timed)")
    with tempfile.TemporaryDirectory() as tmp:
        book = None if args.skip_book else book_part(args, tmp)
        sgns = sgns_part(args, tmp)
    if sgns is not None:
        quality_met = quality(sgns["runs"])
        book_epoch = f"skipgram_ptb {statistics.median(book[3]):.2f}, " if book else ""
        print(f"\nseconds per epoch (medians, this run): {book_epoch}skipgram_sgns_ptb {sgns['ours_epoch']:.2f}, "
              f"gensim ({args.gensim_workers} workers) {sgns['gensim_epoch']:.2f}")
        print(f"ratio skipgram_sgns_ptb/gensim: {sgns['ratio']:.3f} (goal <= {GENSIM_GOAL}; median of "
              f"{sgns['pairs']} interleaved epoch pairs)")
        bench_line("skipgram_sgns_ptb_vs_gensim", sgns["ratio"], "<=", GENSIM_GOAL, extra_ok=quality_met,
                   note="recipe/gensim s/epoch; quality goals " + ("met" if quality_met else "not met"))
    if book is not None:
        ratio, ours, theirs, _ = book
        print(f"\nratio skipgram_ptb/book loop: {ratio:.3f} (target <= {TARGET})")
        bench_line("skipgram_ptb_vs_book_loop", ratio, "<=", TARGET, extra_ok=abs(theirs - ours) <= LOSS_TOLERANCE,
                   note=f"recipe/book s/epoch; loss {ours:.4f} vs {theirs:.4f}")


if __name__ == "__main__":
    main()
