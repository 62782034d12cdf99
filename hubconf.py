"""torch.hub entry points: the zoo's architectures and checkpoints without installing the zoo.

    import torch
    model = torch.hub.load("path/to/lightning-zoo", "resnet18", source="local", num_classes=2)
    model = torch.hub.load("path/to/lightning-zoo", "from_checkpoint", "runs/.../last.ckpt", source="local")
    model = torch.hub.load("path/to/lightning-zoo", "lenet", source="local", num_classes=10)

Every architecture of ``zoo.ARCHITECTURES`` is an entry named by its class name in lower case (``resnet18``,
``lenet``, ``googlenet``, ``grulanguagemodel``, ...). An entry returns the zoo's LightningModule built with the
keyword arguments given (the class's and its task base's, documented there): an ``nn.Module`` whose call gives
logits, which ``lightning.Trainer`` trains as it is, and whose plain network is ``model.net``.

``pretrained=False`` (the default) never touches the network: the model starts from random values with the class's
defaults (ResNet18: the book's 5.11 layout, 1 input channel, 96x96). ``pretrained=True`` (or a weights name such as
``"IMAGENET1K_V1"``) asks the zoo's weights lookup (`zoo.weights`: torch's cache ``$TORCH_HOME/hub/checkpoints``,
then a download); for ``resnet18`` it also selects torchvision's layout and 3 input channels unless given, the only
ones with ImageNet weights. Offline and not cached, it stops with the zoo's message naming the file, its URL and
where to put it. Architectures without published weights refuse ``pretrained`` with a `zoo.errors.ConfigError`.

``from_checkpoint(path)`` loads any zoo checkpoint (`zoo.load_task`): class, hyperparameters and weights.
"""

from __future__ import annotations

dependencies = ["torch", "torchvision", "lightning", "torchmetrics"]


def _architecture_entry(class_name: str):
    """The hub entry of ``zoo.<class_name>``."""

    def entry(*, pretrained: bool | str = False, **kwargs):
        import zoo
        from zoo.errors import ConfigError
        from zoo.tasks.classification import ImageClassificationTask

        cls = getattr(zoo, class_name)
        if pretrained not in (False, None, "false", "False"):
            if not issubclass(cls, ImageClassificationTask):
                raise ConfigError(f"{class_name} has no pretrained weights; build it untrained (pretrained=False) or "
                                  "load a trained one with the hub entry from_checkpoint(path)")
            if class_name == "ResNet18":
                kwargs.setdefault("variant", "torchvision")
                kwargs.setdefault("in_channels", 3)
            kwargs["pretrained"] = pretrained
        return cls(**kwargs)

    entry.__name__ = entry.__qualname__ = class_name.lower()
    entry.__doc__ = (f"zoo.{class_name} (a LightningModule) built with the keyword arguments given, and pretrained "
                     f"(default False; see the docstring of hubconf.py). help(zoo.{class_name}) and its task base "
                     "document the arguments.")
    return entry


def _register() -> None:
    """One entry per registered architecture, named by its class name in lower case."""
    from zoo import ARCHITECTURES

    for class_name in ARCHITECTURES:
        globals()[class_name.lower()] = _architecture_entry(class_name)


def from_checkpoint(path: str, map_location: str = "cpu"):
    """Any zoo checkpoint (``runs/<recipe>/version_N/checkpoints/*.ckpt``): the model it holds, its class and
    hyperparameters read from the file (`zoo.load_task`), weights included."""
    from zoo import load_task

    return load_task(path, map_location=map_location)


_register()
