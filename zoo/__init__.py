"""lightning-zoo: the models of "Dive into Deep Learning" as PyTorch Lightning modules.

``from zoo import GRULanguageModel`` imports one architecture (a LightningModule); ``zoo.ARCHITECTURES`` lists them
all, by class name, with the module that defines each. Names load lazily, so ``import zoo.nets.recurrent`` (plain
``nn.Module`` building blocks) does not import Lightning.

Where things live (a new piece goes in the room of its kind; README "Adding an architecture"):

* ``zoo/<family>.py``: the architectures, one family per file (``convnets``, ``language_models``, ...), each a
  subclass of one task base that implements ``build_net``;
* ``zoo/tasks/``: one task base per kind of problem (steps, loss, metrics, optimizer, checkpoints);
* ``zoo/nets/``: plain ``nn.Module`` networks and blocks, no Lightning; ``zoo/ops/``: functions without parameters;
* ``zoo/optim/``: optimizers by name and the book's hand-written ones; ``zoo/weights.py``: pretrained weights;
  ``zoo/word_vectors.py``: pretrained word vectors (GloVe, files, zoo checkpoints);
* ``zoo/cli/``: ``python -m zoo``, its callbacks and plots.
"""

from __future__ import annotations

from typing import Any

from zoo.registry import Registry

__version__ = "0.1.0"

#: Every architecture (a LightningModule): class name -> defining module. Tests parametrize over this table, and
#: tests/test_layout.py fails when an architecture class exists that is not in it.
ARCHITECTURES = Registry("architecture")
ARCHITECTURES.add("zoo.linear", "SoftmaxRegression", "MLP", "LinearRegression")
ARCHITECTURES.add("zoo.convnets", "LeNet", "LeNetBN", "AlexNet", "VGG", "NiN", "GoogLeNet", "ResNet18", "DenseNet")
ARCHITECTURES.add("zoo.row_rnn", "RowRNNClassifier", "RowLSTMClassifier")
ARCHITECTURES.add("zoo.language_models", "RNNLanguageModel", "GRULanguageModel", "LSTMLanguageModel")
ARCHITECTURES.add("zoo.word2vec", "SkipGram")
ARCHITECTURES.add("zoo.text_classifiers", "BiRNN", "TextCNN")
ARCHITECTURES.add("zoo.translation", "Seq2Seq", "Seq2SeqAttention")
ARCHITECTURES.add("zoo.aligned_translators", "PositionwiseTranslator")

#: Other public names: the task bases and the checkpoint loader.
HELPERS = Registry("helper")
HELPERS.add("zoo.tasks.checkpoint", "load_task")
HELPERS.add("zoo.tasks.classification", "ImageClassificationTask")
HELPERS.add("zoo.tasks.language_model", "LanguageModelTask")
HELPERS.add("zoo.tasks.regression", "RegressionTask")
HELPERS.add("zoo.tasks.word_embedding", "WordEmbeddingTask")
HELPERS.add("zoo.tasks.text_classification", "TextClassificationTask")
HELPERS.add("zoo.tasks.seq2seq", "Seq2SeqTask")
HELPERS.add("zoo.word_vectors", "WordVectors")

__all__ = sorted([*ARCHITECTURES, *HELPERS, "ARCHITECTURES"])


def __getattr__(name: str) -> Any:
    for registry in (ARCHITECTURES, HELPERS):
        if name in registry:
            return registry.load(name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *ARCHITECTURES, *HELPERS])
