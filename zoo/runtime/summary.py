"""The end-of-run summary the CLI prints: final metrics, wall time, checkpoint, log folder and the model's own report
(its ``fit_summary()``, which also explains a metric that needs it, such as the lyrics' held-out perplexity)."""

from __future__ import annotations

import time

import lightning as L

from zoo.io.run_files import run_dir

__all__ = ["FitClock", "format_duration", "print_fit_summary"]


class FitClock(L.Callback):
    """Notes when ``fit`` started, so the summary can print the run's wall time (the CLI adds it to every run)."""

    def __init__(self) -> None:
        self.started: float | None = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float | None:
        """Seconds since ``fit`` started, or None before it did."""
        return None if self.started is None else time.monotonic() - self.started


def format_duration(seconds: float) -> str:
    """``"42.0 s"``, ``"3 min 05 s"`` or ``"2 h 03 min"``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def print_fit_summary(trainer: L.Trainer, model: L.LightningModule, interrupted: bool | None = None) -> None:
    """Print the summary on rank 0 only. Nothing here is a collective (no ``trainer.log_dir``), so the other ranks
    may return at once without leaving rank 0 waiting for them."""
    if not trainer.is_global_zero:
        return
    interrupted = trainer.interrupted if interrupted is None else interrupted
    title = " run interrupted " if interrupted else " run summary "
    lines = ["", "=" * 24 + title + "=" * 24, f"epochs run: {trainer.current_epoch}"]
    for key, value in sorted(trainer.callback_metrics.items()):
        if value.numel() == 1:
            lines.append(f"{key:>20s}: {float(value):.6f}")
    clock = next((cb for cb in trainer.callbacks if isinstance(cb, FitClock)), None)
    elapsed = clock.elapsed() if clock is not None else None
    if elapsed is not None:
        lines.append(f"wall time: {format_duration(elapsed)}")
    ckpt = trainer.checkpoint_callback
    path = ckpt and (ckpt.last_model_path or ckpt.best_model_path)
    if path:
        lines.append(f"checkpoint: {path}")
    folder = run_dir(trainer)
    if folder:
        lines.append(f"logs: {folder}")
    summary = getattr(model, "fit_summary", None)
    if callable(summary) and not interrupted:
        lines.append(summary())
    print("\n".join(lines), flush=True)
