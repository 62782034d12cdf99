"""The hand-written optimizers of book chapter 7, as real ``torch.optim.Optimizer`` subclasses.

Each follows the book's update equations (sections 7.3 to 7.8) and is in the table of `zoo.optim.builder` under
the name below, so a recipe picks it by name next to PyTorch's built-ins:

============================  =====================  ==========================================
name                          book                   PyTorch counterpart (same trajectory)
============================  =====================  ==========================================
``sgd_scratch``               7.3 (and 3.2's sgd)    ``torch.optim.SGD``
``momentum_scratch``          7.4                    ``torch.optim.SGD(momentum=...)``
``adagrad_scratch``           7.5                    ``torch.optim.Adagrad`` (eps_placement="outside")
``rmsprop_scratch``           7.6                    ``torch.optim.RMSprop`` (alpha=gamma, eps_placement="outside")
``adadelta_scratch``          7.7                    ``torch.optim.Adadelta`` (lr=1)
``adam_scratch``              7.8                    ``torch.optim.Adam``
============================  =====================  ==========================================

Where the book and PyTorch differ:

* **eps placement.** AdaGrad and RMSProp divide by ``sqrt(s + eps)`` in the book (eps 1e-6) and by
  ``sqrt(s) + eps`` in PyTorch (eps 1e-10 / 1e-8). ``eps_placement="inside"`` (default) is the book's formula,
  ``"outside"`` is PyTorch's; the two differ wherever ``s`` is comparable to eps (tiny gradients). AdaDelta puts eps
  inside both square roots in both (book eps 1e-5, PyTorch 1e-6); Adam adds it outside the root in both (the book's
  code uses 1e-6, its text and PyTorch 1e-8).
* **Momentum.** The book keeps the velocity in parameter units, ``v <- gamma v + lr g; x <- x - v``; PyTorch keeps
  ``b <- mu b + g; x <- x - lr b``. With a constant learning rate ``v = lr b``, so the trajectories are the same; if a
  scheduler changes lr mid-run they differ (the book's velocity keeps the old lr in its memory).
* **Batch size.** The book's 3.2 ``sgd(params, lr, batch_size)`` divides the gradient of a *summed* batch loss by the
  batch size; 7.3 averages the loss instead and drops the division. The zoo's tasks always average the loss over the
  batch, so ``sgd_scratch`` is ``x <- x - lr g`` with ``g`` the gradient of the batch mean: both book forms at once.
* ``weight_decay`` (every optimizer here) adds ``weight_decay * x`` to the gradient before the update, the L2 penalty
  of book 3.12 and PyTorch's ``weight_decay``.
"""

from __future__ import annotations

from typing import Any, Literal

import torch

from zoo.errors import ConfigError

__all__ = [
    "SCRATCH_OPTIMIZERS",
    "AdaDeltaScratch",
    "AdaGradScratch",
    "AdamScratch",
    "MomentumScratch",
    "RMSPropScratch",
    "SGDScratch",
]

EpsPlacement = Literal["inside", "outside"]


def _check(name: str, value: float, low: float, high: float | None = None) -> None:
    """Raise `ConfigError` unless ``value`` is a number with ``low <= value`` (and ``value < high`` when given)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, got {value!r} ({type(value).__name__}); in YAML write "
                          "1.0e-6, not 1e-6, which YAML reads as text")
    if value < low or (high is not None and value >= high):
        allowed = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ConfigError(f"{name} must be in {allowed}, got {value}")


def _check_placement(eps_placement: str) -> None:
    if eps_placement not in ("inside", "outside"):
        raise ConfigError(f"eps_placement must be 'inside' (the book: sqrt(s + eps)) or 'outside' (PyTorch: "
                          f"sqrt(s) + eps), got {eps_placement!r}")


def _denominator(s: torch.Tensor, eps: float, placement: str) -> torch.Tensor:
    """``sqrt(s + eps)`` (book 7.5/7.6) or ``sqrt(s) + eps`` (PyTorch)."""
    return (s + eps).sqrt() if placement == "inside" else s.sqrt().add_(eps)


class _BookOptimizer(torch.optim.Optimizer):
    """The loop every optimizer here shares: apply ``_update`` to each parameter that has a dense gradient."""

    def _update(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter with a gradient; ``closure`` re-evaluates the loss, as in ``torch.optim``."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                g = p.grad
                if group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])  # L2 penalty (book 3.12): g + wd * x
                self._update(p, g, self.state[p], group)
        return loss


class SGDScratch(_BookOptimizer):
    """Minibatch stochastic gradient descent, book 7.3: ``x <- x - lr * g``.

    ``g`` is the gradient of the batch-mean loss (see the module notes on the book's 3.2 ``/ batch_size``).
    Batch size 1 gives SGD, the whole data set gives gradient descent (7.2).
    """

    def __init__(self, params, lr: float = 0.03, weight_decay: float = 0.0) -> None:
        _check("lr", lr, 0.0)
        _check("weight_decay", weight_decay, 0.0)
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay})

    def _update(self, p, g, state, group) -> None:
        p.sub_(g, alpha=group["lr"])


class MomentumScratch(_BookOptimizer):
    """Momentum, book 7.4: ``v <- momentum * v + lr * g; x <- x - v`` with ``v`` starting at zero.

    ``momentum`` is the book's gamma (0 gives plain SGD).
    """

    def __init__(self, params, lr: float = 0.02, momentum: float = 0.5, weight_decay: float = 0.0) -> None:
        _check("lr", lr, 0.0)
        _check("momentum", momentum, 0.0, 1.0)
        _check("weight_decay", weight_decay, 0.0)
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    def _update(self, p, g, state, group) -> None:
        if "velocity" not in state:
            state["velocity"] = torch.zeros_like(p)
        v = state["velocity"]
        v.mul_(group["momentum"]).add_(g, alpha=group["lr"])
        p.sub_(v)


class AdaGradScratch(_BookOptimizer):
    """AdaGrad, book 7.5 (Duchi et al. 2011): ``s <- s + g*g; x <- x - lr * g / sqrt(s + eps)``.

    ``eps_placement="outside"`` divides by ``sqrt(s) + eps`` instead, as ``torch.optim.Adagrad`` does.
    """

    def __init__(self, params, lr: float = 0.1, eps: float = 1e-6, eps_placement: EpsPlacement = "inside",
                 weight_decay: float = 0.0) -> None:
        _check("lr", lr, 0.0)
        _check("eps", eps, 0.0)
        _check("weight_decay", weight_decay, 0.0)
        _check_placement(eps_placement)
        super().__init__(params, {"lr": lr, "eps": eps, "eps_placement": eps_placement,
                                  "weight_decay": weight_decay})

    def _update(self, p, g, state, group) -> None:
        if "sum_sq" not in state:
            state["sum_sq"] = torch.zeros_like(p)
        s = state["sum_sq"]
        s.addcmul_(g, g)
        p.addcdiv_(g, _denominator(s, group["eps"], group["eps_placement"]), value=-group["lr"])


class RMSPropScratch(_BookOptimizer):
    """RMSProp, book 7.6 (Tieleman & Hinton 2012): ``s <- gamma s + (1 - gamma) g*g; x <- x - lr g / sqrt(s + eps)``.

    ``gamma`` is called ``alpha`` in ``torch.optim.RMSprop``; ``eps_placement="outside"`` matches PyTorch's
    ``sqrt(s) + eps``.
    """

    def __init__(self, params, lr: float = 0.01, gamma: float = 0.9, eps: float = 1e-6,
                 eps_placement: EpsPlacement = "inside", weight_decay: float = 0.0) -> None:
        _check("lr", lr, 0.0)
        _check("gamma", gamma, 0.0, 1.0)
        _check("eps", eps, 0.0)
        _check("weight_decay", weight_decay, 0.0)
        _check_placement(eps_placement)
        super().__init__(params, {"lr": lr, "gamma": gamma, "eps": eps, "eps_placement": eps_placement,
                                  "weight_decay": weight_decay})

    def _update(self, p, g, state, group) -> None:
        if "mean_sq" not in state:
            state["mean_sq"] = torch.zeros_like(p)
        s = state["mean_sq"]
        s.mul_(group["gamma"]).addcmul_(g, g, value=1 - group["gamma"])
        p.addcdiv_(g, _denominator(s, group["eps"], group["eps_placement"]), value=-group["lr"])


class AdaDeltaScratch(_BookOptimizer):
    """AdaDelta, book 7.7 (Zeiler 2012), which has no learning rate::

        s  <- rho s + (1 - rho) g*g
        g' <- sqrt((dx + eps) / (s + eps)) * g
        x  <- x - lr * g'                       (the book: lr = 1)
        dx <- rho dx + (1 - rho) g'*g'

    ``lr`` scales the step as in ``torch.optim.Adadelta`` (default 1, the book's algorithm); the book uses eps 1e-5,
    PyTorch 1e-6.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-5, weight_decay: float = 0.0) -> None:
        _check("lr", lr, 0.0)
        _check("rho", rho, 0.0, 1.0)
        _check("eps", eps, 0.0)
        _check("weight_decay", weight_decay, 0.0)
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay})

    def _update(self, p, g, state, group) -> None:
        if "mean_sq" not in state:
            state["mean_sq"] = torch.zeros_like(p)
            state["mean_sq_delta"] = torch.zeros_like(p)
        s, delta, rho, eps = state["mean_sq"], state["mean_sq_delta"], group["rho"], group["eps"]
        s.mul_(rho).addcmul_(g, g, value=1 - rho)
        g_prime = ((delta + eps) / (s + eps)).sqrt_().mul_(g)
        p.sub_(g_prime, alpha=group["lr"])
        delta.mul_(rho).addcmul_(g_prime, g_prime, value=1 - rho)


class AdamScratch(_BookOptimizer):
    """Adam, book 7.8 (Kingma & Ba 2014), with bias correction; ``t`` counts this parameter's updates from 1::

        v <- beta1 v + (1 - beta1) g            s <- beta2 s + (1 - beta2) g*g
        v_hat = v / (1 - beta1^t)               s_hat = s / (1 - beta2^t)
        x <- x - lr * v_hat / (sqrt(s_hat) + eps)

    eps defaults to the 1e-6 of the book's code (the text and PyTorch use 1e-8).
    """

    def __init__(self, params, lr: float = 0.01, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-6,
                 weight_decay: float = 0.0) -> None:
        _check("lr", lr, 0.0)
        if len(betas) != 2:
            raise ConfigError(f"betas must be two numbers (beta1, beta2), got {betas!r}")
        _check("betas[0]", betas[0], 0.0, 1.0)
        _check("betas[1]", betas[1], 0.0, 1.0)
        _check("eps", eps, 0.0)
        _check("weight_decay", weight_decay, 0.0)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})

    def _update(self, p, g, state, group) -> None:
        if "step" not in state:
            state["step"] = 0
            state["v"] = torch.zeros_like(p)
            state["s"] = torch.zeros_like(p)
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t, v, s = state["step"], state["v"], state["s"]
        v.mul_(beta1).add_(g, alpha=1 - beta1)
        s.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        v_hat = v / (1 - beta1**t)
        s_hat = s / (1 - beta2**t)
        p.addcdiv_(v_hat, s_hat.sqrt_().add_(group["eps"]), value=-group["lr"])


#: Registry name -> class; `zoo.optim.builder` adds them to its table, so each is buildable with
#: ``build_optimizer(name, ...)``.
SCRATCH_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd_scratch": SGDScratch,
    "momentum_scratch": MomentumScratch,
    "adagrad_scratch": AdaGradScratch,
    "rmsprop_scratch": RMSPropScratch,
    "adadelta_scratch": AdaDeltaScratch,
    "adam_scratch": AdamScratch,
}
