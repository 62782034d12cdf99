"""Linear regression as a plain ``nn.Module`` (book 3.1 to 3.3), importable without Lightning."""

from __future__ import annotations

from torch import nn

from zoo.errors import ConfigError

__all__ = ["linear_regression_net"]


def linear_regression_net(num_features: int, init_std: float | None = 0.01,
                          bias_init_std: float | None = 0.0) -> nn.Linear:
    """``nn.Linear(num_features, 1)``, (B, num_features) -> (B, 1), initialised as the book's experiments do.

    Args:
        num_features: inputs per example.
        init_std: weights ~ N(0, init_std^2): 0.01 in 3.2/3.3 and the scratch runs of chapter 7, 1 in 3.12;
            ``None`` keeps PyTorch's default init (3.11 and the ``torch.optim`` runs of chapter 7).
        bias_init_std: bias ~ N(0, bias_init_std^2); 0 sets it to zero (3.2, 3.12 scratch), 1 in 3.12's concise
            version; ``None`` keeps PyTorch's default init.
    """
    if num_features < 1:
        raise ConfigError(f"num_features must be >= 1, got {num_features}")
    for name, std in (("init_std", init_std), ("bias_init_std", bias_init_std)):
        if std is not None and std < 0:
            raise ConfigError(f"{name} must be >= 0 or None (PyTorch's default init), got {std}")
    net = nn.Linear(num_features, 1)
    if init_std is not None:
        nn.init.normal_(net.weight, mean=0.0, std=init_std)
    if bias_init_std == 0:
        nn.init.zeros_(net.bias)
    elif bias_init_std is not None:
        nn.init.normal_(net.bias, mean=0.0, std=bias_init_std)
    return net
