"""Loss curves from a run's logged metrics: `plot_loss_curves`, and `LossCurvePlot`, which the CLI adds to every run.

The curve is drawn from the CSV logger's ``metrics.csv`` (not from values kept in memory), so it shows exactly what was
logged: every column whose name ends in ``loss`` (``train/loss``, ``train/full_loss``, ``val/loss``, ``test/loss``),
against the epoch. Rows logged in the middle of an epoch (chapter 7 evaluates every 100 examples) sit at fractional
epochs: x = (step + 1) / steps_per_epoch. ``log_scale=True`` draws the y axis logarithmically, as the book's
``semilogy`` does in 3.11 and 3.12.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import lightning as L
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities import rank_zero_only

__all__ = ["LABELS", "LossCurvePlot", "plot_loss_curves", "read_loss_columns"]

#: plotted column -> legend label (other ``*loss`` columns are labelled by their name)
LABELS = {
    "train/loss": "train (minibatch mean)",
    "train/full_loss": "train (whole set)",
    "val/loss": "validation",
    "test/loss": "test",
}

Series = dict[str, list[tuple[float, float]]]


def read_loss_columns(metrics_csv: str | Path, steps_per_epoch: int | None = None) -> Series:
    """``{column: [(epoch, value), ...]}`` for every ``*loss`` column of a Lightning ``metrics.csv``.

    With ``steps_per_epoch`` the x value is ``(step + 1) / steps_per_epoch`` (fractional epochs, exact for rows logged
    mid-epoch); without it, ``epoch + 1``. Empty cells and non-finite values are skipped.
    """
    with open(metrics_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = [c for c in (rows[0].keys() if rows else []) if c.endswith(("loss", "loss_epoch"))]
    series: Series = {c: [] for c in columns}
    for row in rows:
        for column in columns:
            try:
                value = float(row.get(column) or "nan")
            except ValueError:
                continue
            if not math.isfinite(value):
                continue
            if steps_per_epoch and row.get("step"):
                x = (int(row["step"]) + 1) / steps_per_epoch
            else:
                x = float(row.get("epoch") or 0) + 1
            series[column].append((x, value))
    return {c: points for c, points in series.items() if points}


def plot_loss_curves(metrics_csv: str | Path, out: str | Path, log_scale: bool = False,
                     steps_per_epoch: int | None = None, title: str | None = None) -> Path | None:
    """Write a PNG of the loss columns of ``metrics_csv`` to ``out``; ``None`` (nothing written) if there are none.

    A log-scale plot leaves out values <= 0, which a log axis cannot show.
    """
    from matplotlib.figure import Figure  # object API: no pyplot state, no global backend switch

    series = read_loss_columns(metrics_csv, steps_per_epoch)
    if log_scale:
        series = {c: [(x, v) for x, v in pts if v > 0] for c, pts in series.items()}
        series = {c: pts for c, pts in series.items() if pts}
    if not series:
        return None
    fig = Figure(figsize=(5, 3.5), dpi=100)
    ax = fig.subplots()
    for column, points in sorted(series.items()):
        xs, ys = zip(*sorted(points))
        style = "-o" if len(points) < 30 else "-"
        ax.plot(xs, ys, style, markersize=3, label=LABELS.get(column, column))
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    if title:
        ax.set_title(title, fontsize=9)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", bbox_inches="tight")
    return out


class LossCurvePlot(L.Callback):
    """At the end of fitting, write ``loss_curve.png`` beside the CSV logger's ``metrics.csv`` and print its path.

    Runs without a CSV logger (``fast_dev_run``, ``logger=False``, W&B only) or without any logged loss write nothing.

    Args:
        log_scale: logarithmic y axis (the book's ``semilogy``, 3.11 and 3.12).
        filename: name of the PNG in the logger's folder.
    """

    def __init__(self, log_scale: bool = False, filename: str = "loss_curve.png") -> None:
        self.log_scale = log_scale
        self.filename = filename
        self.path: Path | None = None

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._plot(trainer, pl_module)

    @rank_zero_only
    def _plot(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        logger = next((lg for lg in trainer.loggers if isinstance(lg, CSVLogger)), None)
        if logger is None:
            return
        logger.save()  # flush rows still buffered in memory
        metrics = Path(logger.log_dir) / "metrics.csv"
        if not metrics.is_file():
            return
        steps = trainer.num_training_batches
        steps_per_epoch = steps if isinstance(steps, int) and steps > 0 else None
        run = Path(trainer.default_root_dir).name  # runs/<recipe> for the recipes
        title = type(pl_module).__name__ + (f" ({run})" if run not in ("", "runs", ".") else "")
        self.path = plot_loss_curves(metrics, metrics.parent / self.filename, self.log_scale, steps_per_epoch, title)
        if self.path is not None:
            print(f"loss curve: {self.path}", flush=True)
