"""The text commands of ``python -m zoo``: text from a language model, and word-vector queries.

    python -m zoo generate --ckpt PATH [--prefix TEXT ...] [--length N] [--temperature T] [--seed S]
    python -m zoo similar (--vectors NAME|FILE | --ckpt PATH) [-k 3] WORD [WORD ...]
    python -m zoo analogy (--vectors NAME|FILE | --ckpt PATH) A B C
    python -m zoo classify-text --ckpt PATH TEXT [TEXT ...]

Vocabularies travel in the checkpoints' hyperparameters, so a checkpoint is all these commands need. When fewer words
than ``-k`` can answer (a small vector file), ``similar`` and ``analogy`` print those there are and say on stderr how
many were asked for and how many there are; none at all, or a query whose vector is zero, is an error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import torch

from zoo.errors import ConfigError
from zoo.models import load_task
from zoo.validation import non_negative_float, positive_int

__all__ = ["analogy_command", "classify_text_command", "generate_command", "similar_command"]


def generate_command(argv: Sequence[str]) -> int:
    """``python -m zoo generate``: text from a language-model checkpoint, one line per prefix."""
    parser = argparse.ArgumentParser(prog="python -m zoo generate",
                                     description="Write text with a trained language-model checkpoint.")
    parser.add_argument("--ckpt", required=True, help="checkpoint written by a zoo language model")
    parser.add_argument("--prefix", action="append", help="start text (repeatable); default: the model's prefixes")
    parser.add_argument("--length", type=int, default=None, help="characters to write, >= 1 (default: the model's)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (the book); > 0 samples")
    parser.add_argument("--seed", type=int, default=0, help="random seed for sampling")
    args = parser.parse_args(argv)
    if args.length is not None:
        positive_int(args.length, "--length")
    non_negative_float(args.temperature, "--temperature")  # nan and inf are refused too

    model = load_task(args.ckpt)
    if not hasattr(model, "generate"):
        raise ConfigError(f"{args.ckpt} holds a {type(model).__name__}, which does not generate text")
    prefixes = args.prefix or model.prompts()
    length = model.hparams.pred_len if args.length is None else args.length
    generator = torch.Generator().manual_seed(args.seed)
    for prefix in prefixes:
        print(model.generate(prefix, length, temperature=args.temperature, generator=generator))
    return 0


def _vectors_parser(prog: str, description: str, epilog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--vectors", help="glove.6B.50d, glove.6B.100d, or a vector file in the GloVe text format")
    source.add_argument("--ckpt", help="checkpoint of a zoo word-embedding model (skipgram_ptb)")
    parser.add_argument("--data-dir", default=None, help="cache folder for GloVe (default: $ZOO_DATA_DIR or ~/.cache)")
    return parser


def _load_vectors(args: argparse.Namespace):
    from zoo.pretrained.word_vectors import WordVectors

    if args.ckpt:
        return WordVectors.from_checkpoint(args.ckpt)
    return WordVectors.load(args.vectors, args.data_dir)


def similar_command(argv: Sequence[str]) -> int:
    """``python -m zoo similar``: the nearest words to each query word by cosine similarity (book 10.3.6, 10.6.2.1)."""
    parser = _vectors_parser("python -m zoo similar", "The words nearest to each WORD by cosine similarity.",
                             "example: python -m zoo similar --vectors glove.6B.50d chip baby beautiful")
    parser.add_argument("-k", type=int, default=3, help="neighbours per word (default: 3, as the book)")
    parser.add_argument("words", nargs="+", help="query words")
    args = parser.parse_args(argv)
    positive_int(args.k, "-k")
    vectors = _load_vectors(args)
    answers = {word: vectors.similar(word, args.k) for word in args.words}  # every word checked before printing
    for word, neighbours in answers.items():
        print(f"{word}:")
        for token, cosine in neighbours:
            print(f"  cosine sim={cosine:.3f}: {token}")
        _say_if_fewer(neighbours, args.k, f"neighbours of {word!r}", vectors)
    return 0


def _say_if_fewer(answers: list, k: int, what: str, vectors) -> None:
    """A note on stderr when fewer answers came back than ``-k`` asked for (a vector file of few words)."""
    if len(answers) < k:
        print(f"note: -k {k} asked for {k} {what}, but only {len(answers)} words of {vectors.name} can answer "
              f"({len(vectors):,} words in all, the query left out); all {len(answers)} are printed",
              file=sys.stderr, flush=True)


def analogy_command(argv: Sequence[str]) -> int:
    """``python -m zoo analogy``: ``a : b :: c : ?`` (book 10.6.2.2)."""
    parser = _vectors_parser("python -m zoo analogy", "Complete the analogy A : B :: C : ? with the word whose vector "
                             "is nearest to vec(B) - vec(A) + vec(C).",
                             "example: python -m zoo analogy --vectors glove.6B.50d man woman son  (book: daughter)")
    parser.add_argument("-k", type=int, default=1, help="answers to print, best first (default: 1)")
    parser.add_argument("--include-query", action="store_true",
                        help="allow A, B or C as the answer, as the book's get_analogy does")
    parser.add_argument("words", nargs=3, metavar="WORD", help="A B C")
    args = parser.parse_args(argv)
    positive_int(args.k, "-k")
    a, b, c = args.words
    vectors = _load_vectors(args)
    answers = vectors.analogy(a, b, c, args.k, exclude_query=not args.include_query)
    for token, cosine in answers:
        print(f"{a} : {b} :: {c} : {token}  (cosine sim={cosine:.3f})")
    _say_if_fewer(answers, args.k, "answers", vectors)
    return 0


def classify_text_command(argv: Sequence[str]) -> int:
    """``python -m zoo classify-text``: the class and its probability for each text (book 10.7.3)."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo classify-text",
        description="Classify texts with a text-classifier checkpoint (vocabulary and classes come from it).",
        epilog='example: python -m zoo classify-text --ckpt runs/birnn_imdb/version_0/checkpoints/last.ckpt '
               '"this movie is so great" "this movie is so bad"')
    parser.add_argument("--ckpt", required=True, help="checkpoint written by a zoo text classifier")
    parser.add_argument("--top-k", type=int, default=1, help="classes to print per text, most likely first")
    parser.add_argument("texts", nargs="+", help="texts to classify")
    args = parser.parse_args(argv)
    positive_int(args.top_k, "--top-k")
    from zoo.tasks.text_classification import TextClassificationTask

    model = load_task(args.ckpt)
    if not isinstance(model, TextClassificationTask):
        raise ConfigError(f"{args.ckpt} holds a {type(model).__name__}, which does not classify text; classify-text "
                          "takes checkpoints of the text classifiers (BiRNN, TextCNN)")
    for text, top in zip(args.texts, model.classify(args.texts, args.top_k)):
        print(f"{text!r}: " + ", ".join(f"{name} {p:.3f}" for name, p in top), flush=True)
    return 0
