"""ResNet-18 in the book's layout (book 5.11; He et al. 2015, "Deep Residual Learning for Image Recognition",
https://arxiv.org/abs/1512.03385).

`Residual` is the book's block: conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN, plus the input (through an
optional 1x1 conv with the same stride when the shape changes), then ReLU. The net: a 7x7/2 conv + BN + ReLU +
3x3/2 max pool stem, four stages of two blocks (64, 128, 256, 512 channels; stages 2-4 halve height and width in
their first block), global average pooling and a linear layer.

Differences from torchvision's ``resnet18`` (relevant when loading its weights): the book's convs have biases,
and its 1x1 shortcut conv has no batch normalisation after it. Book 9.2 fine-tunes torchvision's network itself;
`TorchvisionResNet18` wraps it with the same ``features``/``head`` split as `ResNet`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ResNet", "Residual", "TorchvisionResNet18", "resnet_block"]


class Residual(nn.Module):
    """Args:
        in_channels: input channels.
        out_channels: output channels.
        use_1x1conv: pass the input through a 1x1 conv (needed when channels or stride change).
        stride: stride of the first 3x3 conv and of the 1x1 shortcut.
    """

    def __init__(self, in_channels: int, out_channels: int, use_1x1conv: bool = False, stride: int = 1) -> None:
        super().__init__()
        if not use_1x1conv and (in_channels != out_channels or stride != 1):
            raise ValueError(f"Residual({in_channels}, {out_channels}, stride={stride}) changes the shape, so the "
                             "shortcut needs use_1x1conv=True")
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in, H, W) -> (B, out, H/stride, W/stride)
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.conv3 is not None:
            x = self.conv3(x)
        return F.relu(y + x)


def resnet_block(in_channels: int, out_channels: int, num_residuals: int, first_block: bool = False) -> nn.Sequential:
    """``num_residuals`` Residual blocks; unless ``first_block``, the first one doubles channels and halves H, W."""
    if first_block and in_channels != out_channels:
        raise ValueError(f"the first stage keeps the channel count, got {in_channels} -> {out_channels}")
    blocks = [Residual(in_channels, out_channels, use_1x1conv=True, stride=2) if i == 0 and not first_block
              else Residual(out_channels, out_channels) for i in range(num_residuals)]
    return nn.Sequential(*blocks)


class ResNet(nn.Module):
    """``features`` = stem + ``resnet_block1..4``; ``head`` = global average pool, flatten, linear.

    Args:
        in_channels: image channels.
        num_classes: output classes.
        stage_sizes: residual blocks per stage (ResNet-18: ``(2, 2, 2, 2)``).
        widths: channels per stage (book: ``(64, 128, 256, 512)``).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, stage_sizes: Sequence[int] = (2, 2, 2, 2),
                 widths: Sequence[int] = (64, 128, 256, 512)) -> None:
        super().__init__()
        if len(stage_sizes) != len(widths):
            raise ValueError(f"stage_sizes {list(stage_sizes)} and widths {list(widths)} must have the same length")
        stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], kernel_size=7, stride=2, padding=3),
                             nn.BatchNorm2d(widths[0]), nn.ReLU(),
                             nn.MaxPool2d(kernel_size=3, stride=2, padding=1))  # (B, 64, S/4, S/4)
        stages, channels = [("stem", stem)], widths[0]
        for i, (size, width) in enumerate(zip(stage_sizes, widths)):
            stages.append((f"resnet_block{i + 1}", resnet_block(channels, width, size, first_block=i == 0)))
            channels = width
        self.features = nn.Sequential(OrderedDict(stages))  # (B, C, S, S) -> (B, 512, S/32, S/32)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, S, S) -> (B, num_classes)
        return self.head(self.features(x))


class TorchvisionResNet18(nn.Module):
    """torchvision's ``resnet18`` (the network of book 9.2) split into ``features`` and a new ``head``.

    ``features`` is torchvision's network with its 1000-class ImageNet layer ``fc`` taken out: (B, C, H, W) ->
    (B, 512) after global average pooling. Its parameter names are torchvision's (``conv1.weight``,
    ``layer1.0.bn1.running_mean``, ...), so torchvision's ImageNet state dict loads into it as it is
    (`load_backbone`). ``head`` is ``nn.Linear(512, num_classes)`` with PyTorch's default initialisation, as the
    book's ``pretrained_net.fc = nn.Linear(512, 2)``; the rest keeps torchvision's initialisation (Kaiming-normal
    convs), so without weights this is ``models.resnet18(num_classes=...)`` of the book's scratch run.

    ``weights_family`` names the torchvision weights enum whose state dicts `load_backbone` takes (the zoo's
    fine-tuning options read it, `zoo.tasks.finetuning`).

    Args:
        in_channels: image channels; other than 3, the first conv is replaced (so no ImageNet weights).
        num_classes: output classes.
    """

    weights_family: ClassVar[str] = "ResNet18_Weights"

    def __init__(self, in_channels: int = 3, num_classes: int = 1000) -> None:
        super().__init__()
        from torchvision.models import resnet18

        backbone = resnet18()
        if in_channels != 3:
            backbone.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
            nn.init.kaiming_normal_(backbone.conv1.weight, mode="fan_out", nonlinearity="relu")
        width = backbone.fc.in_features
        backbone.fc = nn.Identity()
        self.features = backbone  # (B, C, H, W) -> (B, 512)
        self.head = nn.Linear(width, num_classes)

    def load_backbone(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Copy a torchvision ``resnet18`` state dict into ``features``, ignoring its ``fc.*`` (the old head).

        Raises ``RuntimeError`` (from ``load_state_dict``) naming every missing, unexpected or mis-shaped tensor.
        """
        body = {k: v for k, v in state_dict.items() if not k.startswith("fc.")}
        self.features.load_state_dict(body, strict=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, num_classes)
        return self.head(self.features(x))
