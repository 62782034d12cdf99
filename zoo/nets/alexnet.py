"""AlexNet (book 5.6; Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep Convolutional Neural
Networks").

The book's single-GPU variant for Fashion-MNIST at 224x224: five conv layers (96, 256, 384, 384, 256 channels,
ReLU, three 3x3/2 max pools), then two 4096-unit layers with dropout 0.5. The first linear layer is sized from
``image_size`` (256x5x5 = 6400 at 224). No local response normalisation, as in the book.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.nets.layers import output_shape

__all__ = ["AlexNet"]


class AlexNet(nn.Module):
    """Args:
        in_channels: image channels (the book: 1 for Fashion-MNIST; the paper: 3).
        num_classes: output classes (book: 10).
        image_size: side of the square input (book: 224); at least 67.
        fc_hidden: width of the two hidden linear layers (book: 4096).
        dropout: drop probability before each hidden linear layer's successor (book: 0.5).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 224, fc_hidden: int = 4096,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4), nn.ReLU(),  # (B, 96, 54, 54) at 224
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 96, 26, 26)
            nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 256, 12, 12)
            nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (B, 256, 5, 5)
        )
        try:
            flat = output_shape(self.features, (1, in_channels, image_size, image_size)).numel()
        except RuntimeError as exc:
            raise ValueError(f"AlexNet needs images of at least 67x67 pixels, got {image_size}x{image_size}; "
                             "resize them (the book uses 224)") from exc
        self.head = nn.Sequential(
            nn.Flatten(),  # (B, 256, 5, 5) -> (B, 6400)
            nn.Linear(flat, fc_hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(fc_hidden, fc_hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(fc_hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, S, S) -> (B, num_classes)
        return self.head(self.features(x))
