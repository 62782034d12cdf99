"""Seconds per epoch of the gru_lyrics recipe through Lightning vs. a plain PyTorch loop, in one process.

Both train the same network (`RecurrentLM`, nn.GRU, 256 hidden, one-hot input) on the same batches of the
datamodule (first 10,000 characters, consecutive sampling, batch 32 x 35 steps) with Adam 1e-2, global-norm
clipping 0.01, the hidden state carried across the batches of an epoch (zeros at the start of each, as in 6.4.7),
and greedy samples for both prefixes every 40 epochs.
The Lightning side is the recipe itself (progress bar, CSV logger, torchmetrics perplexity, checkpoints every 10
epochs) with its held-out validation switched off, because the plain loop validates nothing. Rounds alternate
(plain, Lightning, plain, ...) so that drift of the machine affects both; the result is the median over rounds of
(Lightning median epoch / plain median epoch of the run just before). Target: Lightning / plain <= 1.1.

    python bench/gru_lyrics.py [--epochs 14] [--rounds 6]        # needs the data: ZOO_DATA_MIRROR or the cache
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F

from datamodules.jaychou_lyrics import JayChouLyricsDataModule
from zoo.cli import recipe_path, run_lightning_cli
from zoo.nets.language_model import RecurrentLM

PREFIXES = ("分开", "不分开")


class EpochTimer(L.Callback):
    def __init__(self) -> None:
        self.starts: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.starts.append(time.perf_counter())


def per_epoch(starts: list[float], skip: int = 2) -> list[float]:
    """Seconds of each epoch from the start times of consecutive epochs, after ``skip`` warm-up epochs.

    One epoch's time is from its start to the next epoch's start, so it includes everything done per epoch
    (validation, checkpoints, samples, logging) and nothing done once at the end of training.
    """
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    return gaps[skip:]


@torch.no_grad()
def greedy(net: RecurrentLM, vocab: list[str], prefix: str, length: int = 50) -> str:
    index = {c: i for i, c in enumerate(vocab)}
    ids = [index[c] for c in prefix]
    logits, state = net(torch.tensor([ids]))
    for _ in range(length):
        ids.append(int(logits[0, -1].argmax()))
        logits, state = net(torch.tensor([[ids[-1]]]), state)
    return "".join(vocab[i] for i in ids)


def plain_loop(dm: JayChouLyricsDataModule, epochs: int, seed: int) -> tuple[list[float], float]:
    """The book's train_and_predict_rnn_pytorch (6.5.2) on our network; returns (s/epoch, final perplexity)."""
    torch.manual_seed(seed)
    net = RecurrentLM(dm.vocab_size, "gru", 256)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    loader = dm.train_dataloader()
    starts, ppl = [], math.inf
    for epoch in range(epochs):
        starts.append(time.perf_counter())
        state, loss_sum, n = None, 0.0, 0  # every epoch starts from a zero state, as in 6.4.7
        for x, y, carry in loader:
            state = state.detach() if carry and state is not None else None
            logits, state = net(x, state)
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 0.01)
            optimizer.step()
            loss_sum += loss.item() * y.numel()
            n += y.numel()
        ppl = math.exp(loss_sum / n)
        if (epoch + 1) % 40 == 0:
            net.eval()
            samples = [greedy(net, dm.vocab, p) for p in PREFIXES]
            net.train()
            print(f"  plain epoch {epoch + 1}, perplexity {ppl:.6f}\n   - " + "\n   - ".join(samples))
    return per_epoch(starts), ppl


def lightning_recipe(epochs: int, seed: int, root: Path) -> tuple[list[float], float]:
    """The gru_lyrics recipe through ZooCLI, validation off; returns (s/epoch, final train perplexity)."""
    cli = run_lightning_cli(
        ["--config", str(recipe_path("gru_lyrics")), f"--seed_everything={seed}",
         f"--trainer.max_epochs={epochs}", "--data.init_args.val_chars=0", f"--trainer.default_root_dir={root}"],
        run=False,
    )
    timer = EpochTimer()
    cli.trainer.callbacks.append(timer)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return per_epoch(timer.starts), float(cli.trainer.callback_metrics["train/ppl"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=14, help="epochs per run (the recipe trains 160); the first 2 "
                        "are warm-up and not timed")
    parser.add_argument("--rounds", type=int, default=6, help="paired plain/Lightning rounds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # LightningCLI below gets its arguments explicitly

    dm = JayChouLyricsDataModule(num_chars=10_000, sampling="consecutive", batch_size=32, num_steps=35)
    dm.prepare_data()
    dm.setup("fit")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, vocab {dm.vocab_size}, "
          f"{len(dm.train_dataloader())} batches/epoch, {args.epochs} epochs x {args.rounds} rounds")
    plain: list[float] = []
    light: list[float] = []
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            p_times, p_ppl = plain_loop(dm, args.epochs, args.seed)
            l_times, l_ppl = lightning_recipe(args.epochs, args.seed, Path(tmp) / f"round{r}")
            plain += p_times
            light += l_times
            ratios.append(statistics.median(l_times) / statistics.median(p_times))
            print(f"round {r}: plain {statistics.median(p_times):.4f} s/epoch (perplexity {p_ppl:.6f}), Lightning "
                  f"{statistics.median(l_times):.4f} s/epoch (perplexity {l_ppl:.6f}), ratio {ratios[-1]:.3f}")
    print(f"\nall epochs: plain PyTorch median {statistics.median(plain):.4f} s, Lightning median "
          f"{statistics.median(light):.4f} s (means {statistics.fmean(plain):.4f} / {statistics.fmean(light):.4f})")
    # the machine's speed drifts over minutes, so each Lightning run is compared with the plain run just before it
    ratio = statistics.median(ratios)
    print(f"ratio Lightning/plain, median of {len(ratios)} paired rounds: {ratio:.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}; target <= 1.10: {'met' if ratio <= 1.10 else 'NOT met'})")


if __name__ == "__main__":
    main()
