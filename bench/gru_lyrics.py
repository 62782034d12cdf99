"""Seconds per epoch of the gru_lyrics recipe through Lightning vs. a plain PyTorch loop, in one process.

Both train the same network (`RecurrentLM`, nn.GRU, 256 hidden, one-hot input, the same initial weights) on the
same batches of the datamodule (first 10,000 characters, consecutive sampling, batch 32 x 35 steps) with Adam 1e-2,
global-norm clipping 0.01, the hidden state carried across the batches of an epoch (zeros at the start of each, as
in 6.4.7), and greedy samples for both prefixes every 40 epochs.
The Lightning side is the recipe itself (progress bar, CSV logger, torchmetrics perplexity, checkpoints every 10
epochs, samples) with its held-out validation switched off, because the plain loop validates nothing. The two
alternate epoch by epoch in one process (``bench/_interleave.py``), so drift of the machine affects both; the
result is the median over epoch pairs of (Lightning epoch time / plain epoch time). Target: <= 1.1. Both sides
end at the same perplexity, printed at the end, which checks that they did the same work.

    python bench/gru_lyrics.py [--epochs 40]        # needs the data: ZOO_DATA_MIRROR or the cache
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from _interleave import Interleave, bench_line, report

from datamodules.jaychou_lyrics import JayChouLyricsDataModule
from zoo.cli import recipe_path, run_lightning_cli
from zoo.nets.recurrent_lm import RecurrentLM

PREFIXES = ("分开", "不分开")
TARGET = 1.1


@torch.no_grad()
def greedy(net: RecurrentLM, vocab: list[str], prefix: str, length: int = 50) -> str:
    index = {c: i for i, c in enumerate(vocab)}
    ids = [index[c] for c in prefix]
    logits, state = net(torch.tensor([ids]))
    for _ in range(length):
        ids.append(int(logits[0, -1].argmax()))
        logits, state = net(torch.tensor([[ids[-1]]]), state)
    return "".join(vocab[i] for i in ids)


class PlainLoop:
    """The book's train_and_predict_rnn_pytorch (6.5.2) on our network, one epoch per call."""

    def __init__(self, dm: JayChouLyricsDataModule, seed: int) -> None:
        torch.manual_seed(seed)  # as seed_everything before the recipe's model: the same initial weights
        self.net = RecurrentLM(dm.vocab_size, "gru", 256)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-2)
        self.loader = dm.train_dataloader()
        self.vocab = dm.vocab
        self.epochs_done = 0
        self.ppl = math.inf

    def epoch(self) -> tuple[float, str]:
        start = time.perf_counter()
        state, loss_sum, n = None, 0.0, 0  # every epoch starts from a zero state, as in 6.4.7
        for x, y, carry in self.loader:
            state = state.detach() if carry and state is not None else None
            logits, state = self.net(x, state)
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
            self.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 0.01)
            self.optimizer.step()
            loss_sum += loss.item() * y.numel()
            n += y.numel()
        self.ppl = math.exp(loss_sum / n)
        self.epochs_done += 1
        if self.epochs_done % 40 == 0:
            self.net.eval()
            samples = [greedy(self.net, self.vocab, p) for p in PREFIXES]
            self.net.train()
            print("   - " + "\n   - ".join(samples))
        return time.perf_counter() - start, f"perplexity {self.ppl:.6f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=40, help="epochs of each side (the recipe trains 160); the "
                        "first pair is a warm-up and not timed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # LightningCLI below gets its arguments explicitly
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is not timed)")

    dm = JayChouLyricsDataModule(num_chars=10_000, sampling="consecutive", batch_size=32, num_steps=35)
    dm.prepare_data()
    dm.setup("fit")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, vocab {dm.vocab_size}, "
          f"{len(dm.train_dataloader())} batches/epoch, {args.epochs} epochs each side, interleaved")
    with tempfile.TemporaryDirectory() as tmp:
        cli = run_lightning_cli(
            ["--config", str(recipe_path("gru_lyrics")), f"--seed_everything={args.seed}",
             f"--trainer.max_epochs={args.epochs}", "--data.init_args.val_chars=0",
             f"--trainer.default_root_dir={Path(tmp) / 'runs'}"],
            run=False,
        )
        plain = PlainLoop(dm, args.seed)
        interleave = Interleave(plain.epoch)
        cli.trainer.callbacks.append(interleave)
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)

    light_times, plain_times = interleave.pairs()
    ratio = report(light_times, plain_times, lambda seconds: f"{seconds:.4f} s/epoch", "time", TARGET,
                   cpu=interleave.cpu_pairs())
    ours = float(cli.trainer.callback_metrics["train/ppl"])
    print(f"final perplexity: plain {plain.ppl:.6f}, Lightning {ours:.6f}")
    bench_line("gru_lyrics_vs_plain", ratio, "<=", TARGET, note="s/epoch Lightning/plain, same network")


if __name__ == "__main__":
    main()
