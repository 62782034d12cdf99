"""curves.png: loss and metric curves read from the CSV logger's metrics.csv, written beside it at the end of every CLI
run."""

from __future__ import annotations

import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger
from matplotlib.image import imread

from datamodules.synthetic import LinearSyntheticDataModule
from zoo import LinearRegression
from zoo.cli import main, recipes, run_lightning_cli
from zoo.runtime import LossCurvePlot as RecipeName
from zoo.runtime.plots import (
    CurvesPlot,
    LossCurvePlot,
    _wants_log,
    plot_curves,
    plot_loss_curves,
    read_curves,
    read_loss_columns,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

METRICS = """epoch,step,train/full_loss,train/loss,w_norm
0,9,0.5,,
0,19,0.25,,
0,19,,0.4,3.0
1,29,0.125,,
1,39,0.0,,
1,39,,0.2,3.1
"""


def assert_png(path: Path) -> None:
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    height, width, _ = imread(path).shape  # decodes: a real image, not only a header
    assert height > 100 and width > 100


@pytest.fixture
def metrics_csv(tmp_path) -> Path:
    path = tmp_path / "metrics.csv"
    path.write_text(METRICS, encoding="utf-8")
    return path


def test_reads_loss_columns_at_fractional_epochs(metrics_csv):
    series = read_loss_columns(metrics_csv, steps_per_epoch=20)
    assert series == {"train/full_loss": [(0.5, 0.5), (1.0, 0.25), (1.5, 0.125), (2.0, 0.0)],
                      "train/loss": [(1.0, 0.4), (2.0, 0.2)]}  # w_norm is not a loss
    assert read_loss_columns(metrics_csv)["train/loss"] == [(1.0, 0.4), (2.0, 0.2)]  # without steps: epoch + 1


LM_METRICS = """epoch,step,lr-Adam,train/loss,train/ppl,val/loss,val/ppl
0,7,0.01,,,5.58,265.7
0,7,0.01,6.16,473.5,,
1,15,0.01,,,5.38,216.4
1,15,0.01,5.47,236.8,,
"""


def test_metric_columns_go_to_the_second_panel(tmp_path):
    csv = tmp_path / "metrics.csv"
    csv.write_text(LM_METRICS, encoding="utf-8")
    losses, metrics = read_curves(csv)
    assert losses == {"train/loss": [(1.0, 6.16), (2.0, 5.47)], "val/loss": [(1.0, 5.58), (2.0, 5.38)]}
    assert metrics == {"train/ppl": [(1.0, 473.5), (2.0, 236.8)], "val/ppl": [(1.0, 265.7), (2.0, 216.4)]}  # no lr


def test_two_panels_make_a_wider_figure(tmp_path, metrics_csv):
    (tmp_path / "loss_only.csv").write_text("epoch,step,train/loss\n0,9,1.0\n1,19,0.5\n", encoding="utf-8")
    one = imread(plot_curves(tmp_path / "loss_only.csv", tmp_path / "one.png"))
    two = imread(plot_curves(metrics_csv, tmp_path / "two.png"))  # train/*loss and the w_norm metric
    assert two.shape[1] > 1.6 * one.shape[1]
    assert read_curves(metrics_csv)[1] == {"w_norm": [(1.0, 3.0), (2.0, 3.1)]}


def test_a_panel_spanning_decades_gets_a_log_axis():
    """A perplexity of thousands beside 1.3, or a loss falling from 2.8 to 5e-5, would sit flat on a linear axis."""
    assert _wants_log({"train/loss": [(1.0, 2.8), (3.0, 5e-5)]})
    assert _wants_log({"train/ppl": [(1.0, 3.0), (2.0, 1.5)]})  # perplexities always
    assert not _wants_log({"train/full_loss": [(0.1, 0.47), (2.0, 0.244)]})  # the airfoil curve stays linear
    assert not _wants_log({"train/loss": [(1.0, 500.0), (2.0, 0.0)]})  # a log axis cannot show 0


def test_only_a_metric_is_still_drawn(tmp_path):
    csv = tmp_path / "metrics.csv"
    csv.write_text("epoch,step,test/acc\n0,9,0.5\n1,19,0.75\n", encoding="utf-8")
    assert read_curves(csv) == ({}, {"test/acc": [(1.0, 0.5), (2.0, 0.75)]})
    assert_png(plot_curves(csv, tmp_path / "acc.png"))


def test_writes_a_png(metrics_csv, tmp_path):
    path = plot_loss_curves(metrics_csv, tmp_path / "out" / "curve.png")
    assert path == tmp_path / "out" / "curve.png"
    assert_png(path)


def test_the_recipes_class_path_is_the_curves_plot():
    assert RecipeName is LossCurvePlot is CurvesPlot and plot_loss_curves is plot_curves


def test_log_scale_leaves_out_what_a_log_axis_cannot_show(tmp_path):
    csv = tmp_path / "metrics.csv"
    csv.write_text("epoch,step,train/loss\n0,0,0.0\n1,1,-1.0\n", encoding="utf-8")
    assert plot_loss_curves(csv, tmp_path / "lin.png") is not None
    assert plot_loss_curves(csv, tmp_path / "log.png", log_scale=True) is None
    assert not (tmp_path / "log.png").exists()


def test_nothing_to_plot(tmp_path):
    csv = tmp_path / "metrics.csv"
    csv.write_text("epoch,step,lr-SGD\n0,9,1.0\n", encoding="utf-8")  # a learning rate is no curve
    assert plot_loss_curves(csv, tmp_path / "none.png") is None
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert plot_loss_curves(tmp_path / "empty.csv", tmp_path / "none.png") is None


def fit(tmp_path, **trainer_kwargs) -> tuple[L.Trainer, LossCurvePlot]:
    torch.manual_seed(0)
    dm = LinearSyntheticDataModule(num_examples=40, batch_size=10)
    plot = LossCurvePlot(log_scale=True)
    trainer = L.Trainer(max_epochs=3, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                        default_root_dir=tmp_path, callbacks=[plot], **trainer_kwargs)
    trainer.fit(LinearRegression(num_features=2), datamodule=dm)
    return trainer, plot


def test_callback_writes_beside_metrics_and_prints_the_path(tmp_path, capsys):
    trainer, plot = fit(tmp_path, logger=CSVLogger(tmp_path, name=""))
    assert plot.path == Path(trainer.logger.log_dir) / "curves.png"
    assert (plot.path.parent / "metrics.csv").is_file()
    assert_png(plot.path)
    assert f"curves: {plot.path}" in capsys.readouterr().out
    losses, metrics = read_curves(plot.path.parent / "metrics.csv")
    assert len(losses["train/full_loss"]) == 3 and len(metrics["w_norm"]) == 3  # both panels, one point per epoch


@pytest.mark.parametrize("trainer_kwargs", [{"fast_dev_run": True}, {"logger": False}])
def test_callback_without_metrics_writes_nothing_and_does_not_crash(tmp_path, trainer_kwargs):
    trainer, plot = fit(tmp_path, **trainer_kwargs)
    assert trainer.state.finished and plot.path is None
    assert not list(tmp_path.rglob("*.png"))


def test_recipes_choose_the_log_scale(tmp_path, monkeypatch):
    """The CLI adds a linear-scale plot to every run, unless the recipe configures its own (3.11/3.12: semilogy);
    the recipe's other callbacks are kept."""
    monkeypatch.setattr(sys, "argv", ["zoo"])

    def plots(name):
        cli = run_lightning_cli(["--config", str(recipes()[name]), f"--trainer.default_root_dir={tmp_path}"],
                                run=False)
        return [cb for cb in cli.trainer.callbacks if isinstance(cb, LossCurvePlot)]

    for name, log_scale in (("linreg_cubic_polynomial", True), ("linreg_wd3_highdim", True),
                            ("linreg_adam_scratch_airfoil", False)):
        found = plots(name)
        assert len(found) == 1 and found[0].log_scale is log_scale, name


def test_recipe_run_prints_the_curve_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["zoo"])
    with pytest.raises(SystemExit) as exit_info:
        main(["recipe", "linreg_synthetic", "--trainer.enable_progress_bar=false",
              f"--trainer.default_root_dir={tmp_path}"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    path = Path(next(line for line in out.splitlines() if line.startswith("curves: ")).split(": ", 1)[1])
    assert path.name == "curves.png"
    assert path.parent == Path(next(line for line in out.splitlines() if line.startswith("logs: ")).split(": ", 1)[1])
    assert_png(path)
    assert "w: [" in out and "L2 norm of w: " in out and "train/full_loss" in out
