"""The image classifiers of book chapters 3, 5 and 9 and seed 002, one LightningModule per architecture.

Each class is `zoo.tasks.classification.ImageClassificationTask` plus its own network arguments; training,
metrics, optimizer and the input contract (float images in [0, 1], (B, C, H, W)) are documented there. The
networks themselves are plain ``nn.Module``s in ``zoo.nets``. Defaults are the book's settings for that section.

>>> dm = FashionMNISTDataModule(batch_size=256)                      # doctest: +SKIP
>>> model = LeNet(classes=dm.classes)                               # doctest: +SKIP
>>> L.Trainer(max_epochs=5).fit(model, dm)                          # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch import nn

from zoo.errors import ConfigError, WeightsUnavailableError
from zoo.finetune import (
    load_weights,
    resnet18_weights,
    restoring_from_checkpoint,
    weights_from_checkpoint,
    weights_name,
    weights_preprocess,
)
from zoo.nets.alexnet import AlexNet as AlexNetNet
from zoo.nets.densenet import DenseNet as DenseNetNet
from zoo.nets.googlenet import GoogLeNet as GoogLeNetNet
from zoo.nets.layers import BiasInit
from zoo.nets.lenet import LeNet as LeNetNet
from zoo.nets.mlp import MLPNet
from zoo.nets.nin import NiN as NiNNet
from zoo.nets.recurrent import Cell
from zoo.nets.recurrent import Impl as RecurrentImpl
from zoo.nets.resnet import ResNet, TorchvisionResNet18
from zoo.nets.row_rnn import RowClassifierNet
from zoo.nets.softmax import Impl, SoftmaxRegressionNet, cross_entropy
from zoo.nets.vgg import VGG as VGGNet
from zoo.nets.vgg import VGG11_ARCH
from zoo.tasks._optim import decay_groups
from zoo.tasks.classification import ImageClassificationTask, Preprocess

__all__ = ["MLP", "VGG", "AlexNet", "DenseNet", "GoogLeNet", "LeNet", "LeNetBN", "NiN", "ResNet18",
           "RowLSTMClassifier", "RowRNNClassifier", "SoftmaxRegression"]


def _pixels(hp) -> int:
    return hp.in_channels * hp.image_size * hp.image_size


class SoftmaxRegression(ImageClassificationTask):
    """Softmax regression (book 3.6 with ``impl="scratch"``: hand-written linear layer and stable cross-entropy;
    3.7 with ``impl="nn"``: ``nn.Linear`` and ``F.cross_entropy``). Weights N(0, ``init_std``), biases per
    ``init_bias``; ``init_std=None`` keeps PyTorch's default initialisation."""

    def __init__(self, impl: Impl = "scratch", init_std: float | None = 0.01, init_bias: BiasInit = "zeros",
                 num_classes: int = 10, in_channels: int = 1, image_size: int = 28, classes: list[str] | None = None,
                 optimizer: str = "sgd", lr: float = 0.1, momentum: float = 0.0, weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return SoftmaxRegressionNet(_pixels(hp), hp.num_classes, hp.impl, hp.init_std, hp.init_bias)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.hparams.impl == "scratch":
            return cross_entropy(logits, labels)  # zoo.nets.softmax: log-sum-exp, equal to F.cross_entropy
        return super().loss(logits, labels)


class MLP(ImageClassificationTask):
    """Multilayer perceptron (book 3.9 scratch / 3.10 ``nn``; with ``dropout``, 3.13). ``impl="scratch"`` uses the
    hand-written linear layer, ReLU and dropout (uniform mask, see `zoo.nets.mlp`)."""

    def __init__(self, hidden_sizes: tuple[int, ...] = (256,), dropout: tuple[float, ...] = (),
                 impl: Impl = "scratch", init_std: float | None = 0.01, init_bias: BiasInit = "zeros",
                 num_classes: int = 10, in_channels: int = 1, image_size: int = 28, classes: list[str] | None = None,
                 optimizer: str = "sgd", lr: float = 0.5, momentum: float = 0.0, weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return MLPNet(_pixels(hp), hp.hidden_sizes, hp.num_classes, hp.dropout, hp.impl, hp.init_std, hp.init_bias)


class LeNet(ImageClassificationTask):
    """LeNet with sigmoid activations and max pooling (book 5.5)."""

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return LeNetNet(hp.in_channels, hp.num_classes, hp.image_size)


class LeNetBN(ImageClassificationTask):
    """LeNet with batch normalisation after every conv and hidden linear layer: ``impl="scratch"`` uses the book's
    hand-written BatchNorm (5.10.2, `zoo.nets.batchnorm`), ``impl="nn"`` ``nn.BatchNorm1d/2d`` (5.10.3)."""

    def __init__(self, impl: Impl = "scratch", num_classes: int = 10, in_channels: int = 1, image_size: int = 28,
                 classes: list[str] | None = None, optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.0,
                 weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return LeNetNet(hp.in_channels, hp.num_classes, hp.image_size, batch_norm=hp.impl)


class AlexNet(ImageClassificationTask):
    """AlexNet as in book 5.6 (224x224 input; ``fc_hidden`` units in the two hidden linear layers)."""

    def __init__(self, fc_hidden: int = 4096, dropout: float = 0.5, num_classes: int = 10, in_channels: int = 1,
                 image_size: int = 224, classes: list[str] | None = None, optimizer: str = "adam", lr: float = 1e-3,
                 momentum: float = 0.0, weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return AlexNetNet(hp.in_channels, hp.num_classes, hp.image_size, hp.fc_hidden, hp.dropout)


class VGG(ImageClassificationTask):
    """VGG of any ``conv_arch`` (``(num_convs, out_channels)`` per block; default VGG-11), every width divided by
    ``ratio`` (book 5.7.3 trains VGG-11 with ratio 8)."""

    def __init__(self, conv_arch: tuple[tuple[int, int], ...] = VGG11_ARCH, ratio: int = 1, fc_hidden: int = 4096,
                 dropout: float = 0.5, num_classes: int = 10, in_channels: int = 1, image_size: int = 224,
                 classes: list[str] | None = None, optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.0,
                 weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return VGGNet(hp.conv_arch, hp.in_channels, hp.num_classes, hp.image_size, hp.fc_hidden, hp.ratio,
                      hp.dropout)


class NiN(ImageClassificationTask):
    """Network in Network (book 5.8): NiN blocks and global average pooling, no fully connected layer."""

    def __init__(self, dropout: float = 0.5, num_classes: int = 10, in_channels: int = 1, image_size: int = 224,
                 classes: list[str] | None = None, optimizer: str = "adam", lr: float = 2e-3, momentum: float = 0.0,
                 weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    def build_net(self) -> nn.Module:
        return NiNNet(self.hparams.in_channels, self.hparams.num_classes, self.hparams.dropout)


class GoogLeNet(ImageClassificationTask):
    """GoogLeNet with Inception blocks (book 5.9; trained at 96x96)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, image_size: int = 96,
                 classes: list[str] | None = None, optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.0,
                 weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    def build_net(self) -> nn.Module:
        return GoogLeNetNet(self.hparams.in_channels, self.hparams.num_classes)


class ResNet18(ImageClassificationTask):
    """ResNet-18 in the book's layout (5.11) or torchvision's (9.2), optionally fine-tuned from ImageNet weights.

    Args:
        variant: ``"d2l"``: the book's 5.11 network (7x7 stem, convs with biases, 1x1 shortcut without batch norm;
            the Fashion-MNIST and CIFAR-10 recipes, 5.11 and 9.1). ``"torchvision"``: ``torchvision.models.resnet18``
            with a new ``num_classes`` head (book 9.2, the only layout with published ImageNet weights).
        pretrained: ``false``; ``true`` (torchvision's default ImageNet weights, ``IMAGENET1K_V1``); or a
            ``ResNet18_Weights`` name. Needs ``variant: torchvision`` and 3 input channels. The backbone gets the
            ImageNet tensors; the 1000-class ImageNet layer is replaced by a fresh ``num_classes`` head. The file
            comes from torch's cache (``$TORCH_HOME/hub/checkpoints``), downloaded there once (`zoo.finetune`).
        weights_path: a local ``.pth`` state dict of torchvision's resnet18 (for example ``resnet18-f37072fd.pth``),
            used instead of torch's cache; implies pretrained weights.
        head_lr_mult: the head's learning rate is ``head_lr_mult * lr`` through optimizer parameter groups (book
            9.2.1.2: 10, since the head starts from random values and the backbone only needs small changes).
        freeze_backbone: train the head alone. The backbone's parameters get no gradient and are not in the optimizer,
            and its BatchNorm layers stay in eval mode (running statistics frozen too), so the backbone is a fixed
            feature extractor. Needs pretrained weights.

    Weights are loaded when the model is built (a log line names them; the fit summary repeats it), except while a
    checkpoint is being restored (``load_from_checkpoint``, ``--ckpt_path``), which supplies every tensor anyway.
    """

    def __init__(self, variant: Literal["d2l", "torchvision"] = "d2l", pretrained: bool | str = False,
                 weights_path: str | None = None, head_lr_mult: float = 1.0, freeze_backbone: bool = False,
                 num_classes: int = 10, in_channels: int = 1, image_size: int = 96, classes: list[str] | None = None,
                 optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    @classmethod
    def load_from_checkpoint(cls, *args: Any, **kwargs: Any) -> ResNet18:  # type: ignore[override]
        """Lightning's ``load_from_checkpoint``, without loading the ImageNet weights the checkpoint replaces."""
        with weights_from_checkpoint():
            return super().load_from_checkpoint(*args, **kwargs)

    def _weights_entry(self):
        """The ``ResNet18_Weights`` entry asked for (or None), after checking that the arguments fit together."""
        hp, name = self.hparams, type(self).__name__
        if hp.variant not in ("d2l", "torchvision"):
            raise ConfigError(f"{name}: variant must be 'd2l' or 'torchvision', got {hp.variant!r}")
        if not hp.head_lr_mult > 0:
            raise ConfigError(f"{name}: head_lr_mult must be > 0, got {hp.head_lr_mult}")
        weights = resnet18_weights(hp.pretrained)
        pretrained = weights is not None or bool(hp.weights_path)
        if pretrained and hp.variant != "torchvision":
            raise ConfigError(f"{name}: pretrained weights (pretrained={hp.pretrained!r}, weights_path="
                              f"{hp.weights_path!r}) exist for torchvision's resnet18 layout only; set variant: "
                              "torchvision (--model.init_args.variant torchvision). variant 'd2l' is the book's 5.11 "
                              "network, which has no published weights")
        if pretrained and hp.in_channels != 3:
            raise ConfigError(f"{name}: the ImageNet weights take 3-channel images, got in_channels={hp.in_channels}")
        if hp.freeze_backbone and not pretrained:
            raise ConfigError(f"{name}: freeze_backbone trains the head on top of pretrained features; set "
                              "pretrained: true or weights_path (a frozen random backbone would learn nothing)")
        return weights

    def build_net(self) -> nn.Module:
        hp = self.hparams
        weights = self._weights_entry()
        if hp.variant == "d2l":
            self.initial_weights = "random (the book's 5.11 network, PyTorch's default initialisation)"
            return ResNet(hp.in_channels, hp.num_classes, stage_sizes=(2, 2, 2, 2))
        net = TorchvisionResNet18(hp.in_channels, hp.num_classes)
        self.initial_weights = "random (torchvision's resnet18 initialisation)"
        if weights is not None or hp.weights_path:
            self._load_backbone(net, weights)
            net.features.requires_grad_(not hp.freeze_backbone)
        return net

    def _load_backbone(self, net: TorchvisionResNet18, weights) -> None:
        hp = self.hparams
        label = weights_name(weights) if weights is not None else "a state dict"
        if restoring_from_checkpoint():
            self.initial_weights = f"{label} when trained (a checkpoint supplies the tensors now)"
            return
        state, source = load_weights(weights, hp.weights_path)
        try:
            net.load_backbone(state)
        except RuntimeError as exc:
            detail = " ".join(str(exc).split())[:600]
            raise WeightsUnavailableError(f"{source} does not hold torchvision's resnet18 weights: {detail}") from exc
        self.initial_weights = f"{label} from {source}"
        rank_zero_info(f"{type(self).__name__}: loaded pretrained weights {self.initial_weights}; new "
                       f"{hp.num_classes}-class head" + (", backbone frozen" if hp.freeze_backbone else ""))

    def fit_summary(self) -> str:
        """Which weights the run started from, and how the head and backbone were trained."""
        hp = self.hparams
        lines = [f"initial weights: {self.initial_weights}"]
        if hp.head_lr_mult != 1:
            lines.append(f"head learning rate: {hp.head_lr_mult:g} x {hp.lr:g} = {hp.head_lr_mult * hp.lr:g}")
        if hp.freeze_backbone:
            lines.append("backbone frozen (parameters and BatchNorm statistics): only the head was trained")
        return "\n".join(lines)

    def param_groups(self) -> list[dict[str, Any]]:
        """The backbone's groups at ``lr`` and the head's at ``head_lr_mult * lr`` (book 9.2.1.2), each split into
        decayed weights and undecayed biases/norm parameters; frozen parameters are left out."""
        hp = self.hparams
        head = [dict(g, lr=hp.lr * hp.head_lr_mult) for g in decay_groups(self.net.head, hp.weight_decay)]
        return [g for g in [*decay_groups(self.net.features, hp.weight_decay), *head] if g["params"]]

    def train(self, mode: bool = True) -> ResNet18:
        """``nn.Module.train``, except that a frozen backbone stays in eval mode (its BatchNorm statistics fixed)."""
        super().train(mode)
        if mode and self.hparams.get("freeze_backbone") and hasattr(self, "net"):
            self.net.features.eval()
        return self

    def on_train_epoch_start(self) -> None:
        if self.hparams.freeze_backbone:
            self.net.features.eval()

    def on_fit_start(self) -> None:
        """Records the preprocessing; warns when the datamodule's normalisation is not the one the weights expect."""
        super().on_fit_start()
        weights, preprocess = resnet18_weights(self.hparams.pretrained), self.hparams.get("preprocess")
        if weights is None or not preprocess:
            return
        expected = weights_preprocess(weights)
        if (preprocess.get("mean"), preprocess.get("std")) != (expected["mean"], expected["std"]):
            rank_zero_warn(f"{weights_name(weights)} expects images normalised with mean {expected['mean']} and std "
                           f"{expected['std']}, but the datamodule gives mean {preprocess.get('mean')} and std "
                           f"{preprocess.get('std')}; set the datamodule's weights (HotdogDataModule(weights=...)) or "
                           "its normalisation to match")


class DenseNet(ImageClassificationTask):
    """DenseNet (book 5.12: four dense blocks of ``block_sizes`` convs, growth rate 32; trained at 96x96)."""

    def __init__(self, num_channels: int = 64, growth_rate: int = 32, block_sizes: tuple[int, ...] = (4, 4, 4, 4),
                 num_classes: int = 10, in_channels: int = 1, image_size: int = 96, classes: list[str] | None = None,
                 optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return DenseNetNet(hp.in_channels, hp.num_classes, hp.num_channels, hp.growth_rate, hp.block_sizes)


def _row_net(hp, cell: Cell) -> nn.Module:
    return RowClassifierNet(cell, hp.in_channels, hp.image_size, hp.num_classes, hp.hidden_size, hp.num_layers,
                            hp.impl)


class RowRNNClassifier(ImageClassificationTask):
    """Each image row is one time step of a tanh RNN (seed 002: ``nn.RNN(28, 100, num_layers=2)``); the last step's
    hidden state goes to a linear layer. ``impl="scratch"`` uses the hand-written recurrent layer."""

    cell: ClassVar[Cell] = "rnn"

    def __init__(self, hidden_size: int = 100, num_layers: int = 2, impl: RecurrentImpl = "fused",
                 num_classes: int = 10, in_channels: int = 1, image_size: int = 28, classes: list[str] | None = None,
                 optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    def build_net(self) -> nn.Module:
        return _row_net(self.hparams, self.cell)


class RowLSTMClassifier(ImageClassificationTask):
    """Each image row is one time step of an LSTM (seed 002: ``nn.LSTM`` with 100 hidden units, one layer)."""

    cell: ClassVar[Cell] = "lstm"

    def __init__(self, hidden_size: int = 100, num_layers: int = 1, impl: RecurrentImpl = "fused",
                 num_classes: int = 10, in_channels: int = 1, image_size: int = 28, classes: list[str] | None = None,
                 optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0,
                 preprocess: Preprocess = None) -> None:
        super().__init__(num_classes, in_channels, image_size, classes, optimizer, lr, momentum, weight_decay,
                         preprocess)

    def build_net(self) -> nn.Module:
        return _row_net(self.hparams, self.cell)
