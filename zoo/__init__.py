"""lightning-zoo: the models of "Dive into Deep Learning" as PyTorch Lightning modules.

``from zoo import GRULanguageModel`` imports one architecture (a LightningModule); ``zoo.list_models()`` names them
all and ``zoo.create_model("lenet", num_classes=10)`` builds one by name (`zoo.models`). Names load lazily, so
``import zoo`` and ``import zoo.nets.recurrent`` (plain ``nn.Module`` building blocks) do not import Lightning.

Where things live (one kind of thing per room; docs/adding.md says where a new piece goes):

* ``zoo/<family>.py``: the architectures, one family per file (``convnets``, ``language_models``, ...), each a
  subclass of one task base that implements ``build_net``; ``zoo/models.py``: their catalogue;
* ``zoo/tasks/``: one task base per kind of problem (steps, loss, metrics, optimizer, pretrained inputs);
* ``zoo/nets/``: plain ``nn.Module`` networks and blocks, no Lightning; ``zoo/ops/``: functions without parameters;
  ``zoo/optim/``: optimizers by name and the book's hand-written ones;
* ``zoo/pretrained/``: ImageNet weights and word vectors; ``zoo/io/``: checkpoints, run files and recipe files;
* ``zoo/runtime/``: what every run gets (callbacks, run control, loggers, plots, summary);
* ``zoo/commands/``: the commands on checkpoints and results; ``zoo/studies/``: the book's demos and studies;
* ``zoo/cli/``: the ``python -m zoo`` entry point;
* ``zoo/errors.py``, ``zoo/validation.py``, ``zoo/files.py``, ``zoo/registry.py``: the foundation every layer uses
  (the data layer, ``datamodules``, imports nothing else of the zoo).
"""

from __future__ import annotations

from zoo.models import MODELS as MODELS
from zoo.models import create_model as create_model
from zoo.models import get_model_class as get_model_class
from zoo.models import list_models as list_models
from zoo.models import load_task as load_task
from zoo.models import model_info as model_info
from zoo.registry import Registry, lazy_attributes

__version__ = "0.1.0"

#: Every architecture class (a LightningModule) -> its defining module, from the catalogue (`zoo.models.MODELS`).
ARCHITECTURES = Registry("architecture")
for _info in MODELS.values():
    ARCHITECTURES.add(_info.module, _info.class_name)
ARCHITECTURES.add("zoo.language_models", "RecurrentLanguageModel")  # the class behind rnn, gru and lstm

#: Other public names: the task bases and pretrained word vectors.
HELPERS = Registry("helper")
HELPERS.add("zoo.tasks.classification", "ImageClassificationTask")
HELPERS.add("zoo.tasks.language_model", "LanguageModelTask")
HELPERS.add("zoo.tasks.regression", "RegressionTask")
HELPERS.add("zoo.tasks.word_embedding", "WordEmbeddingTask")
HELPERS.add("zoo.tasks.text_classification", "TextClassificationTask")
HELPERS.add("zoo.tasks.seq2seq", "Seq2SeqTask")
HELPERS.add("zoo.tasks.positionwise_translation", "PositionwiseTranslationTask")
HELPERS.add("zoo.pretrained.word_vectors", "WordVectors")

__all__ = sorted([*ARCHITECTURES, *HELPERS, "ARCHITECTURES", "MODELS", "create_model", "get_model_class",
                  "list_models", "load_task", "model_info"])

__getattr__, __dir__ = lazy_attributes("zoo", globals(), ARCHITECTURES, HELPERS)
del _info
