"""Small helpers shared by the image networks: a shape dry run, the book's N(0, sigma) initialisation, the
linear layer of the from-scratch models (book 3.2 / 3.6: ``X @ W + b``), and the name of the two implementations.

``LayerImpl`` is how the chapter 3 and 5 networks choose between the book's hand-written layers (``"scratch"``) and
PyTorch's ``nn`` modules (``"nn"``). The recurrent layers have their own choice, `zoo.nets.recurrent.RecurrentImpl`
(``"fused"`` cuDNN-style kernels or ``"scratch"``).

Nothing here imports Lightning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import chain
from typing import Literal

import torch
from torch import nn
from torch.func import functional_call

__all__ = ["BiasInit", "LayerImpl", "ScratchLinear", "check_layer_impl", "init_normal_", "output_shape"]

BiasInit = Literal["zeros", "normal"]
LayerImpl = Literal["scratch", "nn"]


def check_layer_impl(impl: str) -> None:
    """Raise ``ValueError`` unless ``impl`` is a `LayerImpl`."""
    if impl not in ("scratch", "nn"):
        raise ValueError(f"unknown impl {impl!r}; choose 'scratch' (the book's hand-written layers) or 'nn'")


def output_shape(module: nn.Module, input_shape: Sequence[int]) -> torch.Size:
    """Shape of ``module(x)`` for an ``x`` of ``input_shape``, computed on the meta device (no arithmetic).

    Used to size a fully connected layer from the image size (book 5.5: ``16*4*4`` for 28x28 inputs) and to reject
    inputs too small for a network before training starts. Raises ``RuntimeError`` from the failing layer when the
    input cannot pass through ``module``.
    """
    tensors = chain(module.named_parameters(), module.named_buffers())
    meta = {name: torch.empty_like(t, device="meta") for name, t in tensors}
    with torch.no_grad():
        out = functional_call(module, meta, (torch.empty(tuple(input_shape), device="meta"),))
    return out.shape


def init_normal_(module: nn.Module, std: float, bias: BiasInit = "zeros") -> nn.Module:
    """Draw every weight of ``module``'s linear and conv layers from N(0, std); biases zero or N(0, std).

    The book's chapter 3 models use N(0, 0.01) weights with zero biases (3.6, 3.9, 3.13 from scratch) or N(0, 0.01)
    for every parameter (3.10, 3.13 concise: ``init.normal_(param, mean=0, std=0.01)`` over ``net.parameters()``).
    """
    if bias not in ("zeros", "normal"):
        raise ValueError(f"bias init must be 'zeros' or 'normal', got {bias!r}")
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, ScratchLinear)):
            nn.init.normal_(layer.weight, mean=0.0, std=std)
            if layer.bias is not None:
                if bias == "zeros":
                    nn.init.zeros_(layer.bias)
                else:
                    nn.init.normal_(layer.bias, mean=0.0, std=std)
    return module


class ScratchLinear(nn.Module):
    """``X @ W + b`` with ``W`` of shape (in, out), the book's from-scratch layout (3.6.2, 3.9.1).

    Default initialisation matches ``nn.Linear`` (uniform in +-1/sqrt(in)); the book's N(0, 0.01) comes from
    `init_normal_`. Note the transposed layout: ``nn.Linear.weight`` is (out, in).
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        bound = 1 / math.sqrt(in_features)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in) -> (B, out)
        return torch.mm(x, self.weight) + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"
