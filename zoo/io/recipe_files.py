"""The recipes: one LightningCLI YAML file per book experiment; the folder is the list.

In a checkout they are the top-level ``recipes/`` folder; an installed wheel carries the same files as ``zoo/recipes``
(pyproject.toml maps the folder into the package). Either way they are found beside the zoo's own code, never in the
current directory: a ``recipes/`` folder where a command happens to run does not replace them.

A project's own recipes are used only when asked for:

* by path: ``zoo recipe path/to/my_run.yaml`` (or ``python -m zoo fit --config path/to/my_run.yaml``);
* by name, from folders listed in ``$ZOO_RECIPES_PATH`` (``os.pathsep``-separated, searched before the zoo's own, so
  a project's ``gru_lyrics.yaml`` there takes the name; ``zoo list`` shows each recipe's folder when it is set).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from zoo.errors import ConfigError

__all__ = ["ENV_RECIPES_PATH", "describe", "recipe_dirs", "recipe_path", "recipes", "recipes_dir"]

#: Extra recipe folders, searched by name before the zoo's own.
ENV_RECIPES_PATH = "ZOO_RECIPES_PATH"

_PACKAGE = Path(__file__).resolve().parents[1]  # the zoo package: zoo/ in a checkout, site-packages/zoo installed


def recipes_dir() -> Path:
    """The zoo's own recipes: ``zoo/recipes`` in an installed wheel, else the checkout's top-level ``recipes/``."""
    packaged = _PACKAGE / "recipes"
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent
    if (checkout / "pyproject.toml").is_file():  # a source checkout (editable install or PYTHONPATH)
        return checkout / "recipes"
    return packaged  # missing: `recipes()` finds none and `zoo list` says so


def recipe_dirs() -> list[Path]:
    """The folders searched by name: those of ``$ZOO_RECIPES_PATH`` in order, then the zoo's own."""
    extra = [Path(p).expanduser() for p in os.environ.get(ENV_RECIPES_PATH, "").split(os.pathsep) if p.strip()]
    for folder in extra:
        if not folder.is_dir():
            raise ConfigError(f"${ENV_RECIPES_PATH} names {folder}, which is not a folder")
    return [*extra, recipes_dir()]


def recipes() -> dict[str, Path]:
    """Recipe name -> YAML file, over `recipe_dirs` (the first folder holding a name wins), sorted by name."""
    found: dict[str, Path] = {}
    for folder in recipe_dirs():
        for path in sorted(folder.glob("*.yaml")):
            if not path.stem.startswith("_"):
                found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def _looks_like_path(text: str) -> bool:
    return text.endswith((".yaml", ".yml")) or "/" in text or os.sep in text


def recipe_path(name: str) -> Path:
    """The YAML of recipe ``name``, or ``name`` itself when it is a path to a YAML file; an unknown name raises
    `ConfigError` listing the known ones."""
    if _looks_like_path(name):
        path = Path(name).expanduser()
        if path.is_file():
            return path
        raise ConfigError(f"recipe file {path} does not exist" if not path.is_dir() else
                          f"{path} is a folder; give a recipe file in it (a .yaml) or add the folder to "
                          f"${ENV_RECIPES_PATH}")
    known = recipes()
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
        if close:
            raise ConfigError(f"unknown recipe {name!r}; did you mean {' or '.join(close)}? (python -m zoo list "
                              "names them all)")
        listing = "\n".join(f"  {n}" for n in known) or "  (none found)"
        where = ", ".join(str(d) for d in recipe_dirs())
        raise ConfigError(f"unknown recipe {name!r}. Known recipes (in {where}):\n{listing}\nA recipe file of your "
                          f"own runs by path (zoo recipe path/to/file.yaml) or by name from a folder in "
                          f"${ENV_RECIPES_PATH}.")
    return known[name]


def describe(path: Path) -> str:
    """The recipe's first comment line, without the leading ``# name:``."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            text = line.lstrip("# ").strip()
            return text.split(":", 1)[1].strip() if text.startswith(path.stem + ":") else text
    return ""
