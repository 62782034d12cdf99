"""A name -> class table whose classes are imported on first use, and which refuses a name registered twice; and the
lazy ``__getattr__``/``__dir__`` a package builds from such tables.

``datamodules.DATAMODULES`` is one; ``zoo`` exposes its architectures (`zoo.models`) and helpers through one. A
package lists its public classes with the module that defines each, so ``from zoo import ResNet18`` imports only
``zoo.convnets`` (and ``import zoo`` imports nothing heavy). tests/test_layout.py discovers every class by importing
every module and fails when one is not registered, so the tables cannot fall behind the code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from importlib import import_module
from typing import Any

from zoo.errors import ConfigError

__all__ = ["Registry", "lazy_attributes"]


class Registry(Mapping[str, str]):
    """Class name -> defining module, read like a dict (``name in registry``, ``registry[name]`` is the module).

    Args:
        kind: what the entries are, for messages ("architecture", "datamodule").
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._modules: dict[str, str] = {}

    def add(self, module: str, *names: str) -> None:
        """Register ``names``, all defined in ``module``; a name already registered raises `ConfigError`."""
        for name in names:
            if name in self._modules:
                raise ConfigError(f"{self.kind} {name!r} is registered twice: in {self._modules[name]} and {module}; "
                                  "every public name must be unique")
            self._modules[name] = module

    def load(self, name: str) -> Any:
        """The class registered as ``name`` (importing its module); an unknown name raises `ConfigError`."""
        if name not in self._modules:
            raise ConfigError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._modules))}")
        return getattr(import_module(self._modules[name]), name)

    def __getitem__(self, name: str) -> str:
        return self._modules[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries: {', '.join(sorted(self._modules))})"


def lazy_attributes(package: str, namespace: dict[str, Any],
                    *registries: Registry) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``: names of ``registries`` load on first use.

    ``namespace`` is the package's ``globals()``; a loaded name is stored there, so the lookup happens once.
    """

    def __getattr__(name: str) -> Any:
        for registry in registries:
            if name in registry:
                value = namespace[name] = registry.load(name)
                return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*namespace, *(name for registry in registries for name in registry)})

    return __getattr__, __dir__
