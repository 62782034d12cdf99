"""Optimizers: PyTorch's and the hand-written ones of book chapter 7, built by name (`zoo.optim.builder`).

* `zoo.optim.scratch`: SGD, momentum, AdaGrad, RMSProp, AdaDelta and Adam written from the book's equations, as real
  ``torch.optim.Optimizer`` subclasses;
* `zoo.optim.builder`: ``build_optimizer(name, params, lr, ...)`` over a table of both kinds, and ``decay_groups``
  (weight decay on weights, not on biases);
* `zoo.optim.toys`: the 2-D paths of book 7.2 to 7.6, run with these optimizers.

Nothing here imports Lightning.
"""

from zoo.optim.builder import OPTIMIZERS, build_optimizer, decay_groups, register_optimizer
from zoo.optim.scratch import (
    SCRATCH_OPTIMIZERS,
    AdaDeltaScratch,
    AdaGradScratch,
    AdamScratch,
    MomentumScratch,
    RMSPropScratch,
    SGDScratch,
)

__all__ = ["OPTIMIZERS", "SCRATCH_OPTIMIZERS", "AdaDeltaScratch", "AdaGradScratch", "AdamScratch", "MomentumScratch",
           "RMSPropScratch", "SGDScratch", "build_optimizer", "decay_groups", "register_optimizer"]
