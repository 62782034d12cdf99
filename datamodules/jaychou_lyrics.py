"""Jay Chou album lyrics, the character-level corpus of book chapter 6 (section 6.3).

The zip holds one UTF-8 member, ``jaychou_lyrics.txt`` (63,282 characters). As in the book, line breaks become
spaces and, by default, only the first 10,000 characters are used, which gives a vocabulary of 1,027 characters.
The vocabulary is sorted by code point (the book's ``list(set(...))`` order changes from run to run).

Held-out text: ``val_chars > 0`` takes that many characters right after the training part as a validation corpus,
so the training text stays exactly the book's. The vocabulary is the training text's; held-out characters that never
occur in it cannot be predicted and are dropped from the validation corpus (the count is logged).
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader

from datamodules.download import Resource, cache_root, fetch, read_member
from datamodules.text import decode_utf8
from datamodules.token_windows import LanguageModelBatches, ResumedPassLoader, Sampling, count_batches
from zoo.errors import ConfigError
from zoo.validation import non_negative_int, positive_int

__all__ = ["JAYCHOU_LYRICS", "JayChouLyricsDataModule", "read_lyrics"]

log = logging.getLogger(__name__)

JAYCHOU_LYRICS = Resource(
    filename="jaychou_lyrics.txt.zip",
    urls=(
        "https://raw.githubusercontent.com/ShusenTang/Dive-into-DL-PyTorch/master/data/jaychou_lyrics.txt.zip",
        "https://raw.githubusercontent.com/d2l-ai/d2l-zh/v1/data/jaychou_lyrics.txt.zip",
    ),
    checksum="9529987e701a4f37048ab778270a5dde9a762a0b",
)
_MEMBER = "jaychou_lyrics.txt"


def read_lyrics(archive: Path) -> str:
    """The corpus with line breaks replaced by spaces, as the book prepares it (6.3.1)."""
    text = decode_utf8(read_member(archive, _MEMBER), f"{_MEMBER} in {archive}")
    return text.replace("\n", " ").replace("\r", " ")


class JayChouLyricsDataModule(L.LightningDataModule):
    """Character windows of the Jay Chou lyrics for next-character prediction (book 6.3).

    Args:
        data_dir: cache folder; default ``$ZOO_DATA_DIR`` or ``~/.cache/lightning-zoo``.
        num_chars: train on the first ``num_chars`` characters (book: 10,000); ``None`` for the whole corpus
            (minus ``val_chars`` held out at its end).
        val_chars: characters right after the training part held out for validation; 0 (the book) for none.
        sampling: ``"consecutive"`` (adjacent, state carried across batches) or ``"random"`` (book 6.3.3).
        batch_size: windows per batch (book: 32).
        num_steps: characters per window (book: 35).
        predict_prefixes: start texts served by ``predict_dataloader`` (``python -m zoo predict``); default the
            model's ``prefixes`` (the book's "分开" and "不分开" unless the model was given others).
    """

    def __init__(
        self,
        data_dir: str | None = None,
        num_chars: int | None = 10_000,
        val_chars: int = 0,
        sampling: Sampling = "consecutive",
        batch_size: int = 32,
        num_steps: int = 35,
        predict_prefixes: list[str] | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if num_chars is not None and positive_int(num_chars, "num_chars", name) < 2:
            raise ConfigError(f"num_chars must be at least 2 or None for the whole corpus, got {num_chars}")
        non_negative_int(val_chars, "val_chars", name)
        positive_int(batch_size, "batch_size", name)
        positive_int(num_steps, "num_steps", name)
        if sampling not in ("random", "consecutive"):
            raise ConfigError(f"unknown sampling {sampling!r}; choose 'random' or 'consecutive'")
        self.save_hyperparameters()
        self.root = cache_root(data_dir)

    def prepare_data(self) -> None:
        fetch(JAYCHOU_LYRICS, self.root)

    @cached_property
    def _parts(self) -> tuple[str, str]:
        """(training text, held-out text); reads the archive on first use."""
        text = read_lyrics(fetch(JAYCHOU_LYRICS, self.root))
        n_train = self.hparams.num_chars or max(len(text) - self.hparams.val_chars, 0)
        train, val = text[:n_train], text[n_train : n_train + self.hparams.val_chars]
        if len(val) < self.hparams.val_chars:
            raise ConfigError(f"the corpus has {len(text)} characters: too few for num_chars={n_train} plus "
                              f"val_chars={self.hparams.val_chars}")
        # fail now, before the model is built, if not one training batch fits (the validation corpus is checked when
        # its loader is made: held-out characters the training text lacks are dropped first)
        count_batches(len(train), self.hparams.batch_size, self.hparams.num_steps, self.hparams.sampling)
        return train, val

    @cached_property
    def vocab(self) -> list[str]:
        """Distinct characters of the training text, sorted; index = token id. Loads the corpus on first use."""
        return sorted(set(self._parts[0]))

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> torch.Tensor:
        """Token ids of ``text``; characters outside the vocabulary are dropped."""
        index = {ch: i for i, ch in enumerate(self.vocab)}
        return torch.tensor([index[ch] for ch in text if ch in index], dtype=torch.long)

    def setup(self, stage: str | None = None) -> None:
        train_text, val_text = self._parts
        self.train_ids = self.encode(train_text)
        self.val_ids = self.encode(val_text)
        dropped = len(val_text) - self.val_ids.numel()
        if dropped:
            log.info("held-out text: %d of %d characters never occur in the training text and were dropped",
                     dropped, len(val_text))

    def _batches(self, ids: torch.Tensor, sampling: Sampling) -> DataLoader:
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        dataset = LanguageModelBatches(ids, self.hparams.batch_size, self.hparams.num_steps, sampling, rank, world)
        return DataLoader(dataset, batch_size=None)

    def train_dataloader(self) -> DataLoader:
        loader = self._batches(self.train_ids, self.hparams.sampling)
        self._train_batches = loader.dataset
        resume, self._pending_resume = getattr(self, "_pending_resume", None), None
        if resume is not None:
            loader.dataset.resume(*resume)
            loader = ResumedPassLoader(loader.dataset)
        return loader

    def state_dict(self) -> dict:
        """Where training is in the current pass, saved in checkpoints so a run resumed mid-epoch continues it."""
        batches = getattr(self, "_train_batches", None)
        trainer = self.trainer
        if batches is None or trainer is None:
            return {}
        done = trainer.fit_loop.epoch_loop.batch_progress.current.processed  # batches trained in this pass
        return {"pass_rng": batches.pass_state(), "batches_done": done, "pass_length": len(batches)}

    def load_state_dict(self, state: dict) -> None:
        if 0 < state.get("batches_done", 0) < state.get("pass_length", 0):  # mid-pass: replay the rest of it
            self._pending_resume = (state["pass_rng"], state["batches_done"])

    def val_dataloader(self) -> DataLoader | list:
        if not self.hparams.val_chars:
            return []
        return self._batches(self.val_ids, "consecutive")

    def predict_dataloader(self) -> DataLoader:
        prefixes = self.hparams.predict_prefixes
        model = self.trainer.lightning_module if self.trainer is not None else None
        if not prefixes and hasattr(model, "prompts"):
            prefixes = model.prompts()
        if not prefixes:
            raise ConfigError(f"{type(self).__name__}: no prefixes to predict from; set predict_prefixes")
        return DataLoader(list(prefixes), batch_size=None)
