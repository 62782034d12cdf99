"""The convolutional classifiers of book chapters 5 and 9, one LightningModule per architecture.

Each class is `zoo.tasks.classification.ImageClassificationTask` plus its own keyword-only network arguments and a
`build_net`; training, metrics, optimizer, fine-tuning options (``pretrained``, ``head_lr_mult``,
``freeze_backbone``) and the input contract (float images in [0, 1], (B, C, H, W)) are the task's and are documented
there. The networks themselves are plain ``nn.Module``s in ``zoo.nets``. A class restates a task argument where its
book section's setting differs from the task's default (Adam, 1e-3, 28x28): ``AlexNet(image_size=224)``.
``inspect.signature`` and ``help()`` show every argument, the task's included.

>>> dm = FashionMNISTDataModule(batch_size=256)                      # doctest: +SKIP
>>> model = LeNet(classes=dm.classes)                               # doctest: +SKIP
>>> L.Trainer(max_epochs=5).fit(model, dm)                          # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Literal

from torch import nn

from zoo.errors import ConfigError
from zoo.nets.alexnet import AlexNet as AlexNetNet
from zoo.nets.densenet import DenseNet as DenseNetNet
from zoo.nets.googlenet import GoogLeNet as GoogLeNetNet
from zoo.nets.layers import LayerImpl
from zoo.nets.lenet import LeNet as LeNetNet
from zoo.nets.nin import NiN as NiNNet
from zoo.nets.resnet import ResNet, TorchvisionResNet18
from zoo.nets.vgg import VGG as VGGNet
from zoo.nets.vgg import VGG11_ARCH
from zoo.tasks.classification import ImageClassificationTask
from zoo.tasks.finetuning import asks_for_pretrained

__all__ = ["VGG", "AlexNet", "DenseNet", "GoogLeNet", "LeNet", "LeNetBN", "NiN", "ResNet18"]


class LeNet(ImageClassificationTask):
    """LeNet with sigmoid activations and max pooling (book 5.5)."""

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return LeNetNet(hp.in_channels, hp.num_classes, hp.image_size)


class LeNetBN(ImageClassificationTask):
    """LeNet with batch normalisation after every conv and hidden linear layer: ``impl="scratch"`` uses the book's
    hand-written BatchNorm (5.10.2, `zoo.nets.batchnorm`), ``impl="nn"`` ``nn.BatchNorm1d/2d`` (5.10.3)."""

    def __init__(self, *, impl: LayerImpl = "scratch", **task: Any) -> None:
        super().__init__(**task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return LeNetNet(hp.in_channels, hp.num_classes, hp.image_size, batch_norm=hp.impl)


class AlexNet(ImageClassificationTask):
    """AlexNet as in book 5.6 (224x224 input; ``fc_hidden`` units in the two hidden linear layers)."""

    def __init__(self, *, fc_hidden: int = 4096, dropout: float = 0.5, image_size: int = 224, **task: Any) -> None:
        super().__init__(image_size=image_size, **task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return AlexNetNet(hp.in_channels, hp.num_classes, hp.image_size, hp.fc_hidden, hp.dropout)


class VGG(ImageClassificationTask):
    """VGG of any ``conv_arch`` (``(num_convs, out_channels)`` per block; default VGG-11), every width divided by
    ``ratio`` (book 5.7.3 trains VGG-11 with ratio 8)."""

    def __init__(self, *, conv_arch: tuple[tuple[int, int], ...] = VGG11_ARCH, ratio: int = 1, fc_hidden: int = 4096,
                 dropout: float = 0.5, image_size: int = 224, **task: Any) -> None:
        super().__init__(image_size=image_size, **task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return VGGNet(hp.conv_arch, hp.in_channels, hp.num_classes, hp.image_size, hp.fc_hidden, hp.ratio,
                      hp.dropout)


class NiN(ImageClassificationTask):
    """Network in Network (book 5.8): NiN blocks and global average pooling, no fully connected layer."""

    def __init__(self, *, dropout: float = 0.5, image_size: int = 224, lr: float = 2e-3, **task: Any) -> None:
        super().__init__(image_size=image_size, lr=lr, **task)

    def build_net(self) -> nn.Module:
        return NiNNet(self.hparams.in_channels, self.hparams.num_classes, self.hparams.dropout)


class GoogLeNet(ImageClassificationTask):
    """GoogLeNet with Inception blocks (book 5.9; trained at 96x96)."""

    def __init__(self, *, image_size: int = 96, **task: Any) -> None:
        super().__init__(image_size=image_size, **task)

    def build_net(self) -> nn.Module:
        return GoogLeNetNet(self.hparams.in_channels, self.hparams.num_classes)


class ResNet18(ImageClassificationTask):
    """ResNet-18 in torchvision's layout (9.2, the zoo's example of fine-tuning) or the book's (5.11).

    By default it is ``torchvision.models.resnet18`` with a ``num_classes`` head: 3-channel 224x224 images, the
    layout of the published ImageNet weights (``pretrained=True``). The book's chapter 5 and 9.1 recipes set
    ``variant="d2l"`` with their own input (1x96x96 Fashion-MNIST, 3x32x32 CIFAR-10).

    Args:
        variant: ``"torchvision"``: ``torchvision.models.resnet18`` with a new ``num_classes`` head (book 9.2; the
            only layout with published ImageNet weights, so the one that takes the task's ``pretrained`` and
            ``weights_path``). ``"d2l"``: the book's 5.11 network (7x7 stem, convs with biases, 1x1 shortcut
            without batch norm; the Fashion-MNIST and CIFAR-10 recipes, 5.11 and 9.1).
        in_channels, image_size: the task's, with torchvision's defaults (3, 224).
    """

    def __init__(self, *, variant: Literal["d2l", "torchvision"] = "torchvision", in_channels: int = 3,
                 image_size: int = 224, **task: Any) -> None:
        super().__init__(in_channels=in_channels, image_size=image_size, **task)

    def build_net(self) -> nn.Module:
        hp, name = self.hparams, type(self).__name__
        if hp.variant == "torchvision":
            return TorchvisionResNet18(hp.in_channels, hp.num_classes)
        if hp.variant != "d2l":
            raise ConfigError(f"{name}: variant must be 'd2l' or 'torchvision', got {hp.variant!r}")
        if asks_for_pretrained(hp.pretrained) or hp.weights_path:
            raise ConfigError(f"{name}: pretrained weights (pretrained={hp.pretrained!r}, weights_path="
                              f"{hp.weights_path!r}) exist for torchvision's resnet18 layout only; set variant: "
                              "torchvision (--model.init_args.variant torchvision). variant 'd2l' is the book's 5.11 "
                              "network, which has no published weights")
        return ResNet(hp.in_channels, hp.num_classes, stage_sizes=(2, 2, 2, 2))


class DenseNet(ImageClassificationTask):
    """DenseNet (book 5.12: four dense blocks of ``block_sizes`` convs, growth rate 32; trained at 96x96)."""

    def __init__(self, *, num_channels: int = 64, growth_rate: int = 32, block_sizes: tuple[int, ...] = (4, 4, 4, 4),
                 image_size: int = 96, **task: Any) -> None:
        super().__init__(image_size=image_size, **task)

    def build_net(self) -> nn.Module:
        hp = self.hparams
        return DenseNetNet(hp.in_channels, hp.num_classes, hp.num_channels, hp.growth_rate, hp.block_sizes)
