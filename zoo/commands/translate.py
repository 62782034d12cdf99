"""``python -m zoo translate``: translate sentences with a translation checkpoint (book 10.12.4), by greedy search
or beam search (10.10), with the book's BLEU against a reference and, for the attention models, a picture of the
attention weights.

    python -m zoo translate --ckpt PATH "ils regardent ." [--beam-size 3] [--reference "they are watching ."]
                            [--attention-png attention.png]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from zoo.errors import ConfigError
from zoo.validation import positive_int

__all__ = ["plot_attention", "translate_command"]


def plot_attention(weights, source: list[str], target: list[str], path: str | Path, title: str = "") -> Path:
    """Write a heat map of attention weights (target words x source tokens) as a PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.2 + 0.7 * len(source), 1.0 + 0.5 * len(target)), dpi=100)
    ax = fig.subplots()
    image = ax.imshow(weights.numpy(), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source)), source, rotation=45, ha="right")
    ax.set_yticks(range(len(target)), target)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    for i in range(weights.shape[0]):
        for j in range(weights.shape[1]):
            value = float(weights[i, j])
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if value > 0.6 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title, fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", bbox_inches="tight")
    return path


def translate_command(argv: Sequence[str]) -> int:
    """``python -m zoo translate``: one line per sentence with its translation (and BLEU with ``--reference``)."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo translate",
        description="Translate sentences with a translation checkpoint (its vocabularies travel in it). Source words "
                    "it never saw are read as <unk> and reported.",
        epilog='example: python -m zoo translate --ckpt runs/seq2seq_attention_fr_en/version_0/checkpoints/last.ckpt '
               '"ils regardent ." --beam-size 3 --reference "they are watching ."')
    parser.add_argument("--ckpt", required=True, help="checkpoint written by a zoo translator")
    parser.add_argument("--beam-size", type=int, default=1, help="1 = greedy search (the book), more = beam search")
    parser.add_argument("--reference", action="append", help="reference translation (one per sentence): prints the "
                        "book's BLEU (k = 2)")
    parser.add_argument("--attention-png", default=None, help="write the attention weights of the first sentence "
                        "(greedy path) to this PNG")
    parser.add_argument("sentences", nargs="+", help="source sentences, words separated by spaces")
    args = parser.parse_args(argv)
    positive_int(args.beam_size, "--beam-size")
    if args.reference and len(args.reference) != len(args.sentences):
        raise ConfigError(f"give one --reference per sentence ({len(args.sentences)}), got {len(args.reference)}")
    from zoo.models import load_task
    from zoo.ops.bleu import bleu
    from zoo.tasks.seq2seq import Seq2SeqTask

    model = load_task(args.ckpt)
    if not isinstance(model, Seq2SeqTask):
        raise ConfigError(f"{args.ckpt} holds a {type(model).__name__}, which does not translate; translate takes "
                          "checkpoints of the translators (Seq2Seq, Seq2SeqAttention)")
    results = [model.translate(s, args.beam_size) for s in args.sentences]  # every sentence checked before printing
    search = "greedy" if args.beam_size == 1 else f"beam {args.beam_size}"
    for i, (sentence, result) in enumerate(zip(args.sentences, results)):
        line = f"{sentence} -> {result.text}  ({search}, log P {result.log_prob:.3f})"
        if args.reference:
            line += f"  bleu {bleu(result.words, args.reference[i].split(), model.hparams.bleu_k):.3f}"
        print(line, flush=True)
        if result.unknown:
            print(f"  note: not in the training vocabulary, read as <unk>: {' '.join(result.unknown)}", flush=True)
    if args.attention_png:
        first = model.translate(args.sentences[0], beam_size=1)
        if first.attention is None:
            raise ConfigError(f"{type(model).__name__} has no attention to draw; use a Seq2SeqAttention checkpoint")
        path = plot_attention(first.attention[: len(first.words) + 1], first.source_tokens, [*first.words, "<eos>"],
                              args.attention_png, f"{args.sentences[0]} -> {first.text}")
        print(f"attention weights: {path}")
    return 0
