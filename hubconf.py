"""torch.hub entry points: the zoo's models and checkpoints without installing the zoo.

    import torch
    model = torch.hub.load("path/to/lightning-zoo", "resnet18", source="local", num_classes=2)
    model = torch.hub.load("path/to/lightning-zoo", "resnet18", source="local", num_classes=2, pretrained=True)
    model = torch.hub.load("path/to/lightning-zoo", "lenet", source="local", num_classes=10)
    model = torch.hub.load("path/to/lightning-zoo", "from_checkpoint", "runs/.../last.ckpt", source="local")

Every model of the catalogue is an entry under its catalogue name (``zoo.list_models()``: ``lenet``, ``resnet18``,
``gru``, ...), the same names as ``zoo.create_model`` and the recipes. An entry returns the zoo's LightningModule
built with the keyword arguments given (``help(zoo.get_model_class(name))`` lists them all): an ``nn.Module`` whose
call gives logits, which ``lightning.Trainer`` trains as it is, and whose plain network is ``model.net``.

``resnet18`` is torchvision's layout (3x224x224 images), as ``torchvision.models.resnet18``; the book's chapter 5
network is ``resnet18`` with ``variant="d2l"``. ``pretrained=False`` (the default) reads no file and opens no
connection. ``pretrained=True`` (or a weights name such as ``"IMAGENET1K_V1"``) loads torchvision's ImageNet weights
into the backbone through the zoo's weights lookup (torch's cache ``$TORCH_HOME/hub/checkpoints``, then a download);
offline and not cached, it stops with the zoo's message naming the file, its URL and where to put it. Models without
published weights refuse ``pretrained`` with a `zoo.errors.ConfigError`.

``from_checkpoint(path)`` loads any zoo checkpoint (`zoo.load_task`): class, hyperparameters and weights.
"""

from __future__ import annotations

dependencies = ["torch", "torchvision", "lightning", "torchmetrics"]


def _entry(name: str):
    """The hub entry of catalogue model ``name``."""

    def entry(*, pretrained: bool | str = False, **kwargs):
        import zoo

        return zoo.create_model(name, pretrained=pretrained, **kwargs)

    entry.__name__ = entry.__qualname__ = name
    entry.__doc__ = (f"zoo.create_model({name!r}, pretrained=False, **kwargs): a LightningModule; "
                     f"help(zoo.get_model_class({name!r})) documents every argument.")
    return entry


def _register() -> None:
    """One entry per catalogue model."""
    from zoo import list_models

    for name in list_models():
        globals()[name] = _entry(name)


def from_checkpoint(path: str, map_location: str = "cpu"):
    """Any zoo checkpoint (``runs/<recipe>/version_N/checkpoints/*.ckpt``): the model it holds, its class and
    hyperparameters read from the file (`zoo.load_task`), weights included."""
    from zoo import load_task

    return load_task(path, map_location=map_location)


_register()
