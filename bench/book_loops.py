"""Seconds per epoch of the gru_lyrics recipe through Lightning vs. the book's own concise loop (6.5.2, 6.7.4).

The book side is written as the book writes it: ``RNNModel`` (6.5.1) turns each batch of indices into a list of
``num_steps`` one-hot matrices, stacks them into ``nn.GRU(vocab_size, 256)`` and applies a Linear head to the
flattened outputs; ``train_and_predict_rnn_pytorch`` (6.5.2) reads the consecutive sampler of 6.3.3
(``data_iter_consecutive``, a Python generator over the corpus as a float tensor), detaches the hidden state between
batches and keeps it from one epoch to the next, computes ``nn.CrossEntropyLoss`` on the transposed targets, clips
with the book's ``grad_clipping`` (global norm 0.01, a ``.item()`` per step), steps Adam (lr 1e-2) and prints
perplexity and greedy samples every 40 epochs. Batch 32, 35 steps, the first 10,000 characters (BOOK_EXPERIMENTS
E6.7b). It uses the datamodule's sorted vocabulary, so both sides see the same token ids.

The recipe side is ``recipes/gru_lyrics.yaml`` itself through ``ZooCLI`` (progress bar, CSV logger, perplexity,
checkpoints every 10 epochs, samples every 40), with two changes so both sides train the same thing: no held-out
text (``val_chars=0``; the book validates nothing) and ``state_across_epochs=true`` (the book's concise loop carries
the state into the next epoch; the recipe's default restarts from zeros as 6.4.7 does). Same seed, same initial
weights (checked), same batches. The recipe computes the one-hot input as a lookup of ``weight_ih``'s columns
(`zoo.nets.recurrent_lm`), the same numbers without the (T, B, V) one-hot product.

Epochs alternate in one process (``bench/_interleave.py``); the result is the median over epoch pairs of (recipe
epoch time / book epoch time). Target: <= 0.8, with both training perplexities after the last epoch equal within
0.01.

    python bench/book_loops.py [--epochs 40] [--threads N]    # needs the data: ZOO_DATA_MIRROR or the cache
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from _interleave import Interleave, bench_line, report
from torch import nn

from datamodules.jaychou_lyrics import JayChouLyricsDataModule
from zoo.cli import recipe_path, run_lightning_cli

TARGET = 0.8
PPL_TOLERANCE = 0.01
PREFIXES = ("分开", "不分开")


# ------------------------------------------------------------------ the book's helpers, as 6.3-6.5 define them
def one_hot(x: torch.Tensor, n_class: int) -> torch.Tensor:
    """(B,) indices -> (B, n_class) float one-hot rows, by zeros and scatter as 6.4.1 does."""
    x = x.long()
    rows = torch.zeros(x.shape[0], n_class, dtype=torch.float32, device=x.device)
    rows.scatter_(1, x.view(-1, 1), 1)
    return rows


def to_onehot(x: torch.Tensor, n_class: int) -> list[torch.Tensor]:
    """(B, T) indices -> a list of T one-hot matrices (B, n_class), one per time step (6.4.1)."""
    return [one_hot(x[:, i], n_class) for i in range(x.shape[1])]


def data_iter_consecutive(corpus_indices: list[int], batch_size: int, num_steps: int):
    """Consecutive sampling (6.3.3.2): batch_size rows read left to right; yields float (X, Y), each (B, T)."""
    corpus = torch.tensor(corpus_indices, dtype=torch.float32)
    batch_len = len(corpus) // batch_size
    rows = corpus[: batch_size * batch_len].view(batch_size, batch_len)
    for k in range((batch_len - 1) // num_steps):
        start = k * num_steps
        yield rows[:, start : start + num_steps], rows[:, start + 1 : start + num_steps + 1]


def grad_clipping(params: list[nn.Parameter], theta: float) -> None:
    """The book's clipping (6.4.5): global L2 norm of all gradients, scaled to theta when above it."""
    norm = torch.tensor([0.0])
    for p in params:
        norm += (p.grad.data ** 2).sum()
    norm = norm.sqrt().item()
    if norm > theta:
        for p in params:
            p.grad.data *= theta / norm


class RNNModel(nn.Module):
    """6.5.1: one-hot list -> stacked (T, B, V) -> recurrent layer -> Linear on (T*B, H)."""

    def __init__(self, rnn_layer: nn.Module, vocab_size: int) -> None:
        super().__init__()
        self.rnn = rnn_layer
        self.hidden_size = rnn_layer.hidden_size * (2 if rnn_layer.bidirectional else 1)
        self.vocab_size = vocab_size
        self.dense = nn.Linear(self.hidden_size, vocab_size)
        self.state = None

    def forward(self, inputs: torch.Tensor, state):
        steps = to_onehot(inputs, self.vocab_size)  # T x (B, V)
        y, self.state = self.rnn(torch.stack(steps), state)  # (T, B, H)
        return self.dense(y.view(-1, y.shape[-1])), self.state  # (T*B, V)


def predict_rnn_pytorch(prefix: str, num_chars: int, model: RNNModel, idx_to_char: list[str],
                        char_to_idx: dict[str, int]) -> str:
    """6.5.2: feed the prefix one character at a time, then the argmax of each output."""
    state, output = None, [char_to_idx[prefix[0]]]
    for t in range(num_chars + len(prefix) - 1):
        x = torch.tensor([output[-1]]).view(1, 1)
        y, state = model(x, state)
        output.append(char_to_idx[prefix[t + 1]] if t < len(prefix) - 1 else int(y.argmax(dim=1).item()))
    return "".join(idx_to_char[i] for i in output)


class BookLoop:
    """``train_and_predict_rnn_pytorch`` (6.5.2) for 6.7.4's GRU, one epoch per call."""

    def __init__(self, corpus_indices: list[int], vocab: list[str], seed: int, pred_period: int = 40) -> None:
        torch.manual_seed(seed)  # as seed_everything before the recipe builds its model: the same initial weights
        self.model = RNNModel(nn.GRU(input_size=len(vocab), hidden_size=256), len(vocab))
        self.loss = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-2)
        self.corpus_indices, self.idx_to_char = corpus_indices, vocab
        self.char_to_idx = {c: i for i, c in enumerate(vocab)}
        self.state = None  # carried across epochs, as in the book
        self.epoch_done, self.pred_period, self.perplexity = 0, pred_period, math.inf

    def epoch(self) -> tuple[float, str]:
        l_sum, n, start = 0.0, 0, time.perf_counter()
        for x, y in data_iter_consecutive(self.corpus_indices, 32, 35):
            if self.state is not None:
                self.state = self.state.detach()
            output, self.state = self.model(x, self.state)  # (T*B, V)
            target = torch.transpose(y, 0, 1).contiguous().view(-1)  # (T*B,), the rows of output
            loss = self.loss(output, target.long())
            self.optimizer.zero_grad()
            loss.backward()
            grad_clipping(list(self.model.parameters()), 0.01)
            self.optimizer.step()
            l_sum += loss.item() * target.shape[0]
            n += target.shape[0]
        self.perplexity = math.exp(l_sum / n)
        self.epoch_done += 1
        if self.epoch_done % self.pred_period == 0:
            seconds = time.perf_counter() - start
            print(f"\n  book: epoch {self.epoch_done}, perplexity {self.perplexity:f}, time {seconds:.2f} sec")
            for prefix in PREFIXES:
                print("   -", predict_rnn_pytorch(prefix, 50, self.model, self.idx_to_char, self.char_to_idx))
        return time.perf_counter() - start, f"perplexity {self.perplexity:.6f}"


def same_initial_weights(book: nn.Module, recipe: nn.Module) -> bool:
    ours, theirs = list(recipe.parameters()), list(book.parameters())
    return len(ours) == len(theirs) and all(torch.equal(a, b) for a, b in zip(ours, theirs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=40, help="epochs of each side (the recipe trains 160); the "
                        "first pair is a warm-up and not timed; perplexities are compared after the last")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # LightningCLI below gets its arguments explicitly
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is not timed)")
    if args.threads:
        torch.set_num_threads(args.threads)

    dm = JayChouLyricsDataModule(num_chars=10_000, sampling="consecutive", batch_size=32, num_steps=35)
    dm.prepare_data()
    dm.setup("fit")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; vocab {dm.vocab_size}, {len(dm.train_dataloader())} batches/epoch, "
          f"{args.epochs} epochs each side, interleaved")
    with tempfile.TemporaryDirectory() as tmp:
        cli = run_lightning_cli(
            ["--config", str(recipe_path("gru_lyrics")), f"--seed_everything={args.seed}",
             f"--trainer.max_epochs={args.epochs}", "--data.init_args.val_chars=0",
             "--model.init_args.state_across_epochs=true", f"--trainer.default_root_dir={Path(tmp) / 'runs'}"],
            run=False,
        )
        book = BookLoop(dm.train_ids.tolist(), dm.vocab, args.seed)
        print(f"same initial weights: {same_initial_weights(book.model, cli.model.net)}")
        interleave = Interleave(book.epoch)
        cli.trainer.callbacks.append(interleave)
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)

    light, plain = interleave.pairs()
    ratio = report(light, plain, lambda seconds: f"{seconds:.4f} s/epoch", "time", TARGET,
                   sides=("book loop", "recipe"), cpu=interleave.cpu_pairs())
    ours = float(cli.trainer.callback_metrics["train/ppl"])
    gap = abs(ours - book.perplexity)
    print(f"training perplexity after {args.epochs} epochs: book loop {book.perplexity:.6f}, recipe {ours:.6f} "
          f"(difference {gap:.6f}; target < {PPL_TOLERANCE}: {'met' if gap < PPL_TOLERANCE else 'NOT met'})")
    bench_line("gru_lyrics_vs_book_loop", ratio, "<=", TARGET, extra_ok=gap < PPL_TOLERANCE,
               note=f"recipe/book s/epoch; ppl {ours:.4f} vs {book.perplexity:.4f}")


if __name__ == "__main__":
    main()
