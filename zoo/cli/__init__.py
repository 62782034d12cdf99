"""The command line: ``python -m zoo`` (LightningCLI for recipes plus the zoo's own commands), the callbacks it adds
to every run, and its plots.

* `zoo.cli.main`: the entry point and the command table; `zoo.cli.recipes`: finding recipes by name;
* `zoo.cli.zoo_cli`: `ZooCLI`, LightningCLI with the zoo's argument links, default logger and run summary;
* ``*_commands.py``: the small commands, one module per kind (text, vision, optim);
* `zoo.cli.callbacks` and `zoo.cli.plots`: what every run gets (interrupt checkpoint, progress bar, curves.png).

Recipes name the callbacks by these public paths, e.g. ``zoo.cli.LossCurvePlot``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from zoo.cli.main import main, run_lightning_cli
from zoo.cli.recipes import recipe_path, recipes

_LAZY = {
    "CurvesPlot": "zoo.cli.plots",
    "LossCurvePlot": "zoo.cli.plots",
    "SaveOnInterrupt": "zoo.cli.callbacks",
    "ThrottledProgressBar": "zoo.cli.callbacks",
    "ZooCLI": "zoo.cli.zoo_cli",
}

__all__ = ["CurvesPlot", "LossCurvePlot", "SaveOnInterrupt", "ThrottledProgressBar", "ZooCLI", "main", "recipe_path",
           "recipes", "run_lightning_cli"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'zoo.cli' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name]), name)
