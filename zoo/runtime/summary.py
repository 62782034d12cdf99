"""The end-of-run summary the CLI prints: final metrics, checkpoint, log folder and the model's own report."""

from __future__ import annotations

import lightning as L

from zoo.io.run_files import run_dir

__all__ = ["print_fit_summary"]


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
