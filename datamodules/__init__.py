"""One LightningDataModule per dataset of the books: ``from datamodules import JayChouLyricsDataModule``.

``datamodules.DATAMODULES`` lists them all, by class name, with the module that defines each. Names load lazily, so
``datamodules.download`` (the verified-download helpers) imports without Lightning.

Where things live: one file per dataset (``jaychou_lyrics``, ``fashion_mnist``, ``ptb``, ...); the helpers several
datasets share are public modules: ``download`` (cache, mirror, checksums, safe extraction), ``cache`` (tensor files
derived from slow-to-parse sources), ``images`` (the image datamodules' base and fast path), ``augment``,
``token_windows`` (the samplers of book 6.3), ``regression_data`` (the regression datamodules' base), ``text``
(tokens, vocabularies, padding).
"""

from __future__ import annotations

from zoo.registry import Registry, lazy_attributes

#: Every datamodule: class name -> defining module. tests/test_layout.py fails when a datamodule class exists that is
#: not in it (or has no fake-data writer in tests/fakes.py).
DATAMODULES = Registry("datamodule")
DATAMODULES.add("datamodules.jaychou_lyrics", "JayChouLyricsDataModule")
DATAMODULES.add("datamodules.fashion_mnist", "FashionMNISTDataModule")
DATAMODULES.add("datamodules.cifar10", "CIFAR10DataModule")
DATAMODULES.add("datamodules.hotdog", "HotdogDataModule")
DATAMODULES.add("datamodules.airfoil", "AirfoilDataModule")
DATAMODULES.add("datamodules.kaggle_house", "KaggleHouseDataModule")
DATAMODULES.add("datamodules.ptb", "PTBDataModule")
DATAMODULES.add("datamodules.imdb", "IMDbDataModule")
DATAMODULES.add("datamodules.fra_eng", "FraEngDataModule")
DATAMODULES.add("datamodules.parallel_text", "ParallelTextDataModule")
DATAMODULES.add("datamodules.synthetic", "LinearSyntheticDataModule", "PolynomialSyntheticDataModule",
                "HighDimSyntheticDataModule")

__all__ = sorted([*DATAMODULES, "DATAMODULES"])

__getattr__, __dir__ = lazy_attributes("datamodules", globals(), DATAMODULES)
