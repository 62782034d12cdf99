"""The layout rules (docs/adding.md, "Where things go"), checked on the code rather than kept by hand.

* every architecture (a LightningModule subclass of a task base) and every datamodule is found by importing every
  module, and must be in its registry, in tests/examples.py and (datamodules) in the fake-data writers;
* an architecture extends its task one way: keyword-only arguments of its own, the task's passed through ``**task``;
* the layers: a module imports only its own layer and those below it (`LAYERS`), and no import inside a function
  reaches above; the data layer imports nothing of the zoo but the foundation; no import circle; no package imports
  another package's underscore module; ``zoo.nets`` and ``zoo.ops`` import neither Lightning nor ``datamodules``;
* checkpoints written before a module moved (other paths in ``zoo_class`` and ``_class_path``) still load.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch

import datamodules
import zoo
from tests.examples import EXAMPLES, as_written_by_lightningcli, save_checkpoint
from tests.fakes import WRITERS
from zoo.tasks.base import ZooTask

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("zoo", "datamodules")


def _modules(package: str) -> list[str]:
    root = importlib.import_module(package)
    found = [m.name for m in pkgutil.walk_packages(root.__path__, f"{package}.")]
    return [package] + [m for m in found if not m.endswith(".__main__")]  # __main__ runs the command line


def _classes(package: str) -> list[type]:
    found = []
    for name in _modules(package):
        module = importlib.import_module(name)
        found += [c for c in vars(module).values() if inspect.isclass(c) and c.__module__ == name]
    return found


def _architectures() -> dict[str, type]:
    return {c.__name__: c for c in _classes("zoo")
            if issubclass(c, L.LightningModule) and not c.__module__.startswith("zoo.tasks")}


def _datamodules() -> dict[str, type]:
    found = [c for c in _classes("datamodules") if issubclass(c, L.LightningDataModule)]
    bases = {base for c in found for base in c.__mro__[1:]}
    return {c.__name__: c for c in found if c not in bases}  # a class another datamodule extends is a base


def test_every_architecture_is_registered_with_its_module_and_has_an_example():
    found = _architectures()
    assert sorted(found) == sorted(zoo.ARCHITECTURES), "register new architectures in zoo/__init__.py"
    for name, cls in found.items():
        assert zoo.ARCHITECTURES[name] == cls.__module__
        assert issubclass(cls, ZooTask), f"{name} must subclass a task base of zoo.tasks"
    assert sorted(EXAMPLES) == sorted(found), "add a small example to tests/examples.py"


def test_every_datamodule_is_registered_and_has_a_fake_data_writer():
    found = _datamodules()
    assert sorted(found) == sorted(datamodules.DATAMODULES), "register new datamodules in datamodules/__init__.py"
    for name, cls in found.items():
        assert datamodules.DATAMODULES[name] == cls.__module__
    assert sorted(WRITERS) == sorted(found), "add a writer of fake files in the real format to tests/fakes.py"


def test_a_registry_refuses_a_name_twice():
    from zoo.errors import ConfigError
    from zoo.registry import Registry

    registry = Registry("architecture")
    registry.add("zoo.convnets", "LeNet")
    with pytest.raises(ConfigError, match="'LeNet' is registered twice: in zoo.convnets and zoo.linear"):
        registry.add("zoo.linear", "LeNet")
    with pytest.raises(ConfigError, match="unknown architecture 'LeNet5'; known: LeNet"):
        registry.load("LeNet5")


def _task_base(cls: type) -> type:
    return next(c for c in cls.__mro__[1:] if c.__module__.startswith("zoo.tasks.") and c is not ZooTask)


#: The one family whose architectures share a class: rnn, gru and lstm differ only by their cell's default.
FAMILY_BASES = {"RecurrentLanguageModel"}


@pytest.mark.parametrize("name", sorted(zoo.ARCHITECTURES))
def test_an_architecture_adds_keyword_only_arguments_and_its_signature_shows_every_one(name):
    cls = getattr(zoo, name)
    base = _task_base(cls)
    parent = cls.__mro__[1]
    assert parent is base or parent.__name__ in FAMILY_BASES, f"{name} subclasses its task base directly"
    assert "build_net" in vars(cls) or parent.__name__ in FAMILY_BASES, f"{name} implements build_net"
    task_args = set(inspect.signature(base.__init__).parameters) - {"self"}
    if "__init__" in vars(cls):
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        assert params[-1].kind is inspect.Parameter.VAR_KEYWORD, f"{name}.__init__ ends with **task"
        own = params[:-1]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in own), f"{name}'s arguments are keyword-only"
    shown = inspect.signature(cls).parameters
    assert task_args <= set(shown), f"inspect.signature({name}) shows the task's arguments"
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in shown.values())
    assert f"Arguments of {base.__name__}:" in (cls.__doc__ or ""), f"help({name}) documents the task's arguments"


def _imports(path: Path, module: str) -> set[str]:
    """Every module named by an import statement of the file (function-level imports included)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}  # "from pkg import module"
    return names


def _graph() -> dict[str, set[str]]:
    files = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return {module: {m for m in _imports(path, module) if m in files and m != module}
            for module, path in files.items()}


def test_no_import_circle():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                pytest.fail("import circle: " + " -> ".join(trail[trail.index(nxt):] + [node, nxt]))
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_no_package_imports_another_packages_underscore_module():
    for module, targets in _graph().items():
        for target in targets:
            private = [p for p in target.split(".") if p.startswith("_") and p not in ("__init__", "__main__")]
            if private:
                assert target.split(".")[0] == module.split(".")[0], f"{module} imports {target}"


#: The layers, lowest first: a module may import its own layer and those below. ``datamodules`` (the data layer)
#: may import only the foundation of the zoo; the architectures' room may not import the data layer's datasets.
LAYERS = (
    ("foundation", ("zoo.errors", "zoo.validation", "zoo.files", "zoo.registry")),
    ("data, networks, functions, optimizers", ("datamodules", "zoo.nets", "zoo.ops", "zoo.optim")),
    ("files and pretrained inputs", ("zoo.io", "zoo.pretrained")),
    ("task bases", ("zoo.tasks",)),
    ("architectures and their catalogue", ("zoo", "zoo.models", "zoo.linear", "zoo.convnets", "zoo.row_rnn",
                                           "zoo.language_models", "zoo.word2vec", "zoo.text_classifiers",
                                           "zoo.translators", "zoo.positionwise_translators")),
    ("run time", ("zoo.runtime",)),
    ("commands and studies", ("zoo.commands", "zoo.studies")),
    ("entry point", ("zoo.cli", "zoo.__main__")),
)


def _layer(module: str) -> int:
    best, rank = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or (module.startswith(prefix + ".") and prefix != "zoo")
            if matches and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank is not None, f"{module} is in no layer of LAYERS; add it"
    return rank


def test_every_import_goes_to_the_same_layer_or_below():
    """Function-level imports count too, so no circle hides inside a function."""
    for module, targets in _graph().items():
        for target in targets:
            if _layer(target) > _layer(module):
                pytest.fail(f"{module} ({LAYERS[_layer(module)][0]}) imports {target} "
                            f"({LAYERS[_layer(target)][0]}), a layer above it")


def test_the_data_layer_imports_only_the_foundation_of_the_zoo():
    foundation = set(LAYERS[0][1])
    for module, targets in _graph().items():
        if module.startswith("datamodules"):
            bad = [t for t in targets if t.startswith("zoo") and t not in foundation]
            assert not bad, f"{module} imports {bad}; the data layer uses only {sorted(foundation)}"
        if module.startswith(("zoo.tasks", "zoo.nets", "zoo.ops", "zoo.optim")):
            assert not [t for t in targets if t.startswith("datamodules")], f"{module} imports datamodules"


def test_nets_ops_and_the_download_layer_import_without_lightning():
    """``zoo.nets``/``zoo.ops`` (plain torch) and the verified downloader are usable in any project."""
    modules = [*_modules("zoo.nets"), *_modules("zoo.ops"), "zoo.optim", "datamodules.download"]
    code = (f"import sys; import {', '.join(modules)}; "
            "bad = [m for m in sys.modules if m.startswith(('lightning', 'pytorch_lightning')) "
            "or m.startswith('datamodules.') and m != 'datamodules.download']; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


def test_file_names_say_one_thing():
    """No two modules of zoo/ and datamodules/ share a file name (a newcomer finds one file per name)."""
    seen: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if path.name in ("__init__.py", "__main__.py"):
                continue
            assert path.name not in seen, f"{path} and {seen[path.name]} share a name"
            seen[path.name] = path


def test_a_checkpoint_written_before_the_layout_moved_still_loads(tmp_path):
    """Old checkpoints name zoo.image_classifiers (zoo_class) and, when LightningCLI wrote them, a _class_path."""
    torch.manual_seed(0)
    model, batch = EXAMPLES["LeNet"]()
    path = as_written_by_lightningcli(save_checkpoint(model, tmp_path / "old.ckpt", batch),
                                      "zoo.image_classifiers.LeNet")
    checkpoint = torch.load(path, weights_only=False)
    checkpoint["zoo_class"] = "zoo.image_classifiers:LeNet"
    torch.save(checkpoint, path)
    for restored in (zoo.load_task(path), zoo.LeNet.load_from_checkpoint(path)):
        assert type(restored) is zoo.LeNet
        for key, value in model.state_dict().items():
            assert torch.equal(value, restored.state_dict()[key]), key
