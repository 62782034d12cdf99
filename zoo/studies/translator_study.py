"""``python -m zoo translator-study``: the layers tutorial's comparison of translators: the ERNN, LSTM, GRU and DNN
translators (`zoo.positionwise_translators.PositionwiseTranslator`) trained on the same parallel text with the
tutorial's settings, their loss and BLEU curves drawn in one PNG (the tutorial's fig8 and fig9) and their final values
printed.

    python -m zoo translator-study --data-dir DIR [--src es --tgt en --embedding-file embedding_128.txt]
    python -m zoo translator-study                  # the book's fr-en-small pairs, as two line-aligned files

Without ``--data-dir`` the 20 pairs of ``fr-en-small.txt`` (the data layer: cache, mirror, checksum) are written as the
seed's four files (the test files repeat the training pairs: there are too few to hold any out) and no word vectors
are given, so each model learns its embedding.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections.abc import Sequence
from pathlib import Path

from zoo.errors import ConfigError
from zoo.files import check_output_file

__all__ = ["plot_study", "translator_study_command"]

CELLS = {"rnn": "ERNN", "lstm": "LSTM", "gru": "GRU", "dnn": "DNN"}
WINDOW = 50  # the tutorial averages its curves over windows of 50 steps


def _curves(metrics_csv: Path) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    loss, bleu = [], []
    with open(metrics_csv, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("train/loss"):
                loss.append((int(row["step"]), float(row["train/loss"])))
            if row.get("val/bleu"):
                bleu.append((int(row["step"]) + 1, float(row["val/bleu"])))
    return loss, bleu


def _windowed(points: list[tuple[int, float]]) -> tuple[list[int], list[float]]:
    steps, values = [], []
    for start in range(0, len(points) - len(points) % WINDOW, WINDOW):
        chunk = points[start:start + WINDOW]
        steps.append(chunk[0][0])
        values.append(sum(v for _, v in chunk) / len(chunk))
    return steps, values


def plot_study(results: dict[str, tuple[list, list]], path: Path, title: str) -> Path:
    """Two panels: the loss averaged over windows of 50 steps (log scale, fig8) and BLEU (fig9)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=100)
    loss_ax, bleu_ax = fig.subplots(1, 2)
    for cell, (loss, bleu) in results.items():
        loss_ax.plot(*_windowed(loss), label=CELLS[cell])
        if bleu:
            bleu_ax.plot(*zip(*bleu), "-o", markersize=2, label=CELLS[cell])
    loss_ax.set_yscale("log")
    loss_ax.set(xlabel="step", ylabel=f"NLL loss (mean of {WINDOW} steps)", title="loss (the layers tutorial, fig8)")
    bleu_ax.set(xlabel="step", ylabel="corpus BLEU (words, 4-grams)", title="BLEU of the test pairs (fig9)")
    for ax in (loss_ax, bleu_ax):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    from zoo.runtime.plots import save_figure

    return save_figure(fig, path, flag="--out", bbox_inches="tight")


def _fr_en_small_folder(folder: Path) -> Path:
    from datamodules.fra_eng import FraEngDataModule
    from datamodules.parallel_text import write_parallel_files

    data = FraEngDataModule()
    data.prepare_data()
    return write_parallel_files([(" ".join(s), " ".join(t)) for s, t in data.pairs], folder)


def translator_study_command(argv: Sequence[str]) -> int:
    """Train the four translators, print their final loss and BLEU, write the PNG."""
    parser = argparse.ArgumentParser(prog="python -m zoo translator-study", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="folder of training/test-<src>/<tgt>.txt (default: the "
                        "book's fr-en-small pairs)")
    parser.add_argument("--src", default=None, help="source suffix (default: es with --data-dir, else fr)")
    parser.add_argument("--tgt", default="en", help="target suffix (default: en)")
    parser.add_argument("--embedding-file", default=None, help="word vectors in --data-dir (the tutorial: "
                        "embedding_128.txt); default none: each model learns its embedding")
    parser.add_argument("--steps", type=int, default=3000, help="training steps of each model (the tutorial: 3,000)")
    parser.add_argument("--eval-every", type=int, default=50, help="steps between BLEU evaluations (default: 50)")
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS), help="models to train")
    parser.add_argument("--seed", type=int, default=1, help="random seed (the tutorial's torch.manual_seed(1))")
    parser.add_argument("--out", default="runs/translator_study/translators.png",
                        help="the figure: .png, .jpg, .pdf or .svg")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.eval_every < 1:
        raise ConfigError(f"--steps and --eval-every must be >= 1, got {args.steps} and {args.eval_every}")

    import lightning as L

    from datamodules.parallel_text import ParallelTextDataModule
    from zoo.positionwise_translators import PositionwiseTranslator
    from zoo.pretrained.word_vectors import WordVectors
    from zoo.runtime.plots import FIGURE_FORMATS

    out = check_output_file(args.out, tuple(FIGURE_FORMATS), flag="--out")  # before minutes of training
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.data_dir) if args.data_dir else _fr_en_small_folder(Path(tmp) / "fr_en_small")
        src = args.src or ("es" if args.data_dir else "fr")
        results, lines = {}, []
        for cell in args.cells:
            L.seed_everything(args.seed, verbose=False)
            dm = ParallelTextDataModule(str(folder), src, args.tgt, args.embedding_file, steps=args.steps,
                                        eval_size=100)
            embed_size = WordVectors.from_file(dm.word_vectors).dim if dm.word_vectors else 128  # the tutorial's 128
            model = PositionwiseTranslator(cell=cell, vocab=dm.vocab, word_vectors=dm.word_vectors,
                                           max_len=dm.hparams.max_len, embed_size=embed_size)
            logger = L.pytorch.loggers.CSVLogger(out.parent, name=cell, version="")
            trainer = L.Trainer(max_epochs=1, val_check_interval=args.eval_every, log_every_n_steps=1, logger=logger,
                                enable_checkpointing=False, enable_model_summary=False, accelerator="cpu",
                                devices=1, num_sanity_val_steps=0, enable_progress_bar=False)
            trainer.fit(model, dm)
            loss, bleu = _curves(Path(logger.log_dir) / "metrics.csv")
            results[cell] = (loss, bleu)
            tail = loss[-WINDOW:]
            final_loss = sum(v for _, v in tail) / len(tail)
            final_bleu = bleu[-1][1] if bleu else float("nan")
            best_bleu = max((b for _, b in bleu), default=float("nan"))
            lines.append(f"{CELLS[cell]:>5}: loss {final_loss:.4f} (mean of the last {len(tail)} steps), BLEU "
                         f"{final_bleu:.3f} (best {best_bleu:.3f})")
            print(lines[-1], flush=True)
        path = plot_study(results, out, f"translators on {folder.name} ({src} -> {args.tgt}), {args.steps} steps")
    print(f"plot: {path}")
    return 0
