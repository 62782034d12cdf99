"""The model catalogue: every architecture of the zoo under one lower-case name, and the functions that use it.

    zoo.list_models()                       # ['alexnet', 'birnn', 'densenet', ..., 'vgg11']
    zoo.list_models("resnet*")              # shell-style pattern, as timm's list_models
    zoo.model_info("lenet")                 # ModelInfo: class, book section, input, task, recipes, d2l.ai page
    zoo.create_model("lenet", num_classes=10)
    zoo.create_model("resnet18", num_classes=2, pretrained=True)    # torchvision's layout, ImageNet weights
    zoo.get_model_class("gru")              # zoo.GRULanguageModel
    zoo.load_task("runs/gru_lyrics/version_0/checkpoints/last.ckpt")

One naming scheme serves the catalogue, ``hubconf.py`` (``torch.hub.load(..., "lenet")``) and the recipes: a recipe
is named ``<model>[_<variant>]_<dataset>`` (``lenet_bn_scratch_fashion_mnist`` trains ``lenet_bn``), so the model a
recipe trains is visible in its name; ``tests/test_models.py`` checks it for every recipe.

Classes are imported on first use: ``import zoo`` and ``zoo.list_models()`` do not import torch or Lightning.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from zoo.errors import ConfigError
from zoo.io.recipe_files import recipes_dir

__all__ = ["MODELS", "ModelInfo", "create_model", "get_model_class", "list_models", "load_task", "model_info"]

_D2L = "https://d2l.ai/chapter_"


@dataclass(frozen=True)
class ModelInfo:
    """What a user needs to pick a model.

    Attributes:
        name: the catalogue name (lower case; the model part of its recipes' names).
        class_name: the LightningModule class, ``zoo.<class_name>``.
        module: the module that defines it.
        task: the kind of problem (its task base).
        section: where the books build it: a section of *Dive into Deep Learning* (the PyTorch port of d2l-zh v1)
            or a tutorial beside it.
        d2l: the matching page of the current d2l.ai (English) edition, or "" when it has none.
        input: the input the model expects with its defaults.
        summary: one line.
    """

    name: str
    class_name: str
    module: str
    task: str
    section: str
    d2l: str
    input: str
    summary: str
    recipes: tuple[str, ...] = field(default=(), compare=False)

    def load_class(self) -> type:
        """The class (importing its module)."""
        return getattr(import_module(self.module), self.class_name)


def _entry(name: str, class_name: str, module: str, task: str, section: str, d2l: str, input: str,
           summary: str) -> ModelInfo:
    return ModelInfo(name, class_name, module, task, section, _D2L + d2l if d2l else "", input, summary)


_IMAGES = "image classification"
_TEXT = "text classification"
_LM = "language model"
#: Every architecture, by name (sorted by book order; `list_models` sorts by name).
_ENTRIES = (
    _entry("linreg", "LinearRegression", "zoo.linear", "regression", "3.2, 3.3; ch. 7",
           "linear-regression/linear-regression-scratch.html", "(B, num_features) floats",
           "linear regression, the model of chapter 3's regressions and chapter 7's optimizers"),
    _entry("softmax", "SoftmaxRegression", "zoo.linear", _IMAGES, "3.6, 3.7",
           "linear-classification/softmax-regression-scratch.html", "1x28x28 images", "softmax regression"),
    _entry("mlp", "MLP", "zoo.linear", _IMAGES, "3.9, 3.10, 3.13",
           "multilayer-perceptrons/mlp-implementation.html", "1x28x28 images",
           "multilayer perceptron, with dropout optional"),
    _entry("lenet", "LeNet", "zoo.convnets", _IMAGES, "5.5", "convolutional-neural-networks/lenet.html",
           "1x28x28 images", "LeNet-5 with sigmoid activations"),
    _entry("lenet_bn", "LeNetBN", "zoo.convnets", _IMAGES, "5.10", "convolutional-modern/batch-norm.html",
           "1x28x28 images", "LeNet with batch normalisation (hand-written or nn)"),
    _entry("alexnet", "AlexNet", "zoo.convnets", _IMAGES, "5.6", "convolutional-modern/alexnet.html",
           "1x224x224 images", "AlexNet"),
    _entry("vgg11", "VGG", "zoo.convnets", _IMAGES, "5.7", "convolutional-modern/vgg.html", "1x224x224 images",
           "VGG (VGG-11 by default, any conv_arch)"),
    _entry("nin", "NiN", "zoo.convnets", _IMAGES, "5.8", "convolutional-modern/nin.html", "1x224x224 images",
           "Network in Network"),
    _entry("googlenet", "GoogLeNet", "zoo.convnets", _IMAGES, "5.9", "convolutional-modern/googlenet.html",
           "1x96x96 images", "GoogLeNet with Inception blocks"),
    _entry("resnet18", "ResNet18", "zoo.convnets", _IMAGES, "5.11, 9.2", "convolutional-modern/resnet.html",
           "3x224x224 images (torchvision layout); the book's layout takes 1x96x96",
           "ResNet-18, torchvision's layout (ImageNet weights) or the book's"),
    _entry("densenet", "DenseNet", "zoo.convnets", _IMAGES, "5.12", "convolutional-modern/densenet.html",
           "1x96x96 images", "DenseNet"),
    _entry("rnn_rows", "RowRNNClassifier", "zoo.row_rnn", _IMAGES, "RNN tutorial (MNIST by rows)", "",
           "1x28x28 images, one row per step", "tanh RNN reading an image row by row"),
    _entry("lstm_rows", "RowLSTMClassifier", "zoo.row_rnn", _IMAGES, "RNN tutorial (MNIST by rows)", "",
           "1x28x28 images, one row per step", "LSTM reading an image row by row"),
    _entry("rnn", "RNNLanguageModel", "zoo.language_models", _LM, "6.4, 6.5",
           "recurrent-neural-networks/rnn-scratch.html", "(B, T) token ids", "Elman RNN language model"),
    _entry("gru", "GRULanguageModel", "zoo.language_models", _LM, "6.7", "recurrent-modern/gru.html",
           "(B, T) token ids", "GRU language model"),
    _entry("lstm", "LSTMLanguageModel", "zoo.language_models", _LM, "6.8", "recurrent-modern/lstm.html",
           "(B, T) token ids", "LSTM language model"),
    _entry("skipgram", "SkipGram", "zoo.word2vec", "word embedding", "10.3",
           "natural-language-processing-pretraining/word2vec-pretraining.html",
           "centre words (B, 1), context and noise words (B, L)", "word2vec skip-gram with negative sampling"),
    _entry("skipgram_sgns", "SkipGramSGNS", "zoo.word2vec", "word embedding", "10.3",
           "natural-language-processing-pretraining/word2vec-pretraining.html",
           "(context, centre) word pairs (B,), (B,) and noise words (B / G, K)",
           "word2vec skip-gram with negative sampling trained as word2vec.c: sparse SGD, linear decay"),
    _entry("birnn", "BiRNN", "zoo.text_classifiers", _TEXT, "10.7",
           "natural-language-processing-applications/sentiment-analysis-rnn.html", "(B, T) token ids",
           "bidirectional LSTM sentiment classifier"),
    _entry("textcnn", "TextCNN", "zoo.text_classifiers", _TEXT, "10.8",
           "natural-language-processing-applications/sentiment-analysis-cnn.html", "(B, T) token ids",
           "textCNN sentiment classifier"),
    _entry("seq2seq", "Seq2Seq", "zoo.translators", "translation", "10.9, 10.12", "recurrent-modern/seq2seq.html",
           "(B, T) source token ids", "GRU encoder-decoder"),
    _entry("seq2seq_attention", "Seq2SeqAttention", "zoo.translators", "translation", "10.11, 10.12",
           "attention-mechanisms-and-transformers/bahdanau-attention.html", "(B, T) source token ids",
           "GRU encoder-decoder with additive attention"),
    _entry("positionwise_translator", "PositionwiseTranslator", "zoo.positionwise_translators",
           "position-by-position translation", "neural-network layers tutorial, part 2", "",
           "(B, T) token ids", "word-by-word translator with an RNN, LSTM, GRU or dense cell"),
)


@functools.cache
def _recipes_by_model() -> dict[str, tuple[str, ...]]:
    """Model name -> the zoo's recipes that train it, read from their ``class_path`` lines (no YAML parsing)."""
    by_class = {entry.class_name: entry.name for entry in _ENTRIES}
    found: dict[str, list[str]] = {}
    folder = recipes_dir()
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        match = re.search(r"^\s*class_path:\s*zoo\.(\w+)\s*$", path.read_text(encoding="utf-8"), re.MULTILINE)
        if match and match.group(1) in by_class:
            found.setdefault(by_class[match.group(1)], []).append(path.stem)
    return {name: tuple(recipes) for name, recipes in found.items()}


#: name -> `ModelInfo` (recipes filled in on first use of `model_info`).
MODELS: dict[str, ModelInfo] = {entry.name: entry for entry in _ENTRIES}
_BY_CLASS = {entry.class_name: entry.name for entry in _ENTRIES}
if len(MODELS) != len(_ENTRIES) or len(_BY_CLASS) != len(_ENTRIES):
    raise ConfigError("the model catalogue names a model or a class twice")


def list_models(pattern: str | None = None) -> list[str]:
    """Every model name, sorted; ``pattern`` keeps those matching a shell-style pattern (``"resnet*"``)."""
    names = sorted(MODELS)
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)] if pattern else names


def _lookup(name: str) -> ModelInfo:
    if not isinstance(name, str) or name not in MODELS:
        key = name if isinstance(name, str) else repr(name)
        if isinstance(name, str) and name in _BY_CLASS:  # a class name: accepted, it is unambiguous
            return MODELS[_BY_CLASS[name]]
        close = [n for n in MODELS if n.startswith(str(key).lower()[:3])]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown model {key!r}{hint} zoo.list_models() lists the {len(MODELS)} models")
    return MODELS[name]


def model_info(name: str) -> ModelInfo:
    """The catalogue entry of ``name`` (a model name, or its class name), with the recipes that train it."""
    entry = _lookup(name)
    return ModelInfo(**{**entry.__dict__, "recipes": _recipes_by_model().get(entry.name, ())})


def get_model_class(name: str) -> type:
    """The LightningModule class of ``name`` (``"lenet"`` -> ``zoo.LeNet``)."""
    return _lookup(name).load_class()


def create_model(name: str, *, pretrained: bool | str = False, **kwargs: Any):
    """A new model ``name`` built with ``kwargs`` (see ``help(zoo.get_model_class(name))`` for every argument).

    ``pretrained`` (image classifiers): ``True`` or a weights name loads torchvision's ImageNet weights into the
    backbone now, through the model's `load_pretrained` step; only ``resnet18`` in its default torchvision layout has
    them. Text classifiers take their vectors as ``embedding=...`` and load them the same way. Without
    ``pretrained`` and pretrained embeddings nothing is downloaded and no weights file is read.
    """
    cls = get_model_class(name)
    if pretrained not in (False, None):
        if "pretrained" not in _parameters(cls):
            raise ConfigError(f"{name} has no pretrained weights; build it untrained (pretrained=False) or load a "
                              "trained one with zoo.load_task(path)")
        kwargs["pretrained"] = pretrained
    model = cls(**kwargs)
    return model.load_pretrained()


def _parameters(cls: type) -> set[str]:
    import inspect

    return set(inspect.signature(cls).parameters)


def load_task(path: str | Path, map_location: Any = "cpu"):
    """Load any zoo checkpoint without knowing its class: ``load_task("last.ckpt").generate("分开", 50)``.

    The class comes from the checkpoint (found by its name in the catalogue, so checkpoints written before a module
    moved still load), and the model is rebuilt from the hyperparameters it holds; nothing is downloaded.
    """
    from zoo.io.checkpoints import CLASS_KEY, read_header
    from zoo.io.safe_load import CheckpointError

    header = read_header(path)
    if CLASS_KEY not in header:
        raise ConfigError(f"{path} was not written by a lightning-zoo model (no {CLASS_KEY!r} entry)")
    recorded = str(header[CLASS_KEY])
    module_name, _, class_name = recorded.partition(":")
    if class_name in _BY_CLASS:
        cls = MODELS[_BY_CLASS[class_name]].load_class()
    else:
        cls = _foreign_class(module_name, class_name, recorded, path, CheckpointError)
    return cls.load_from_checkpoint(path, map_location=map_location, checkpoint=header)


def _foreign_class(module_name: str, class_name: str, recorded: str, path: str | Path, error: type) -> type:
    """A class outside the catalogue named by a checkpoint: only the zoo's own modules, or a module this process has
    already imported (a project's own task), are imported for it, and it must be a LightningModule."""
    import sys

    import lightning as L

    if not (module_name == "zoo" or module_name.startswith("zoo.") or module_name in sys.modules):
        raise error(f"{path} names the class {recorded!r}, which is not one of the zoo's; import its module first or "
                    "load it with YourClass.load_from_checkpoint(path)")
    try:
        cls = getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"the checkpoint was written by {recorded}, which this version of the zoo does not have "
                          f"({exc})") from exc
    if not (isinstance(cls, type) and issubclass(cls, L.LightningModule)):
        raise error(f"{path} names {recorded!r} as its model class, which is not a LightningModule")
    return cls
