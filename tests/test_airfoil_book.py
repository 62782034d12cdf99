"""Chapter 7 on the real airfoil file: every optimizer recipe ends within 0.01 of the loss the book prints.

Each recipe runs exactly as ``python -m zoo recipe NAME`` would (same CLI, seed, modules and loaders), only without
logger, checkpoint and progress bar. The book's value is read from the recipe's ``# book:`` line and the recorded
result from ``results/<recipe>.json`` (written by ``make results``), which must agree with what the run gives (so the
README's tables, generated from those files, cannot go stale).
Needs ``ZOO_DATA_MIRROR`` (CI sets it); skipped otherwise.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import REPO
from tests.regression_fakes import fit_recipe
from zoo.cli import recipes

AIRFOIL_RECIPES = sorted(name for name in recipes() if name.endswith("_airfoil"))
BOOK_TOLERANCE = 0.01  # the bar: |ours - book| < 0.01
HEADER_TOLERANCE = 1e-3  # CPU kernels differ slightly between machines; the recorded value must still hold


def book_value(name: str) -> float:
    """The loss on the recipe's ``# book:`` line."""
    text = recipes()[name].read_text(encoding="utf-8")
    match = re.search(r'^# book: .*"loss: ([0-9.]+)"', text, flags=re.MULTILINE)
    assert match, f"{name}: no '# book:' line with a loss"
    return float(match.group(1))


def recorded_value(name: str) -> float:
    """Our loss as ``make results`` recorded it."""
    path = REPO / "results" / f"{name}.json"
    assert path.is_file(), f"{name}: no {path.name}; run make results NAMES={name}"
    return float(json.loads(path.read_text(encoding="utf-8"))["value"])


def final_training_loss(name: str, tmp_path) -> float:
    return float(fit_recipe(name, tmp_path).trainer.callback_metrics["train/full_loss"])


def test_every_chapter7_setting_has_a_recipe():
    assert len(AIRFOIL_RECIPES) == 16  # the 16 printed results of sections 7.3 to 7.8
    assert sum("_scratch_" in n for n in AIRFOIL_RECIPES) == 10 and sum("_torch_" in n for n in AIRFOIL_RECIPES) == 6


@pytest.mark.mirror
@pytest.mark.parametrize("name", AIRFOIL_RECIPES)
def test_final_loss_matches_the_book(name, tmp_path):
    ours = final_training_loss(name, tmp_path)
    book = book_value(name)
    assert abs(ours - book) < BOOK_TOLERANCE, f"{name}: ours {ours:.6f}, book {book:.6f}"
    assert abs(ours - recorded_value(name)) < HEADER_TOLERANCE, f"{name}: the run gives {ours:.6f}"
