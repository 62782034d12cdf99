"""``python -m zoo translate``: translate sentences with a translation checkpoint (book 10.12.4), by greedy search
or beam search (10.10), with the book's BLEU against a reference and, for the attention models, a picture of the
attention weights.

    python -m zoo translate --ckpt PATH "Ils regardent." [--beam-size 3] [--reference "They are watching."]
                            [--references FILE] [--attention-png attention.png]

Sentences and references are normalised as the training text was (`datamodules.fra_eng.normalize_sentence`: lower
case, a space before ``, . ! ?``), so "Ils regardent." reads as "ils regardent ."; words the model never saw are
still read as ``<unk>``, and named. References come one per sentence, in order: ``--reference`` once per sentence, or
``--references FILE`` with one a line.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from zoo.errors import ConfigError, DataError
from zoo.validation import positive_int

__all__ = ["plot_attention", "read_references", "translate_command"]


def plot_attention(weights, source: list[str], target: list[str], path: str | Path, title: str = "") -> Path:
    """Write a heat map of attention weights (target words x source tokens), in the format of ``path``'s suffix
    (`zoo.runtime.plots.save_figure`: PNG, JPEG, PDF or SVG)."""
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
    from zoo.runtime.plots import save_figure

    return save_figure(fig, path, flag="--attention-png", bbox_inches="tight")


def read_references(path: str | Path) -> list[str]:
    """The lines of a references file, one reference translation a line (trailing blank lines ignored); `DataError`
    for a missing or unreadable file or a blank line among the references."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such references file: {path} (one reference translation a line, in the order of the "
                        "sentences)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the references file {path} ({type(exc).__name__}: {exc}); it must be UTF-8 "
                        "text, one reference a line") from exc
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    blank = [i for i, line in enumerate(lines, start=1) if not line.strip()]
    if blank:
        raise DataError(f"{path}, line {blank[0]}: a blank line; the file holds one reference translation a line, "
                        "in the order of the sentences")
    return lines


def _references(args: argparse.Namespace) -> list[str] | None:
    """The references given by ``--reference`` (repeated) or ``--references FILE``, checked against the sentences."""
    if args.reference and args.references:
        raise ConfigError("give the references either with --reference (once per sentence) or with --references "
                          "FILE, not both")
    references = read_references(args.references) if args.references else args.reference
    if references is None:
        return None
    n, m = len(args.sentences), len(references)
    if n != m:
        raise ConfigError(f"{n} sentence{'s' if n != 1 else ''} but {m} reference{'s' if m != 1 else ''}: give one "
                          "reference per sentence, in the same order: repeat --reference \"...\" once for each "
                          "sentence, or put them in a file, one a line, and pass --references FILE")
    return references


def translate_command(argv: Sequence[str]) -> int:
    """``python -m zoo translate``: one line per sentence with its translation (and BLEU with ``--reference``)."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo translate",
        description="Translate sentences with a translation checkpoint (its vocabularies travel in it). Sentences "
                    "are normalised as the training text was (lower case, a space before , . ! ?); source words "
                    "the model never saw are read as <unk> and reported.",
        epilog='example: python -m zoo translate --ckpt runs/seq2seq_attention_fr_en/version_0/checkpoints/last.ckpt '
               '"Ils regardent." "Ils sont canadiens." --beam-size 3 --reference "They are watching." '
               '--reference "They are Canadian."')
    parser.add_argument("--ckpt", required=True, help="checkpoint written by a zoo translator")
    parser.add_argument("--beam-size", type=int, default=1, help="1 = greedy search (the book), more = beam search")
    parser.add_argument("--reference", action="append", help="reference translation of a sentence, repeated once "
                        "per sentence in the same order: prints the book's BLEU (k = 2)")
    parser.add_argument("--references", metavar="FILE", default=None, help="a file of reference translations, one "
                        "a line, in the order of the sentences (instead of repeating --reference)")
    parser.add_argument("--attention-png", default=None, help="write the attention weights of the first sentence "
                        "(greedy path) to this PNG")
    parser.add_argument("sentences", nargs="+", help="source sentences, words separated by spaces")
    args = parser.parse_args(argv)
    positive_int(args.beam_size, "--beam-size")
    references = _references(args)
    if args.attention_png is not None:  # before the checkpoint is read
        from zoo.files import check_output_file
        from zoo.runtime.plots import FIGURE_FORMATS

        check_output_file(args.attention_png, tuple(FIGURE_FORMATS), flag="--attention-png", inputs=[args.ckpt])
    from datamodules.fra_eng import normalize_sentence
    from zoo.models import load_task
    from zoo.ops.bleu import bleu
    from zoo.tasks.seq2seq import Seq2SeqTask

    model = load_task(args.ckpt)
    if not isinstance(model, Seq2SeqTask):
        raise ConfigError(f"{args.ckpt} holds a {type(model).__name__}, which does not translate; translate takes "
                          "checkpoints of the translators (Seq2Seq, Seq2SeqAttention)")
    # every sentence checked before printing; normalised as the datamodule normalised the training text
    results = [model.translate(normalize_sentence(s), args.beam_size) for s in args.sentences]
    search = "greedy" if args.beam_size == 1 else f"beam {args.beam_size}"
    for i, (sentence, result) in enumerate(zip(args.sentences, results)):
        line = f"{sentence} -> {result.text}  ({search}, log P {result.log_prob:.3f})"
        if references:
            reference = normalize_sentence(references[i]).split()
            line += f"  bleu {bleu(result.words, reference, model.hparams.bleu_k):.3f}"
        print(line, flush=True)
        if result.unknown:
            print(f"  note: not in the training vocabulary, read as <unk>: {' '.join(result.unknown)}", flush=True)
    if args.attention_png is not None:
        first = model.translate(normalize_sentence(args.sentences[0]), beam_size=1)
        if first.attention is None:
            raise ConfigError(f"{type(model).__name__} has no attention to draw; use a Seq2SeqAttention checkpoint")
        path = plot_attention(first.attention[: len(first.words) + 1], first.source_tokens, [*first.words, "<eos>"],
                              args.attention_png, f"{args.sentences[0]} -> {first.text}")
        print(f"attention weights: {path}")
    return 0
