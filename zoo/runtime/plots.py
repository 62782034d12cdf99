"""A run's curves from its logged metrics: `read_curves`, `plot_curves`, and `CurvesPlot` (also importable as
`LossCurvePlot`, the name the recipes use), which the CLI adds to every run.

The figure is drawn from the CSV logger's ``metrics.csv`` (not from values kept in memory), so it shows exactly what
was logged. Its left panel holds every column whose name ends in ``loss`` (``train/loss``, ``train/full_loss``,
``val/loss``, ``test/loss``); its right panel the task's metrics, i.e. every other column except the bookkeeping ones
(``epoch``, ``step``, learning rates): ``train/ppl`` and ``val/ppl`` for the language models, ``train/acc`` and
``test/acc`` for the classifiers, ``w_norm`` for the regressions of 3.12. Rows logged in the middle of an epoch
(chapter 7 evaluates every 100 examples) sit at fractional epochs: x = (step + 1) / steps_per_epoch. ``log_scale=True``
draws the loss axis logarithmically, as the book's ``semilogy`` does in 3.11 and 3.12; perplexities, and any panel whose
positive values span more than two decades (a held-out perplexity of thousands beside a training one of 1.3, a loss
falling from 2.8 to 5e-5), get a log axis too, so that the end of training does not sit flat on the x axis.

`save_figure` is how every command writes a figure: the path checked first (`zoo.files.check_output_file`), the
format the suffix names (``.png``, ``.jpg``/``.jpeg``, ``.pdf``, ``.svg``), written atomically, the figure closed.
"""

from __future__ import annotations

import csv
import math
import os
import sys
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities import rank_zero_only

from zoo.errors import ConfigError
from zoo.files import atomic_path, check_output_file

__all__ = ["FIGURE_FORMATS", "LABELS", "CurvesPlot", "LossCurvePlot", "is_bookkeeping", "is_loss", "plot_curves",
           "plot_loss_curves", "read_curves", "read_loss_columns", "save_figure"]

#: suffix of a figure file -> matplotlib's format name (what `save_figure` writes)
FIGURE_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".pdf": "pdf", ".svg": "svg"}

#: plotted column -> legend label (other columns are labelled by their name)
LABELS = {
    "train/loss": "train (minibatch mean)",
    "train/full_loss": "train (whole set)",
    "train/teacher_forced_loss": "train (evaluation mode, teacher forced)",
    "val/loss": "validation",
    "test/loss": "test",
}

#: split (the part before the first ``/``) -> legend label and colour, so train, validation and test keep their colour
#: from panel to panel
SPLITS = {"train": ("train", "tab:blue"), "val": ("validation", "tab:orange"), "test": ("test", "tab:green")}

#: colours of the other curves of a panel (a second train curve, a metric without a split)
SPARE_COLOURS = ("tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray", "tab:red")

#: metric name (the part after the last ``/``) -> y-axis label
METRIC_NAMES = {
    "ppl": "perplexity",
    "acc": "accuracy",
    "w_norm": "L2 norm of w",
    "bleu": "BLEU",
    "log_rmse": "log-RMSE",
    "log_rmse_book": "log-RMSE (book's)",
}

Series = dict[str, list[tuple[float, float]]]


def is_loss(column: str) -> bool:
    """A loss column: its name ends in ``loss`` (``train/loss``, ``val/loss_epoch`` too)."""
    return column.endswith(("loss", "loss_epoch"))


def is_bookkeeping(column: str) -> bool:
    """Columns that are not a curve of the task: the epoch and step counters and learning rates (``lr-Adam``)."""
    name = column.rsplit("/", 1)[-1].lower()
    return name in ("epoch", "step", "lr", "learning_rate") or name.startswith(("lr-", "lr_", "lr/"))


def save_figure(fig: Any, out: str | os.PathLike[str], *, flag: str | None = None, **savefig: Any) -> Path:
    """Write the matplotlib figure ``fig`` to ``out`` in the format its suffix names (`FIGURE_FORMATS`) and close it.

    The path is checked first (`zoo.files.check_output_file`: a folder, a path through a file, a read-only folder,
    an unknown suffix are a one-line `ConfigError`, ``flag`` naming the option); the file is written under a
    temporary name and renamed into place (`zoo.files.atomic_path`), so a failed write leaves what was there. Its
    missing folders are created. ``savefig`` passes on to ``Figure.savefig`` (``bbox_inches="tight"``, ...).
    """
    try:
        path = check_output_file(out, tuple(FIGURE_FORMATS), flag=flag)
        try:
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=FIGURE_FORMATS[path.suffix.lower()], **savefig)
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        _close(fig)
    return path


def _close(fig: Any) -> None:
    """Forget ``fig``: pyplot's figures are closed (pyplot keeps them otherwise); object-API figures are cleared."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and getattr(getattr(fig, "canvas", None), "manager", None) is not None:
        pyplot.close(fig)
    else:
        fig.clear()


def read_curves(metrics_csv: str | Path, steps_per_epoch: int | None = None) -> tuple[Series, Series]:
    """``(losses, metrics)``: ``{column: [(epoch, value), ...]}`` for the loss columns and for the metric columns of a
    Lightning ``metrics.csv``.

    With ``steps_per_epoch`` the x value is ``(step + 1) / steps_per_epoch`` (fractional epochs, exact for rows logged
    mid-epoch); without it, ``epoch + 1``. Empty cells and non-finite values are skipped; columns left empty dropped.
    """
    path = Path(metrics_csv)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    rows = list(csv.DictReader(text.splitlines()))
    columns = [c for c in (rows[0].keys() if rows else []) if c and not is_bookkeeping(c)]
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
    series = {c: sorted(points) for c, points in series.items() if points}
    losses = {c: p for c, p in series.items() if is_loss(c)}
    metrics = {c: p for c, p in series.items() if not is_loss(c)}
    return losses, metrics


def read_loss_columns(metrics_csv: str | Path, steps_per_epoch: int | None = None) -> Series:
    """The loss columns only (see `read_curves`)."""
    return read_curves(metrics_csv, steps_per_epoch)[0]


def _wants_log(series: Series) -> bool:
    """Perplexities, and positive values spanning more than two decades, read better on a log axis."""
    values = [v for points in series.values() for _, v in points]
    if not values or min(values) <= 0:
        return False
    return any(c.rsplit("/", 1)[-1] == "ppl" for c in series) or max(values) / min(values) > 100


def _metric_label(columns: list[str]) -> str:
    names = dict.fromkeys(c.rsplit("/", 1)[-1] for c in columns)  # ordered, unique
    return ", ".join(METRIC_NAMES.get(n, n) for n in names)


def _order(column: str) -> tuple[int, str]:
    split = column.split("/", 1)[0] if "/" in column else ""
    return (list(SPLITS).index(split) if split in SPLITS else len(SPLITS), column)


def _draw(ax, series: Series, ylabel: str, title: str, log_scale: bool) -> None:
    from matplotlib.ticker import MaxNLocator

    spare = iter(SPARE_COLOURS)
    used: set[str] = set()
    for column, points in sorted(series.items(), key=lambda item: _order(item[0])):
        xs, ys = zip(*points)
        style = "-o" if len(points) < 30 else "-"
        split = column.split("/", 1)[0] if "/" in column else ""
        label, colour = SPLITS.get(split, (METRIC_NAMES.get(column, column), None))
        if column in LABELS:
            label = LABELS[column]
        elif split in SPLITS and len({c.rsplit("/", 1)[-1] for c in series}) > 1:
            label = column  # several metrics on one panel: name them
        if colour is None or colour in used:  # a second train curve (whole set, teacher forced, ...)
            colour = next(spare, None)
        used.add(colour)
        ax.plot(xs, ys, style, markersize=3, label=label, color=colour)
    if log_scale:
        ax.set_yscale("log")
        ylabel += " (log scale)"
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)


def plot_curves(metrics_csv: str | Path, out: str | Path, log_scale: bool = False,
                steps_per_epoch: int | None = None, title: str | None = None) -> Path | None:
    """Write a PNG of the loss columns (left) and the metric columns (right) of ``metrics_csv`` to ``out``; ``None``
    (nothing written) if there are none.

    ``log_scale`` is for the loss panel; it leaves out values <= 0, which a log axis cannot show. Either panel also
    gets a log axis on its own when its values span more than two decades (see `_wants_log`).
    """
    from matplotlib.figure import Figure  # object API: no pyplot state, no global backend switch

    losses, metrics = read_curves(metrics_csv, steps_per_epoch)
    if log_scale:
        losses = {c: [(x, v) for x, v in pts if v > 0] for c, pts in losses.items()}
        losses = {c: pts for c, pts in losses.items() if pts}
    panels = [(losses, "loss", "loss", log_scale or _wants_log(losses))] if losses else []
    if metrics:
        label = _metric_label(list(metrics))
        panels.append((metrics, label, label, _wants_log(metrics)))
    if not panels:
        return None
    fig = Figure(figsize=(5.2 * len(panels), 3.8), dpi=100, layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False, sharex=True)[0]  # the same epochs under both panels
    for ax, (series, ylabel, panel_title, log) in zip(axes, panels):
        _draw(ax, series, ylabel, panel_title + " per epoch", log)
    if title:
        fig.suptitle(title, fontsize=11)
    return save_figure(fig, out)


plot_loss_curves = plot_curves  # the name before the metric panel came


class CurvesPlot(L.Callback):
    """At the end of fitting, write ``curves.png`` (loss and metrics per epoch) beside the CSV logger's
    ``metrics.csv`` and print its path (``curves: <path>``). Only rank 0 draws; nothing here is a collective.

    Runs without a CSV logger (``fast_dev_run``, ``logger=False``, W&B only) or without any logged value write nothing.

    Args:
        log_scale: logarithmic loss axis (the book's ``semilogy``, 3.11 and 3.12).
        filename: name of the PNG in the logger's folder.
    """

    def __init__(self, log_scale: bool = False, filename: str = "curves.png") -> None:
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
        self.path = plot_curves(metrics, metrics.parent / self.filename, self.log_scale, steps_per_epoch, title)
        if self.path is not None:
            print(f"curves: {self.path}", flush=True)


LossCurvePlot = CurvesPlot  # the class path the recipes name: zoo.runtime.LossCurvePlot
