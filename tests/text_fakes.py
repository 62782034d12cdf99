"""Small text files in their real formats: a ``ptb.zip`` (``ptb/ptb.{train,valid,test}.txt``, one sentence a line)
and word vectors in the GloVe text format (and d2l's GloVe zip layout, ``glove.6B.50d/vec.txt``) whose vectors are
built so that the book's similar-word and analogy examples (10.6) have determined answers."""

from __future__ import annotations

import math
import random
import zipfile
from pathlib import Path

import pytest
import torch

#: words of the fake PTB, the first ones most frequent (Zipf-like counts), with the book's probe words among them
PTB_WORDS = ["the", "<unk>", "N", "of", "to", "a", "in", "and", "chip", "intel", "market", "stock", "join", "computer",
             "maker", "price", "share", "company", "year", "new", "drives", "hard-disk", "says", "was"]


def ptb_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` sentences of 1 to 25 words drawn with weights 1/rank, so the top words pass min_count=5 easily."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(PTB_WORDS))]
    lengths = [rng.randint(1, 25) for _ in range(n)]
    return [" ".join(rng.choices(PTB_WORDS, weights, k=k)) for k in lengths]


def write_ptb_zip(path: Path, n_train: int = 300, n_valid: int = 40, n_test: int = 40) -> Path:
    """A zip in the real layout (a ``ptb/`` folder, lines starting with a space as the real files do)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ptb/", "")
        for split, n, seed in (("train", n_train, 0), ("valid", n_valid, 1), ("test", n_test, 2)):
            zf.writestr(f"ptb/ptb.{split}.txt", "".join(f" {s} \n" for s in ptb_sentences(n, seed)))
    return path


def install_ptb(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datamodules.ptb as mod
    from tests.fakes import point_resource_at  # here: tests.fakes imports this module

    path = write_ptb_zip(root / mod.PTB.filename)
    point_resource_at(monkeypatch, mod, "PTB", path)


# ------------------------------------------------------------------ word vectors with determined answers
#: (query, [(neighbour, cosine), ...]): the book's printed neighbours on glove.6B.50d (10.6.2.1)
BOOK_SIMILAR = {
    "chip": [("chips", 0.856), ("intel", 0.749), ("electronics", 0.748)],
    "baby": [("babies", 0.839), ("boy", 0.800), ("girl", 0.792)],
    "beautiful": [("lovely", 0.921), ("gorgeous", 0.893), ("wonderful", 0.830)],
}
#: a : b :: c : d, the book's four analogies (10.6.2.2)
BOOK_ANALOGIES = [("man", "woman", "son", "daughter"), ("beijing", "china", "tokyo", "japan"),
                  ("bad", "worst", "big", "biggest"), ("do", "did", "go", "went")]


def book_vectors(dim: int = 50, distractors: int = 40, seed: int = 0) -> tuple[list[str], torch.Tensor]:
    """Words and vectors on which the book's examples come out exactly as printed.

    Each query word is a basis vector and each neighbour has the printed cosine with it (the rest of its length in a
    direction of its own); each analogy is a = x + p, b = x + q, c = y + p, d = y + q with x, y, p, q orthonormal, so
    vec(b) - vec(a) + vec(c) = vec(d). Distractors are small random vectors.
    """
    basis = iter(range(dim))
    rows: dict[str, torch.Tensor] = {}

    def unit() -> torch.Tensor:
        return torch.eye(dim)[next(basis)]

    for query, neighbours in BOOK_SIMILAR.items():
        rows[query] = unit()
        for word, cosine in neighbours:
            rows[word] = cosine * rows[query] + math.sqrt(1 - cosine**2) * unit()
    for a, b, c, d in BOOK_ANALOGIES:
        x, y, p, q = unit(), unit(), unit(), unit()
        rows.update({a: x + p, b: x + q, c: y + p, d: y + q})
    generator = torch.Generator().manual_seed(seed)
    for i in range(distractors):
        rows[f"word{i}"] = 0.3 * torch.randn(dim, generator=generator)
    return list(rows), torch.stack(list(rows.values()))


def write_vector_text(path: Path, tokens: list[str], vectors: torch.Tensor, header: bool = False) -> Path:
    """The GloVe text format, written independently of the zoo's writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{len(tokens)} {vectors.shape[1]}"] if header else []
    lines += [" ".join([t, *(f"{v:.6f}" for v in row)]) for t, row in zip(tokens, vectors.tolist())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_glove_zip(path: Path, name: str = "glove.6B.50d") -> Path:
    """d2l's layout: ``<name>/vec.txt`` inside ``<name>.zip``."""
    tokens, vectors = book_vectors()
    text = path.parent / "vec.txt"
    write_vector_text(text, tokens, vectors)
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(text, f"{name}/vec.txt")
    text.unlink()
    return path


# ------------------------------------------------------------------ IMDb in the real layout
POSITIVE = ["great", "wonderful", "loved", "best", "brilliant", "enjoyed"]
NEGATIVE = ["bad", "awful", "boring", "worst", "hated", "waste"]
NEUTRAL = ["the", "movie", "film", "this", "is", "a", "of", "and", "plot", "actors", "story", "it", "was", "so"]


def imdb_reviews(n: int, seed: int = 0) -> list[tuple[str, int]]:
    """``n`` (review, label) pairs: neutral words with a few words of the label's sentiment, line breaks and the
    ``<br />`` tags of real reviews, mixed case."""
    rng = random.Random(seed)
    reviews = []
    for i in range(n):
        label = i % 2
        words = rng.choices(NEUTRAL, k=rng.randint(5, 60)) + rng.choices(POSITIVE if label else NEGATIVE, k=3)
        rng.shuffle(words)
        text = " ".join(words).capitalize().replace(" so ", " So<br /><br />", 1) + ".\n"
        reviews.append((text, label))
    return reviews


def _tar_add(tar, name: str, data: bytes) -> None:
    import io
    import tarfile

    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_imdb_tar(path: Path, reviews: dict[str, list[tuple[str, int]]]) -> Path:
    """``aclImdb_v1.tar.gz`` as published: ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt``, plus the files the
    loader must ignore (``train/unsup``, ``imdb.vocab``, ``README``)."""
    import tarfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        _tar_add(tar, "aclImdb/README", b"Large Movie Review Dataset v1.0\n")
        _tar_add(tar, "aclImdb/imdb.vocab", b"the\nand\n")
        _tar_add(tar, "aclImdb/train/unsup/0_0.txt", b"not a labelled review")
        for split, rows in reviews.items():
            for i, (text, label) in enumerate(rows):
                folder, rating = ("pos", 7 + i % 4) if label else ("neg", 1 + i % 4)
                _tar_add(tar, f"aclImdb/{split}/{folder}/{i}_{rating}.txt", text.encode("utf-8"))
    return path


def repack_tiny_imdb(tiny_zip: Path, path: Path) -> Path:
    """The real 40-review sample (``aclImdb_tiny/...`` in a zip) as the real archive: ``aclImdb/...`` in a tar.gz."""
    import tarfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(tiny_zip) as zf, tarfile.open(path, "w:gz") as tar:
        for name in zf.namelist():
            if name.endswith(".txt"):
                _tar_add(tar, "aclImdb/" + name.split("/", 1)[1], zf.read(name))
    return path


def install_imdb(root: Path, monkeypatch: pytest.MonkeyPatch, n_train: int = 64, n_test: int = 32) -> None:
    import datamodules.imdb as mod
    from tests.fakes import point_resource_at

    path = write_imdb_tar(root / mod.IMDB.filename, {"train": imdb_reviews(n_train), "test": imdb_reviews(n_test, 1)})
    point_resource_at(monkeypatch, mod, "IMDB", path)
    install_glove_100d(root, monkeypatch)  # the recipes start from GloVe-100d


def install_glove_100d(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small ``glove.6B.100d.zip`` in d2l's layout holding 100-d vectors of the fake reviews' words, in the data
    cache the models read vectors from (``$ZOO_DATA_DIR``), accepted by sha1 through
    ``zoo.pretrained.word_vectors.GLOVE``."""
    import hashlib

    import zoo.pretrained.word_vectors as wv
    from datamodules.download import cache_root

    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)

    words = [*POSITIVE, *NEGATIVE, *NEUTRAL]
    vectors = torch.randn(len(words), 100, generator=torch.Generator().manual_seed(0))
    text = write_vector_text(root / "vec.txt", words, vectors)
    archive = root / "glove.6B.100d.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(text, "glove.6B.100d/vec.txt")
    text.unlink()
    filename, url, _ = wv.GLOVE["glove.6B.100d"]
    monkeypatch.setitem(wv.GLOVE, "glove.6B.100d", (filename, url, hashlib.sha1(archive.read_bytes()).hexdigest()))
    return archive


# ------------------------------------------------------------------ French-English pairs
FR_EN_PAIRS = [("elle est vieille .", "she is old ."), ("ils regardent .", "they are watching ."),
               ("il est mon frere .", "he is my brother ."), ("elle a tort .", "she is wrong ."),
               ("ils sont acteurs .", "they are actors ."), ("il a des ennuis .", "he is in trouble ."),
               ("elles sont toutes deux bonnes .", "they are both good ."),
               ("c est une personne vraiment tres adorable .", "he is a truly very lovable person .")]


def write_fr_en(path: Path, pairs: list[tuple[str, str]] = FR_EN_PAIRS) -> Path:
    """The book's format: ``french<TAB>english`` a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{fr}\t{en}\n" for fr, en in pairs), encoding="utf-8")
    return path


def install_fr_en(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both sources of the datamodule: the book's small file and a Tatoeba zip in its real layout."""
    import datamodules.fra_eng as mod
    from tests.fakes import point_resource_at

    point_resource_at(monkeypatch, mod, "FR_EN_SMALL", write_fr_en(root / mod.FR_EN_SMALL.filename))
    point_resource_at(monkeypatch, mod, "FRA_ENG", write_tatoeba_zip(root / mod.FRA_ENG.filename))


def write_tatoeba_zip(path: Path) -> Path:
    """``fra-eng.zip`` as published: ``fra-eng/fra.txt``, English<TAB>French, some lines with an attribution column,
    non-breaking spaces and punctuation glued to words."""
    lines = ["Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #1158250 (Wittydev)",
             "Hi.\tSalut !", "Run!\tCours\u202f!", "Who?\tQui ?", "I'm OK.\tJe vais bien.",
             "He is my brother.\tC'est mon frère.", "This sentence is far too long to keep.\tCette phrase est bien "
             "trop longue pour la garder."]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("fra-eng/_about.txt", "about")
        zf.writestr("fra-eng/fra.txt", "\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------ the layers tutorial's parallel files
def write_seed000_files(root: Path, dim: int = 8) -> Path:
    """The tutorial's four line-aligned files (hotel phrases, es -> en) and an ``embedding_128.txt``-style vector file
    (here ``dim`` numbers a word) covering every word but one, to exercise the <unk> path."""
    pairs = [("por favor , una habitaci'on .", "a room , please ."),
             ("me voy a marchar hoy .", "I am leaving today ."),
             ("tengo reservada una habitaci'on .", "I have booked a room ."),
             ("me parece que existe un problema .", "I think that there is a problem .")]
    from datamodules.parallel_text import write_parallel_files

    write_parallel_files(pairs, root, "es", "en", test_pairs=pairs[:2] + [("una habitaci'on tranquila .",
                                                                          "a quiet room .")])
    words = sorted({w for a, b in pairs for w in f"{a} {b}".split()} | {"quiet"})
    vectors = torch.randn(len(words), dim, generator=torch.Generator().manual_seed(0))
    write_vector_text(root / "embedding_128.txt", words, vectors)  # "tranquila" has no vector
    return root


def install_parallel_text(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_seed000_files(root)
