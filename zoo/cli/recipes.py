"""The recipes: one LightningCLI YAML file per book experiment in ``recipes/``; the folder is the list."""

from __future__ import annotations

from pathlib import Path

from zoo.errors import ConfigError

__all__ = ["describe", "recipe_path", "recipes", "recipes_dir"]


def recipes_dir() -> Path:
    """``./recipes`` when run from a checkout's root, else the one beside this package."""
    here = Path.cwd() / "recipes"
    return here if here.is_dir() else Path(__file__).resolve().parents[2] / "recipes"


def recipes() -> dict[str, Path]:
    return {p.stem: p for p in sorted(recipes_dir().glob("*.yaml")) if not p.stem.startswith("_")}


def recipe_path(name: str) -> Path:
    """The YAML of recipe ``name``; an unknown name raises `ConfigError` listing the known ones."""
    known = recipes()
    if name not in known:
        listing = "\n".join(f"  {n}" for n in known) or "  (none found)"
        raise ConfigError(f"unknown recipe {name!r}. Known recipes (in {recipes_dir()}):\n{listing}")
    return known[name]


def describe(path: Path) -> str:
    """The recipe's first comment line, without the leading ``# name:``."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            text = line.lstrip("# ").strip()
            return text.split(":", 1)[1].strip() if text.startswith(path.stem + ":") else text
    return ""
