"""One small example per registered architecture: ``EXAMPLES[name]()`` -> (model, one training batch).

Every name in ``zoo.ARCHITECTURES`` needs an entry here (test_architectures.py checks), so a new architecture is
covered by the shared forward/backward test the moment it is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import zoo

LM_VOCAB = list("abcdefghij")


def _language_model(name: str) -> Callable[[], tuple[Any, Any]]:
    def build():
        model = getattr(zoo, name)(vocab=LM_VOCAB, hidden_size=8, pred_period=0)
        x = torch.randint(0, len(LM_VOCAB), (2, 5))
        return model, (x, torch.roll(x, -1, dims=1), False)

    return build


EXAMPLES: dict[str, Callable[[], tuple[Any, Any]]] = {
    "RNNLanguageModel": _language_model("RNNLanguageModel"),
    "GRULanguageModel": _language_model("GRULanguageModel"),
    "LSTMLanguageModel": _language_model("LSTMLanguageModel"),
}
