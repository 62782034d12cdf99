"""The image-classification task: training, evaluation and prediction for every classifier of book chapters 3 and 5.

It follows the book's ``train_ch3`` (3.6.7) and ``train_ch5`` (5.5.2): cross-entropy on mini-batches, train accuracy
accumulated over each epoch while the model learns, and the accuracy of the held-out images at the end of each
epoch with the model in evaluation mode. Accuracy is torchmetrics' micro-averaged ``MulticlassAccuracy`` (the
fraction of correct images, as the book counts). Logged per epoch: ``train/loss``, ``train/acc`` and, for the
evaluation split, ``val/loss``, ``val/acc`` or ``test/loss``, ``test/acc``.

Which split is evaluated during ``fit``: the datamodule's ``eval_sets`` names what its ``val_dataloader`` serves
(`zoo.tasks.classifier_metrics`, shared with the text classifiers).
The image datamodules serve a seeded validation split of the training set when ``val_size > 0``, and otherwise (the
book's setting) the official test split, logged honestly as ``test/*`` so a recipe ends with the test accuracy the
book prints. ``python -m zoo test`` always runs on the test split.

Input contract (the model used outside the zoo's datamodules): ``forward`` takes float images (B, C, H, W) with
``C = in_channels`` and ``H = W = image_size``, values in [0, 1] (``ToTensor`` scale) or normalised with the same
mean and std as in training. The zoo's image datamodules convert their uint8 batches on the device
(``on_after_batch_transfer``) or, under a CPU Trainer, in the loader; ``datamodule.transform(images_uint8)`` does
the same for your own images.

Classifying image files (``python -m zoo classify``): at the start of ``fit`` the task records the datamodule's
evaluation preprocessing (resize, crop, mean, std, channels; primitives) in ``hparams.preprocess``, next to
``hparams.classes``, so a checkpoint alone turns an image file into a prediction (`ImageClassificationTask.top_k`
on the decoded images; reading the files is the command line's job).

Fine-tuning (book 9.2) is an option of the task, for every classifier: ``pretrained``, ``weights_path``,
``head_lr_mult`` and ``freeze_backbone`` (`zoo.tasks.finetuning`).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_warn
from torch import nn

from zoo.errors import ConfigError
from zoo.nets.layers import output_shape
from zoo.nets.small_map_conv import use_small_map_conv
from zoo.optim import build_optimizer, decay_groups
from zoo.pretrained.image_weights import weights_name, weights_preprocess
from zoo.tasks.base import ZooTask
from zoo.tasks.classifier_metrics import ClassifierSteps, EpochMetrics, top_k
from zoo.tasks.finetuning import check_finetuning, head_param_groups, load_pretrained, pretrained_weights
from zoo.validation import check_hyperparameters

__all__ = ["ImageClassificationTask", "Preprocess"]

#: Evaluation preprocessing as primitives: {"resize", "crop", "mean", "std", "channels"} (see `load_image_files`).
Preprocess = dict[str, Any] | None


class ImageClassificationTask(ClassifierSteps, ZooTask):
    """Base of the image classifiers; an architecture subclasses it, implements `build_net` (reading
    ``self.hparams``) and takes its own arguments keyword-only, passing the task's through ``**task``.

    Every ``__init__`` argument of the subclass is saved as a hyperparameter, so ``load_from_checkpoint(path)`` (or
    ``zoo.load_task(path)``) rebuilds the model without the recipe.

    Args:
        num_classes: output classes (linked from ``datamodule.num_classes`` by the CLI).
        in_channels: image channels (linked from ``datamodule.in_channels``).
        image_size: side of the square input images (linked from ``datamodule.image_size``: the resize, if any).
        classes: class names, index = label (linked from ``datamodule.classes``); ``predict`` returns names when
            they are known.
        optimizer: name for `zoo.optim.build_optimizer` (``"sgd"``, ``"adam"``, ...).
        lr: learning rate.
        momentum: SGD/RMSprop momentum (0 for none).
        weight_decay: L2 penalty on weights only; biases and normalisation parameters are not decayed (book 3.12.3).
        preprocess: how image files become input (``resize``, ``crop``, ``mean``, ``std``, ``channels``); recorded
            from ``datamodule.preprocess`` at the start of ``fit``, so it need not be given.
        pretrained: start the backbone (``features``) from torchvision's ImageNet weights: ``false``, ``true`` (the
            default entry of the network's weights family, e.g. ``ResNet18_Weights.IMAGENET1K_V1``) or an entry's
            name. The head stays new (``num_classes`` outputs). Needs a network that names its ``weights_family``
            and 3 input channels. The file comes from torch's cache, ``$TORCH_HOME/hub/checkpoints``, downloaded
            there once (`zoo.pretrained.image_weights`), when `load_pretrained` runs (``zoo.create_model`` and the
            command line call it; a Trainer run calls it at its start unless it restores a checkpoint).
        weights_path: a local ``.pth`` state dict used instead of torch's cache (for ResNet-18, torchvision's
            ``resnet18-f37072fd.pth``; for other networks, a state dict of their ``features``); implies pretrained.
        head_lr_mult: the head's learning rate is ``head_lr_mult * lr`` through optimizer parameter groups (book
            9.2.1.2: 10, since the head starts from random values and the backbone only needs small changes).
        freeze_backbone: train the head alone. The backbone's parameters get no gradient and are not in the optimizer,
            and its BatchNorm layers stay in eval mode (running statistics frozen too), so the backbone is a fixed
            feature extractor. Needs pretrained weights.
        compile: run the network through ``torch.compile`` (`ZooTask.configure_model`); the same numbers, the same
            checkpoint keys. Off by default: on the CPU it does not pay for its compile time (``bench/compile_cpu.py``).
        channels_last: keep the network's 4-D weights and every input batch in the channels-last memory layout
            (NHWC), which oneDNN's CPU convolutions and GPU tensor cores run faster; the same model, rounded in
            another order. ``None`` (the default): on when the Trainer computes in bfloat16 (the fast path,
            ``--trainer.precision bf16-mixed``, where NCHW costs a layout conversion around every convolution),
            off otherwise. LeNet's fp32 step on the CPU: 25-27 ms instead of 30-47 ms (batch 256, 2 cores);
            ``lenet_fashion_mnist`` turns it on.

    The constructor builds the network and reads no file: pretrained weights are loaded by `load_pretrained` (a log
    line names them; the fit summary repeats it). An architecture whose book setting differs from a default here
    restates the argument with its own default (``AlexNet(image_size=224)``).
    """

    def __init__(
        self,
        *,
        num_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 28,
        classes: list[str] | None = None,
        optimizer: str = "adam",
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        preprocess: Preprocess = None,
        pretrained: bool | str = False,
        weights_path: str | None = None,
        head_lr_mult: float = 1.0,
        freeze_backbone: bool = False,
        compile: bool = False,
        channels_last: bool | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()  # collects the subclass's arguments too
        name = type(self).__name__
        check_hyperparameters(self.hparams, name)
        _check_sizes(name, num_classes, in_channels, image_size, classes)
        try:
            self.net = self.build_net()
        except ConfigError:
            raise
        except ValueError as exc:  # the plain networks raise ValueError for impossible settings
            raise ConfigError(f"{name}: {exc}") from exc
        self._check_finetuning()
        self._channels_last = False
        if channels_last:
            self._use_channels_last()
        self._check_input_size()
        self.example_input_array = torch.zeros(2, in_channels, image_size, image_size)
        self.metrics = EpochMetrics(num_classes)

    def build_net(self) -> nn.Module:
        """The network (a plain ``nn.Module`` with ``features`` and ``head``), built from ``self.hparams``."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_net()")

    # ---------------------------------------------------------------- fine-tuning (zoo.tasks.finetuning)
    def _check_finetuning(self) -> None:
        """Validate the fine-tuning options (nothing is read) and freeze the backbone if asked."""
        hp, name = self.hparams, type(self).__name__
        self.pretrained_entry = pretrained_weights(self.net, hp.pretrained, name)
        self.wants_pretrained = self.pretrained_entry is not None or bool(hp.weights_path)
        check_finetuning(name, self.wants_pretrained, hp.in_channels, hp.head_lr_mult, hp.freeze_backbone,
                         from_torchvision=self.pretrained_entry is not None)
        self.initial_weights = "random"
        if self.wants_pretrained:
            self.initial_weights = "pretrained weights not loaded yet (load_pretrained)"
            self.net.features.requires_grad_(not hp.freeze_backbone)

    def _load_pretrained(self) -> None:
        """The backbone's pretrained weights, from torch's cache (downloaded once) or ``weights_path``."""
        if self.wants_pretrained:
            self.initial_weights = load_pretrained(self.net, self.pretrained_entry, self.hparams.weights_path,
                                                   type(self).__name__)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        if self.wants_pretrained:
            self.initial_weights = "the checkpoint's (trained from pretrained weights)"

    def train(self, mode: bool = True) -> ImageClassificationTask:
        """``nn.Module.train``, except that a frozen backbone stays in eval mode (its BatchNorm statistics fixed)."""
        super().train(mode)
        if mode and self.hparams.get("freeze_backbone") and hasattr(self, "net"):
            self.net.features.eval()
        return self

    def fit_summary(self) -> str:
        """Which weights the run started from, and how the head and backbone were trained."""
        hp = self.hparams
        lines = [f"initial weights: {self.initial_weights}"]
        if hp.head_lr_mult != 1:
            lines.append(f"head learning rate: {hp.head_lr_mult:g} x {hp.lr:g} = {hp.head_lr_mult * hp.lr:g}")
        if hp.freeze_backbone:
            lines.append("backbone frozen (parameters and BatchNorm statistics): only the head was trained")
        return "\n".join(lines)

    def _use_channels_last(self) -> None:
        self.net.to(memory_format=torch.channels_last)  # 4-D weights only; the same values, NHWC strides
        self._channels_last = True

    def configure_model(self) -> None:
        """When a Trainer sets the model up: under bfloat16 the channels-last layout (``channels_last=None``) and, on
        the CPU, convolutions whose weight gradient on small maps is a matrix product (`zoo.nets.small_map_conv`: the
        same model, 0.75 s instead of 1.0 s per ResNet-18 step); then ``compile`` (`ZooTask.configure_model`)."""
        trainer = self._trainer
        bf16 = trainer is not None and "bf16" in str(trainer.precision)
        if self.hparams.channels_last is None and not self._channels_last and bf16:
            self._use_channels_last()
        if bf16 and trainer.strategy.root_device.type == "cpu":
            use_small_map_conv(self.net)
        super().configure_model()

    def _check_input_size(self) -> None:
        hp = self.hparams
        shape = (2, hp.in_channels, hp.image_size, hp.image_size)  # 2: batch norm needs two values per channel
        try:
            out = output_shape(self.net, shape)
        except (RuntimeError, ValueError) as exc:
            raise ConfigError(f"{type(self).__name__} cannot take {hp.in_channels}x{hp.image_size}x{hp.image_size} "
                              f"images ({str(exc).splitlines()[0]}); use a larger data.resize") from exc
        if tuple(out) != (2, hp.num_classes):
            raise ConfigError(f"{type(self).__name__} maps {shape} to {tuple(out)}, expected (2, {hp.num_classes})")

    @property
    def features(self) -> nn.Module:
        return self.net.features

    @property
    def head(self) -> nn.Module:
        return self.net.head

    # ---------------------------------------------------------------- steps
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) of float images (B, C, H, W); see the module docstring for the input contract."""
        if not torch.is_floating_point(x):
            raise ConfigError(f"{type(self).__name__} takes float images in [0, 1], got {x.dtype}; convert uint8 "
                              "batches with datamodule.transform(x) (the zoo's datamodules do it on transfer)")
        if x.dim() == 4 and self._channels_last:
            x = x.contiguous(memory_format=torch.channels_last)  # (B, C, H, W) with NHWC strides
        try:
            return self.net(x)
        except RuntimeError as exc:
            error = self._input_error(x, exc)
            if error is None:
                raise
            raise error from exc

    def _input_error(self, x: torch.Tensor, exc: RuntimeError) -> ConfigError | None:
        """A shape failure on input that is not what the model was built for, as an error naming the argument."""
        hp, name = self.hparams, type(self).__name__
        if x.dim() != 4:
            return ConfigError(f"{name} takes images (B, C, H, W), got a tensor of shape {tuple(x.shape)}")
        _, channels, height, width = x.shape
        if channels != hp.in_channels:
            return ConfigError(f"{name} was built for in_channels={hp.in_channels}, got {channels}-channel images "
                               f"{tuple(x.shape)}; build it with in_channels={channels}")
        if (height, width) != (hp.image_size, hp.image_size):
            return ConfigError(f"{name} was built for image_size={hp.image_size}, got {height}x{width} images "
                               f"({str(exc).splitlines()[0]}); build it with image_size={height} or resize the "
                               f"images to {hp.image_size}x{hp.image_size}")
        return None

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over the batch; architectures may swap in their own (e.g. the from-scratch one)."""
        return F.cross_entropy(logits, labels)

    def _step(self, batch: Any, split: str) -> torch.Tensor:
        """Loss of one batch; the split's mean loss and accuracy are accumulated and logged once per epoch."""
        x, y = batch  # (B, C, H, W) float, (B,) int64
        logits = self(x)
        loss = self.loss(logits, y)
        self.metrics.update(split, loss, logits, y)
        return loss


    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> list[str] | torch.Tensor:
        """Predicted class names when ``classes`` is known, else the predicted class indices (B,)."""
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        pred = self(x).argmax(dim=1)
        names = self.hparams.classes
        return [names[i] for i in pred.tolist()] if names else pred

    # ---------------------------------------------------------------- classifying image files
    def on_fit_start(self) -> None:
        """Load pretrained weights (unless a checkpoint was restored), record the datamodule's evaluation
        preprocessing (``datamodule.preprocess``) in ``hparams.preprocess``, and warn when its normalisation is not
        the one the pretrained weights expect."""
        super().on_fit_start()
        datamodule = self._trainer.datamodule if self._trainer is not None else None
        preprocess = getattr(datamodule, "preprocess", None)
        if isinstance(preprocess, dict):
            self.hparams["preprocess"] = dict(preprocess)
        if self.pretrained_entry is None or not isinstance(preprocess, dict):
            return
        entry = self.pretrained_entry
        expected = weights_preprocess(entry)
        if (preprocess.get("mean"), preprocess.get("std")) != (expected["mean"], expected["std"]):
            rank_zero_warn(f"{weights_name(entry)} expects images normalised with mean {expected['mean']} and "
                           f"std {expected['std']}, but the datamodule gives mean {preprocess.get('mean')} and std "
                           f"{preprocess.get('std')}; set the datamodule's weights (HotdogDataModule(weights=...)) or "
                           "its normalisation to match")

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()  # restores the generators on resume (ZooTask)
        if self.hparams.freeze_backbone:
            self.net.features.eval()

    def preprocess_spec(self) -> tuple[dict[str, Any], bool]:
        """(preprocessing for image files, whether it was recorded in training). Unrecorded (a model trained on
        plain DataLoaders): resize and centre-crop to ``image_size``, no normalisation."""
        recorded = self.hparams.get("preprocess")
        if recorded:
            return recorded, True
        hp = self.hparams
        return {"resize": hp.image_size, "crop": hp.image_size, "mean": None, "std": None,
                "channels": hp.in_channels}, False

    @torch.no_grad()
    def top_k(self, images: torch.Tensor, k: int = 1) -> list[list[tuple[str, float]]]:
        """Top-``k`` (class name, probability) pairs, most likely first, for each image of a float batch (N, C, H, W)
        prepared as `preprocess_spec` says. Class names come from ``hparams.classes`` (indices as strings when
        unknown). The model is put in eval mode for the call."""
        if k < 1:
            raise ConfigError(f"top_k must be at least 1, got {k}")
        names = self.hparams.classes or [str(i) for i in range(self.hparams.num_classes)]
        was_training = self.training
        self.eval()
        try:
            logits = self(images.to(self.device))  # (N, num_classes)
        finally:
            self.train(was_training)
        return top_k(logits, names, k)

    # ---------------------------------------------------------------- optimisation
    def param_groups(self) -> list[dict[str, Any]]:
        """Parameter groups for the optimizer: weights decay, biases and norm parameters do not (book 3.12.3); with
        ``head_lr_mult`` != 1 the head's groups get that multiple of the learning rate (book 9.2.1.2). Frozen
        parameters are left out."""
        hp = self.hparams
        if hp.head_lr_mult != 1:
            return head_param_groups(self.net, hp.lr, hp.head_lr_mult, hp.weight_decay)
        return decay_groups(self, hp.weight_decay)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        hp = self.hparams
        return build_optimizer(hp.optimizer, self.param_groups(), hp.lr, momentum=hp.momentum, fused=True)


def _check_sizes(name: str, num_classes: int, in_channels: int, image_size: int,
                 classes: list[str] | None) -> None:
    if num_classes < 2:
        raise ConfigError(f"{name} needs num_classes >= 2, got {num_classes}")
    if in_channels < 1 or image_size < 1:
        raise ConfigError(f"{name} needs in_channels >= 1 and image_size >= 1, got {in_channels} and {image_size}")
    if classes is not None and len(classes) != num_classes:
        shown = ", ".join(map(str, classes[:10])) + (f", ... ({len(classes) - 10} more)" if len(classes) > 10 else "")
        raise ConfigError(f"{name} got {len(classes)} class names for num_classes={num_classes}: {shown}")
