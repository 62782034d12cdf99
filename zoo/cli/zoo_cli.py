"""`ZooCLI`: LightningCLI with the zoo's argument links, default logger, interrupt checkpoint and run summary."""

from __future__ import annotations

from contextlib import nullcontext

from lightning.pytorch.callbacks import ProgressBar
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import CSVLogger

from zoo.cli.callbacks import SaveOnInterrupt, ThrottledProgressBar
from zoo.cli.plots import LossCurvePlot
from zoo.errors import ZooError
from zoo.weights import weights_from_checkpoint

__all__ = ["DATA_LINKS", "ZooCLI", "print_fit_summary"]

#: datamodule attribute -> model init argument of the same name, linked once the datamodule exists
#: (a link whose source or target a class lacks is skipped).
DATA_LINKS = ("vocab", "num_classes", "in_channels", "num_features", "classes", "image_size", "max_len", "src_vocab",
              "tgt_vocab", "max_seq_len", "word_vectors")


class ZooCLI(LightningCLI):
    """LightningCLI with datamodule-to-model links, a CSV logger and a tqdm progress bar by default, a checkpoint on
    interruption, a loss-curve plot and an end-of-fit summary."""

    def add_arguments_to_parser(self, parser) -> None:
        for key in DATA_LINKS:
            parser.link_arguments(f"data.{key}", f"model.init_args.{key}", apply_on="instantiate")

    def instantiate_classes(self) -> None:
        """With ``--ckpt_path`` the checkpoint supplies every tensor, so models skip loading pretrained weights (a
        fine-tuned checkpoint then predicts on a machine without the ImageNet file)."""
        ckpt_path = self._get(self.config, "ckpt_path") if self.subcommand else None
        try:
            with weights_from_checkpoint() if ckpt_path else nullcontext():
                super().instantiate_classes()
        except ValueError as exc:  # jsonargparse wraps what __init__ raised; a ZooError's message says it all
            cause = _zoo_error_in(exc)
            if cause is None:
                raise
            raise cause from None

    def instantiate_trainer(self, **kwargs):
        trainer_cfg = self._get(self.config_init, "trainer", default={})
        if trainer_cfg.get("logger") in (None, True):
            kwargs["logger"] = CSVLogger(save_dir=trainer_cfg.get("default_root_dir") or "runs", name="")
        recipe_callbacks = trainer_cfg.get("callbacks") or []  # kwargs replace the config's list, so keep it here
        recipe_callbacks = recipe_callbacks if isinstance(recipe_callbacks, list) else [recipe_callbacks]
        extra = [SaveOnInterrupt()]
        if not any(isinstance(cb, LossCurvePlot) for cb in recipe_callbacks):
            extra.append(LossCurvePlot())  # a recipe sets its own to choose a log scale
        if trainer_cfg.get("enable_progress_bar", True) is not False and not any(
                isinstance(cb, ProgressBar) for cb in recipe_callbacks):
            # Lightning picks the rich bar when rich is installed; it redraws from a background thread, which on a
            # 2-core machine cost ~10% of an epoch of the chapter 6 models (bench/gru_lyrics.py); tqdm does not
            extra.append(ThrottledProgressBar())
        kwargs["callbacks"] = [*recipe_callbacks, *kwargs.get("callbacks", []), *extra]
        return super().instantiate_trainer(**kwargs)

    def after_fit(self) -> None:
        print_fit_summary(self.trainer, self.model)

    def after_predict(self) -> None:
        """Print text predictions (generated lyrics, class labels) one per line."""
        if not self.trainer.is_global_zero:
            return
        for batch in self.trainer.predict_loop.predictions or []:
            for item in [batch] if isinstance(batch, str) else batch:
                if isinstance(item, str):
                    print(item, flush=True)


def _zoo_error_in(exc: BaseException) -> ZooError | None:
    """The first `ZooError` among ``exc`` and its causes and contexts, if any."""
    seen, todo = set(), [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ZooError):
            return current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
    return None


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
    path = ckpt and (ckpt.last_model_path or ckpt.best_model_path)
    if path:
        lines.append(f"checkpoint: {path}")
    if trainer.log_dir:
        lines.append(f"logs: {trainer.log_dir}")
    summary = getattr(model, "fit_summary", None)
    if callable(summary) and not trainer.interrupted:
        lines.append(summary())
    print("\n".join(lines), flush=True)
