"""Fake data for the regression datamodules (an airfoil file in the real format: tab-separated, CRLF) and a helper
that fits a recipe in-process exactly as ``python -m zoo recipe`` would, minus logger, checkpoints and progress bar."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from unittest import mock

import pytest


def airfoil_rows(n_rows: int = 60, seed: int = 0) -> list[list[float]]:
    """Rows shaped like the real file: frequency, angle, chord, velocity, thickness, sound level (linear in the rest
    plus noise, so a linear model can fit them)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n_rows):
        x = [rng.choice([800, 1000, 1250, 2000, 4000]), rng.uniform(0, 20), rng.choice([0.0254, 0.1016, 0.3048]),
             rng.choice([31.7, 39.6, 55.5, 71.3]), rng.uniform(0.0004, 0.05)]
        y = 125 - 0.001 * x[0] - 0.2 * x[1] - 20 * x[2] + 0.05 * x[3] - 100 * x[4] + rng.gauss(0, 0.5)
        rows.append([*x, round(y, 3)])
    return rows


def write_airfoil(path: Path, rows: list[list[float]] | None = None, line_end: str = "\r\n") -> Path:
    """Write ``rows`` as the real file does: tab-separated numbers, CRLF line ends, a final line end."""
    rows = airfoil_rows() if rows is None else rows
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join("\t".join(f"{v:g}" for v in row) + line_end for row in rows)
    path.write_bytes(text.encode("ascii"))
    return path


def install_airfoil(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake with as many rows as the real file (1,503), so recipes keep the book's first 1,500."""
    import datamodules.airfoil as mod
    from tests.fakes import point_resource_at  # here, not at the top: tests.fakes imports this module

    path = write_airfoil(root / mod.AIRFOIL.filename, airfoil_rows(1503))
    point_resource_at(monkeypatch, mod, "AIRFOIL", path)


def fit_recipe(name: str, root: Path, *args: str):
    """Fit recipe ``name`` through the zoo's CLI (same seed, modules and loaders); returns the LightningCLI."""
    from zoo.cli import recipes, run_lightning_cli

    args = ["--config", str(recipes()[name]), "--trainer.logger=false", "--trainer.enable_checkpointing=false",
            "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
            f"--trainer.default_root_dir={root}", *args]
    with mock.patch.object(sys, "argv", ["zoo"]):  # LightningCLI warns when it sees pytest's own arguments
        cli = run_lightning_cli(args, run=False)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return cli


def install_synthetic(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Synthetic datamodules generate their data in memory: nothing to write."""
