"""The command line: ``python -m zoo`` and the ``zoo`` script.

* `zoo.cli.main`: the entry point, the table of commands and ``--help``;
* `zoo.cli.lightning_cli`: `ZooCLI`, LightningCLI with the zoo's argument links, default loggers and callbacks;
* `zoo.cli.recipe_commands`: ``recipe``, ``list`` and ``models``;
* `zoo.cli.config_files`: YAML files checked before LightningCLI reads them.

``recipe_path`` and ``recipes`` (`zoo.io.recipe_files`) and ``run_lightning_cli`` are importable from here.

The commands themselves live in `zoo.commands` (checkpoints, results) and `zoo.studies` (the book's demos and
studies); what every run gets, in `zoo.runtime`.
"""

from __future__ import annotations

from zoo.cli.main import main, run_lightning_cli
from zoo.io.recipe_files import recipe_path, recipes

__all__ = ["main", "recipe_path", "recipes", "run_lightning_cli"]
