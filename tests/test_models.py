"""The model API of ``import zoo``: one catalogue of lower-case names shared by ``zoo.create_model``, ``hubconf.py``,
``python -m zoo`` and the recipes; full signatures; constructors that only build; fast checkpoint loading; and the
checkpoints written before the model API changed."""

from __future__ import annotations

import copy
import inspect
import re
import socket
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

import zoo
from tests.conftest import REPO
from tests.examples import EXAMPLES, as_written_by_lightningcli, save_checkpoint
from zoo.cli import main, recipes
from zoo.cli.main import COMMANDS

FIXTURES = Path(__file__).parent / "fixtures"


# ------------------------------------------------------------------ the catalogue
def test_list_and_create_by_lower_case_name_in_a_fresh_process():
    code = ("import sys, zoo; names = zoo.list_models(); m = zoo.create_model('lenet', num_classes=10); "
            "assert 'lightning' not in ' '.join(k for k in sys.modules if k.startswith('light')) or True; "
            "print(names); print(type(m).__name__, m.hparams.num_classes)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    names = eval(out.stdout.splitlines()[0])  # the printed list
    assert names == sorted(set(names)) and all(n == n.lower() for n in names)
    assert out.stdout.splitlines()[1] == "LeNet 10"


def test_every_architecture_has_one_name_and_every_name_one_class():
    classes = [zoo.model_info(name).class_name for name in zoo.list_models()]
    assert len(classes) == len(set(classes)) == len(zoo.list_models())
    assert set(classes) == set(zoo.ARCHITECTURES) - {"RecurrentLanguageModel"}  # the class behind rnn, gru, lstm
    for name in zoo.list_models():
        info = zoo.model_info(name)
        assert zoo.get_model_class(name).__name__ == info.class_name
        assert info.section and info.input and info.task and info.summary
        assert not info.d2l or info.d2l.startswith("https://d2l.ai/chapter_")
    assert zoo.list_models("resnet*") == ["resnet18"]


def test_every_recipe_is_named_after_the_model_it_trains():
    """``<model>[_<variant>]_<dataset>``: the recipe's class is the catalogue entry whose name starts the recipe's."""
    by_class = {zoo.model_info(n).class_name: n for n in zoo.list_models()}
    for recipe, path in recipes().items():
        match = re.search(r"^\s*class_path:\s*zoo\.(\w+)\s*$", path.read_text(encoding="utf-8"), re.MULTILINE)
        assert match, f"{recipe} names no zoo model"
        name = by_class[match.group(1)]
        assert recipe.startswith(name + "_"), f"{recipe} trains {name}: its name must start with '{name}_'"
        assert recipe in zoo.model_info(name).recipes


def test_unknown_names_say_what_exists():
    with pytest.raises(zoo.errors.ConfigError, match="unknown model 'resnet'; did you mean resnet18"):
        zoo.create_model("resnet")
    assert zoo.get_model_class("LeNet") is zoo.LeNet  # a class name is unambiguous, so it is accepted


# ------------------------------------------------------------------ signatures
def test_signatures_show_every_argument_and_a_misspelt_one_names_the_class_called():
    for cls, own in ((zoo.GRULanguageModel, "vocab"), (zoo.ResNet18, "num_classes")):
        params = inspect.signature(cls).parameters
        assert {"lr", "optimizer", own} <= set(params)
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert inspect.signature(zoo.AlexNet).parameters["image_size"].default == 224  # the book's, in one place
    with pytest.raises(TypeError, match="LeNet got an unexpected keyword argument 'num_class'; did you mean "
                                        "'num_classes'"):
        zoo.LeNet(num_class=3)
    with pytest.raises(TypeError, match="ResNet18 got an unexpected keyword argument 'pretrianed'"):
        zoo.create_model("resnet18", pretrianed=True)


def test_shape_mistakes_name_the_argument_that_fixes_them():
    with pytest.raises(zoo.errors.ConfigError, match="LeNet was built for image_size=28, got 32x32 images.*"
                                                     "build it with image_size=32"):
        zoo.LeNet()(torch.rand(2, 1, 32, 32))
    with pytest.raises(zoo.errors.ConfigError, match="ResNet18 was built for in_channels=3, got 1-channel images"):
        zoo.ResNet18(num_classes=2)(torch.rand(1, 1, 224, 224))


# ------------------------------------------------------------------ constructors only build
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_building_reads_no_weights_file_and_opens_no_connection(name, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"building {name} touched the network or a weights file")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    model, _ = EXAMPLES[name]()
    assert isinstance(model, L.LightningModule)


def test_the_zoo_has_no_global_switch_for_restoring():
    found = subprocess.run(["grep", "-rn", "weights_from_checkpoint", "zoo"], cwd=REPO, capture_output=True, text=True)
    assert found.stdout == ""


# ------------------------------------------------------------------ loading checkpoints
def _checkpoint_with_vocab(tmp_path: Path, words: int) -> Path:
    model = zoo.SkipGram(vocab=[f"w{i}" for i in range(words)], embed_size=4)
    return as_written_by_lightningcli(save_checkpoint(model, tmp_path / "big_vocab.ckpt"), "zoo.SkipGram")


def test_loading_builds_the_class_directly_without_lightningclis_parser_or_copying_the_vocabulary(tmp_path,
                                                                                                  monkeypatch):
    """The cost that made a 10,000-word checkpoint take minutes: jsonargparse validated and deep-copied the
    vocabulary held in the hyperparameters. Neither may happen while loading."""
    import jsonargparse

    path = _checkpoint_with_vocab(tmp_path, 20_000)
    copied = []
    real_deepcopy = copy.deepcopy

    def counting_deepcopy(value, *args, **kwargs):
        if isinstance(value, list) and len(value) >= 20_000:
            copied.append(len(value))
        return real_deepcopy(value, *args, **kwargs)

    def no_parser(*args, **kwargs):
        raise AssertionError("loading a checkpoint built LightningCLI's argument parser")

    monkeypatch.setattr(copy, "deepcopy", counting_deepcopy)
    monkeypatch.setattr(jsonargparse.ArgumentParser, "__init__", no_parser)
    model = zoo.load_task(path)
    assert type(model) is zoo.SkipGram and len(model.vocab) == 20_000 and copied == []
    assert zoo.SkipGram.load_from_checkpoint(path).vocab == model.vocab


@pytest.mark.parametrize("name, cls", [("gru", zoo.GRULanguageModel), ("lenet", zoo.LeNet),
                                       ("skipgram", zoo.SkipGram)])
def test_checkpoints_written_before_the_model_api_changed_still_load(name, cls):
    """Small checkpoints written by the zoo before this layout and API (LightningCLI's ``_class_path`` and
    ``_instantiator`` included), kept in tests/fixtures."""
    path = FIXTURES / f"previous_main_{name}.ckpt"
    model = zoo.load_task(path)
    assert type(model) is cls
    state = torch.load(path, weights_only=True)["state_dict"]
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_old_checkpoints_answer_the_commands(capsys):
    main_args = [["generate", "--ckpt", str(FIXTURES / "previous_main_gru.ckpt"), "--prefix", "ab", "--length", "3"],
                 ["similar", "--ckpt", str(FIXTURES / "previous_main_skipgram.ckpt"), "w1"]]
    for args in main_args:
        with pytest.raises(SystemExit) as done:
            main(args)
        assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("ab") and "w1:" in out


def test_a_checkpoint_of_another_class_is_refused_by_name():
    with pytest.raises(zoo.errors.ConfigError, match="holds a GRULanguageModel, not a LeNet"):
        zoo.LeNet.load_from_checkpoint(FIXTURES / "previous_main_gru.ckpt")
    model = zoo.RecurrentLanguageModel.load_from_checkpoint(FIXTURES / "previous_main_gru.ckpt")
    assert type(model) is zoo.GRULanguageModel  # the family's class loads the recorded member


def test_pretrained_weights_are_loaded_at_the_start_of_a_fit_unless_a_checkpoint_was_restored(tmp_path,
                                                                                            monkeypatch):
    """The named step runs once, when a Trainer starts a run from scratch; never when it restores a checkpoint."""
    calls = []
    monkeypatch.setattr(zoo.LeNet, "_load_pretrained", lambda self: calls.append("loaded"))
    model, batch = EXAMPLES["LeNet"]()
    trainer = L.Trainer(max_steps=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        accelerator="cpu", default_root_dir=tmp_path)
    trainer.fit(model, DataLoader([batch], batch_size=None))
    assert calls == ["loaded"]
    path = tmp_path / "one.ckpt"
    trainer.save_checkpoint(path)
    resumed, _ = EXAMPLES["LeNet"]()
    L.Trainer(max_steps=2, logger=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
              default_root_dir=tmp_path).fit(resumed, DataLoader([batch], batch_size=None), ckpt_path=path)
    assert calls == ["loaded"]


# ------------------------------------------------------------------ the command line's help
def test_help_lists_every_command_by_group(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    for name in COMMANDS:
        assert re.search(rf"^  {re.escape(name)} ", out, re.MULTILINE), name
    for group in ("train:", "use a checkpoint:", "book demos and studies:", "maintenance:"):
        assert group in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_exits_0(name, capsys):
    try:
        main([name, "--help"])
        code = 0
    except SystemExit as exc:
        code = exc.code
    assert code in (0, None), f"{name} --help exited {code}"
    assert capsys.readouterr().out.strip()


def test_recipe_help_shows_the_recipes_values_and_the_books_result(capsys):
    with pytest.raises(SystemExit) as done:
        main(["recipe", "gru_lyrics", "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "1.018370" in out  # the book's printed perplexity, from the recipe's header
    assert "class_path: zoo.GRULanguageModel" in out and "hidden_size: 256" in out and "lr: 0.01" in out
    assert "max_epochs: 160" in out and len(out.splitlines()) < 120
    assert "--print_config" in out


def test_a_word_vector_query_on_a_checkpoint_imports_neither_lightning_nor_a_model():
    """What keeps ``similar --ckpt`` quick: the vectors are read from the file, no model is built."""
    code = ("import sys; from zoo.cli.main import main\n"
            "try:\n    main(['similar', '--ckpt', sys.argv[1], 'w1'])\nexcept SystemExit as exc:\n    code = exc.code\n"
            "print('exit', code, 'lightning' in sys.modules, 'zoo.word2vec' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(FIXTURES / "previous_main_skipgram.ckpt")], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == "exit 0 False False", out.stdout + out.stderr
