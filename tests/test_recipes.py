"""Every recipe: a well-formed header, then one fast_dev_run on fake data written in the real format."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest
import yaml

from tests.fakes import install
from zoo.cli import recipes, run_lightning_cli
from zoo.cli.lightning_cli import DATA_LINKS

RECIPES = recipes()


def test_recipes_found():
    assert "gru_lyrics" in RECIPES


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_header(name):
    lines = RECIPES[name].read_text(encoding="utf-8").splitlines()
    assert re.match(rf"# {name}: \S", lines[0]), "first line: '# <name>: <description>'"
    assert any(re.match(r"# book: .*\S", line) for line in lines[:6]), "a '# book:' line with section and result"
    config = yaml.safe_load(RECIPES[name].read_text(encoding="utf-8"))
    assert {"model", "data", "trainer", "seed_everything"} <= set(config)


def fast_dev_run(name, tmp_path, monkeypatch, *extra: str):
    """One ``fast_dev_run`` of recipe ``name`` on fake data; returns the trainer."""
    config = yaml.safe_load(RECIPES[name].read_text(encoding="utf-8"))
    module_name, data_class = config["data"]["class_path"].rsplit(".", 1)
    install(data_class, tmp_path / "data", monkeypatch)
    accepted = inspect.signature(getattr(importlib.import_module(module_name), data_class)).parameters
    args = ["--config", str(RECIPES[name]), "--trainer.fast_dev_run=true", "--trainer.accelerator=cpu",
            "--trainer.devices=1", f"--trainer.default_root_dir={tmp_path / 'runs'}"]
    if "data_dir" in accepted:
        args.append(f"--data.init_args.data_dir={tmp_path / 'data'}")
    if "batch_size" in config["data"].get("init_args", {}):
        args.append("--data.init_args.batch_size=4")
    if config["data"].get("init_args", {}).get("val_size"):
        args.append("--data.init_args.val_size=2")  # the fake files hold a few examples
    cli = run_lightning_cli([*args, *extra], run=False)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return cli.trainer


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_fast_dev_run(name, tmp_path, monkeypatch):
    trainer = fast_dev_run(name, tmp_path, monkeypatch)
    assert trainer.state.finished
    assert all(v.isfinite() for v in trainer.callback_metrics.values())


# one recipe of each kind of task: language model, image and row-RNN classifiers, regression, word embedding, text
# classification, translation
TASK_KINDS = ["gru_lyrics", "lenet_fashion_mnist", "lstm_rows_fashion_mnist", "linreg_adam_torch_airfoil",
              "skipgram_ptb", "textcnn_imdb", "seq2seq_attention_fr_en"]


@pytest.mark.parametrize("name", TASK_KINDS)
def test_bf16_mixed_precision_on_the_cpu(name, tmp_path, monkeypatch):
    trainer = fast_dev_run(name, tmp_path, monkeypatch, "--trainer.precision=bf16-mixed")
    assert trainer.state.finished and trainer.precision == "bf16-mixed"
    assert all(v.isfinite() for v in trainer.callback_metrics.values())


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_print_config_shows_every_argument_of_the_model(name, capsys):
    """``--print_config`` lists the architecture's own arguments and its task's (passed through ``**task``), except
    the sizes linked from the datamodule."""
    with pytest.raises(SystemExit) as info:
        run_lightning_cli(["fit", "--config", str(RECIPES[name]), "--print_config"])
    assert info.value.code in (0, None)
    config = yaml.safe_load(capsys.readouterr().out)
    model = config["model"]
    cls = getattr(importlib.import_module(model["class_path"].rsplit(".", 1)[0]), model["class_path"].rsplit(".", 1)[1])
    expected = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass) and klass.__module__.startswith("zoo"):
            expected |= {p.name for p in inspect.signature(klass.__init__).parameters.values()
                         if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self"}
    assert expected - set(DATA_LINKS) <= set(model["init_args"]), sorted(expected - set(model["init_args"]))
