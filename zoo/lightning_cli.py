"""`ZooCLI`: LightningCLI with the zoo's argument links, default logger, interrupt checkpoint and run summary."""

from __future__ import annotations

from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import CSVLogger

from zoo.callbacks import SaveOnInterrupt

__all__ = ["DATA_LINKS", "ZooCLI", "print_fit_summary"]

#: datamodule attribute -> model init argument of the same name, linked once the datamodule exists
#: (a link whose source or target a class lacks is skipped).
DATA_LINKS = ("vocab", "num_classes", "in_channels", "num_features")


class ZooCLI(LightningCLI):
    """LightningCLI with datamodule-to-model links, a CSV logger by default and an end-of-fit summary."""

    def add_arguments_to_parser(self, parser) -> None:
        for key in DATA_LINKS:
            parser.link_arguments(f"data.{key}", f"model.init_args.{key}", apply_on="instantiate")

    def instantiate_trainer(self, **kwargs):
        trainer_cfg = self._get(self.config_init, "trainer", default={})
        if trainer_cfg.get("logger") in (None, True):
            kwargs["logger"] = CSVLogger(save_dir=trainer_cfg.get("default_root_dir") or "runs", name="")
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), SaveOnInterrupt()]
        return super().instantiate_trainer(**kwargs)

    def after_fit(self) -> None:
        print_fit_summary(self.trainer, self.model)


def print_fit_summary(trainer, model) -> None:
    """Final metrics, the checkpoint path, the log folder and the model's own ``fit_summary()`` text."""
    if not trainer.is_global_zero:
        return
    title = " run interrupted " if trainer.interrupted else " run summary "
    lines = ["", "=" * 24 + title + "=" * 24, f"epochs run: {trainer.current_epoch}"]
    for key, value in sorted(trainer.callback_metrics.items()):
        if value.numel() == 1:
            lines.append(f"{key:>20s}: {float(value):.6f}")
    ckpt = trainer.checkpoint_callback
    path = ckpt and (ckpt.best_model_path or ckpt.last_model_path)
    if path:
        lines.append(f"checkpoint: {path}")
    if trainer.log_dir:
        lines.append(f"logs: {trainer.log_dir}")
    summary = getattr(model, "fit_summary", None)
    if callable(summary) and not trainer.interrupted:
        lines.append(summary())
    print("\n".join(lines), flush=True)
