"""lightning-zoo: the models of "Dive into Deep Learning" as PyTorch Lightning modules.

``from zoo import GRULanguageModel`` imports one architecture (a LightningModule); ``zoo.ARCHITECTURES`` lists them
all. Names load lazily, so ``import zoo.nets.recurrent`` (plain ``nn.Module`` building blocks) does not import
Lightning.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

#: Every architecture (a LightningModule), by class name -> defining module. Tests parametrize over this table.
ARCHITECTURES: dict[str, str] = {
    "RNNLanguageModel": "zoo.language_models",
    "GRULanguageModel": "zoo.language_models",
    "LSTMLanguageModel": "zoo.language_models",
    "SoftmaxRegression": "zoo.image_classifiers",
    "MLP": "zoo.image_classifiers",
    "LeNet": "zoo.image_classifiers",
    "LeNetBN": "zoo.image_classifiers",
    "AlexNet": "zoo.image_classifiers",
    "VGG": "zoo.image_classifiers",
    "NiN": "zoo.image_classifiers",
    "GoogLeNet": "zoo.image_classifiers",
    "ResNet18": "zoo.image_classifiers",
    "DenseNet": "zoo.image_classifiers",
    "RowRNNClassifier": "zoo.image_classifiers",
    "RowLSTMClassifier": "zoo.image_classifiers",
    "LinearRegression": "zoo.regression",
}

_HELPERS: dict[str, str] = {
    "load_task": "zoo.tasks._checkpoint",
    "LanguageModelTask": "zoo.tasks.language_model",
    "ImageClassificationTask": "zoo.tasks.classification",
    "RegressionTask": "zoo.tasks.regression",
}

__all__ = sorted([*ARCHITECTURES, *_HELPERS, "ARCHITECTURES"])


def __getattr__(name: str) -> Any:
    module = ARCHITECTURES.get(name) or _HELPERS.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *ARCHITECTURES, *_HELPERS])
