"""BLEU as book 10.12.5 defines it, for one predicted sentence against one reference.

    bleu = exp(min(0, 1 - len_label / len_pred)) * prod_{n=1..k} p_n ** (1 / 2 ** n)

with p_n the fraction of the prediction's n-grams found in the reference (each reference n-gram matched once). The
weights 1/2^n give longer n-grams more weight, and the first factor penalises short predictions. The book's code
compares n-grams glued into strings (``''.join``), so ("a", "bc") and ("ab", "c") would count as equal; here n-grams
are compared as tuples. The corpus BLEU the tasks log comes from torchmetrics (`torchmetrics.text.BLEUScore`).
"""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence

__all__ = ["bleu"]


def bleu(pred_tokens: Sequence[str], label_tokens: Sequence[str], k: int = 2) -> float:
    """The book's BLEU of ``pred_tokens`` against ``label_tokens`` with n-grams up to ``k``; 0 for an empty
    prediction or one shorter than ``k``."""
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    if len_pred == 0 or len_pred < k:
        return 0.0
    score = math.exp(min(0.0, 1 - len_label / len_pred))
    for n in range(1, k + 1):
        label_grams = collections.Counter(tuple(label_tokens[i:i + n]) for i in range(len_label - n + 1))
        matches = 0
        for i in range(len_pred - n + 1):
            gram = tuple(pred_tokens[i:i + n])
            if label_grams[gram] > 0:
                matches += 1
                label_grams[gram] -= 1
        score *= (matches / (len_pred - n + 1)) ** (0.5**n)
    return score
