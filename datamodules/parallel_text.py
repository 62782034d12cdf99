"""Line-aligned parallel text with a frozen word-vector file: the data of the layers tutorial's translator comparison
(the translator comparison, "2. 递归层, 1.3"): ``training-<src>.txt``/``training-<tgt>.txt`` and
``test-<src>.txt``/``test-<tgt>.txt`` (line i of one file translates line i of the other) and ``embedding_128.txt``
(one word and its 128 numbers a line, GloVe's text format; one vocabulary for both languages).

As the tutorial prepares it: words are split on whitespace and cut at ``max_len`` (30), every sentence padded to
``max_len`` with the empty word (index 0); the vocabulary is the embedding file's words after it. A word the
embedding file lacks (the tutorial's code would crash on it) is read as ``<unk>``, added after the file's words.
Without an embedding file the vocabulary is built from the training text (for files other than the tutorial's, such as
the book's fr-en-small split in two, `write_parallel_files`), and the embedding starts random.

A batch is ``(source (B, max_len), target (B, max_len))``. Training batches are drawn with replacement, as the
tutorial's ``get_batch`` does (``steps`` batches an epoch); ``val_dataloader`` serves ``eval_size`` random test pairs
(seeded, the same every time), on which the translators compute BLEU.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from datamodules.text import UNK, Vocab, count_tokens, decode_utf8
from datamodules.vector_files import read_vector_file
from zoo.errors import DataError, DataUnavailableError
from zoo.validation import positive_int

__all__ = ["ParallelTextDataModule", "read_lines", "write_parallel_files"]

PAD_WORD = ""  # the tutorial's padding word, index 0


def read_lines(path: Path, max_len: int) -> list[list[str]]:
    """Each line of ``path`` split on whitespace and cut at ``max_len`` words."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataUnavailableError(f"{path} does not exist; the parallel-text datamodule reads training-<src>.txt, "
                                   "training-<tgt>.txt, test-<src>.txt and test-<tgt>.txt from its data_dir") from exc
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc})") from exc
    text = decode_utf8(data, str(path))
    return [line.split()[:max_len] for line in text.splitlines() if line.strip()]


def write_parallel_files(pairs: list[tuple[str, str]], folder: Path, src: str = "fr", tgt: str = "en",
                         test_pairs: list[tuple[str, str]] | None = None) -> Path:
    """Write ``pairs`` (and ``test_pairs``, default the same) as the tutorial's four line-aligned files."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in (("training", pairs), ("test", test_pairs or pairs)):
        (folder / f"{split}-{src}.txt").write_text("".join(a + "\n" for a, _ in rows), encoding="utf-8")
        (folder / f"{split}-{tgt}.txt").write_text("".join(b + "\n" for _, b in rows), encoding="utf-8")
    return folder


class ParallelTextDataModule(L.LightningDataModule):
    """The layers tutorial's translation data (see the module docstring).

    Args:
        data_dir: the folder with the four text files (and the embedding file).
        src, tgt: the language suffixes of the file names (the tutorial: ``es`` and ``en``).
        embedding_file: the word-vector file in ``data_dir`` (the tutorial: ``embedding_128.txt``); ``None`` builds the
            vocabulary from the training text.
        max_len: words per sentence (the tutorial: 30).
        batch_size: pairs per training batch (the tutorial: 10).
        steps: training batches an epoch (the tutorial trains 3,000 steps, one batch each).
        eval_size: random test pairs for BLEU (the tutorial: 100).
        seed: seed of the choice of the test pairs.
    """

    def __init__(self, data_dir: str, src: str = "es", tgt: str = "en",
                 embedding_file: str | None = "embedding_128.txt", max_len: int = 30, batch_size: int = 10,
                 steps: int = 3000, eval_size: int = 100, seed: int = 0) -> None:
        super().__init__()
        for key, value in (("max_len", max_len), ("batch_size", batch_size), ("steps", steps),
                           ("eval_size", eval_size)):
            positive_int(value, key, type(self).__name__)
        self.save_hyperparameters()
        self.root = Path(data_dir).expanduser()

    @property
    def word_vectors(self) -> str | None:
        """Path of the frozen word vectors (linked into the model, which reads them for its vocabulary), or None."""
        name = self.hparams.embedding_file
        if not name:
            return None
        path = self.root / name
        if not path.is_file():
            raise DataUnavailableError(f"{path} does not exist: the tutorial's word vectors, one word and its numbers "
                                       "a line; set embedding_file: null to learn an embedding instead")
        return str(path)

    @cached_property
    def _text(self) -> dict[str, list[list[str]]]:
        hp, n = self.hparams, self.hparams.max_len
        text = {f"{split}-{lang}": read_lines(self.root / f"{split}-{lang}.txt", n)
                for split in ("training", "test") for lang in (hp.src, hp.tgt)}
        for split in ("training", "test"):
            if len(text[f"{split}-{hp.src}"]) != len(text[f"{split}-{hp.tgt}"]):
                raise DataError(f"{self.root}: {split}-{hp.src}.txt and {split}-{hp.tgt}.txt have "
                                f"{len(text[f'{split}-{hp.src}'])} and {len(text[f'{split}-{hp.tgt}'])} lines; "
                                "line i of one must translate line i of the other")
        return text

    @cached_property
    def vocab(self) -> list[str]:
        """The empty padding word, then the embedding file's words (or the training text's), then ``<unk>``."""
        if self.word_vectors is not None:
            words = [PAD_WORD, *read_vector_file(self.word_vectors)[0]]
        else:
            hp = self.hparams
            counts = count_tokens(s for key in (f"training-{hp.src}", f"training-{hp.tgt}") for s in self._text[key])
            words = [PAD_WORD, *Vocab.build(counts).tokens]
        return words if UNK in words else [*words, UNK]

    def _tensor(self, sentences: list[list[str]]) -> torch.Tensor:
        vocab = Vocab(self.vocab)
        ids = torch.zeros(len(sentences), self.hparams.max_len, dtype=torch.long)  # padded with the empty word
        for i, words in enumerate(sentences):
            row = vocab.encode(words)  # unknown words -> <unk>
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        return ids

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        self.train_set = TensorDataset(self._tensor(self._text[f"training-{hp.src}"]),
                                       self._tensor(self._text[f"training-{hp.tgt}"]))
        test = TensorDataset(self._tensor(self._text[f"test-{hp.src}"]), self._tensor(self._text[f"test-{hp.tgt}"]))
        picked = torch.randint(len(test), (hp.eval_size,), generator=torch.Generator().manual_seed(hp.seed))
        self.eval_set = TensorDataset(*(t[picked] for t in test.tensors))

    def train_dataloader(self) -> DataLoader:
        sampler = RandomSampler(self.train_set, replacement=True,
                                num_samples=self.hparams.steps * self.hparams.batch_size)
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, sampler=sampler)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.eval_set, batch_size=self.hparams.eval_size)
