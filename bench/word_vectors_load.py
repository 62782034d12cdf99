"""Seconds to load GloVe-sized word vectors (400,000 words x 100 numbers, the size of glove.6B.100d) with
`zoo.pretrained.word_vectors.WordVectors`: the first load (parse the text once and write the ``.pt`` cache) and every
later load (the cache), against the per-line Python loop d2l's ``TokenEmbedding`` uses, in one process.

The file is written with random vectors in the GloVe text format (6 significant digits, as GloVe's files) in a
temporary folder. Target: a later load takes seconds; the ratio is d2l's loop / ours.

    python bench/word_vectors_load.py [--words 400000] [--dim 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _interleave import bench_line

from zoo.pretrained.word_vectors import WordVectors

TARGET_SECONDS = 10.0  # "a later load takes seconds"


def d2l_loop(path: Path) -> tuple[list[str], torch.Tensor]:
    """d2l's TokenEmbedding._load_embedding, written out."""
    idx_to_token, idx_to_vec = ["<unk>"], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            elems = line.rstrip().split(" ")
            token, elems = elems[0], [float(elem) for elem in elems[1:]]
            if len(elems) > 1:  # skip header information, such as the top row in fastText
                idx_to_token.append(token)
                idx_to_vec.append(elems)
    idx_to_vec = [[0] * len(idx_to_vec[0])] + idx_to_vec
    return idx_to_token, torch.tensor(idx_to_vec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=400_000)
    parser.add_argument("--dim", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vec.txt"
        rng = np.random.default_rng(0)
        with open(path, "w", encoding="utf-8") as f:
            for start in range(0, args.words, 10_000):
                block = rng.normal(0, 0.4, (min(10_000, args.words - start), args.dim)).astype(np.float32)
                f.writelines(f"w{start + i} " + " ".join(f"{v:.6g}" for v in row) + "\n" for i, row in enumerate(block))
        print(f"{args.words:,} x {args.dim} vectors, {path.stat().st_size / 2**20:.0f} MiB of text")
        start = time.perf_counter()
        _, book = d2l_loop(path)
        d2l_seconds = time.perf_counter() - start
        start = time.perf_counter()
        first = WordVectors.from_file(path)
        first_seconds = time.perf_counter() - start
        start = time.perf_counter()
        cached = WordVectors.from_file(path)
        cached_seconds = time.perf_counter() - start
        assert torch.equal(first.vectors, cached.vectors) and torch.allclose(book[1:], cached.vectors)
    print(f"d2l's per-line loop: {d2l_seconds:.1f} s")
    print(f"WordVectors, first load (parse + write cache): {first_seconds:.1f} s ({d2l_seconds / first_seconds:.1f}x "
          "faster)")
    print(f"WordVectors, later loads (cache): {cached_seconds:.2f} s ({d2l_seconds / cached_seconds:.0f}x faster)")
    bench_line("word_vectors_cached_load_s", cached_seconds, "<=", TARGET_SECONDS,
               note=f"seconds, {args.words:,} x {args.dim}; {d2l_seconds / cached_seconds:.0f}x d2l's loop")


if __name__ == "__main__":
    main()
