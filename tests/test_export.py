"""``python -m zoo export`` (zoo/io/graph_export.py): ONNX and TorchScript files of recipe-shaped checkpoints give the
PyTorch model's outputs to 1e-5 at other batch sizes (and sequence lengths) than the export's; errors are one line."""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

import pytest
import torch

from tests.examples import EXAMPLES, one_step_checkpoint
from tests.fakes import install
from zoo.cli import main, recipes, run_lightning_cli
from zoo.commands.graph_export import export_model, read_metadata
from zoo.models import load_task

ATOL = 1e-5


def _recipe_checkpoint(name: str, data_class: str, root: Path, *extra: str) -> Path:
    """One training step of recipe ``name`` on fake data, saved as a checkpoint (as a real run would write it)."""
    with pytest.MonkeyPatch.context() as mp:
        install(data_class, root / "data", mp)
        args = ["--config", str(recipes()[name]), "--trainer.max_epochs=1", "--trainer.limit_train_batches=1",
                "--trainer.limit_val_batches=0", "--trainer.logger=false", "--trainer.enable_progress_bar=false",
                "--trainer.enable_model_summary=false", "--trainer.accelerator=cpu",
                f"--trainer.default_root_dir={root}", f"--data.init_args.data_dir={root / 'data'}", *extra]
        with mock.patch.object(sys, "argv", ["zoo"]):
            cli = run_lightning_cli(args, run=False)
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
        path = root / f"{name}.ckpt"
        cli.trainer.save_checkpoint(path)
    return path


@pytest.fixture(scope="module")
def gru_ckpt(tmp_path_factory) -> Path:
    return _recipe_checkpoint("gru_lyrics", "JayChouLyricsDataModule", tmp_path_factory.mktemp("gru"),
                              "--model.init_args.pred_period=0")


@pytest.fixture(scope="module")
def lenet_ckpt(tmp_path_factory) -> Path:
    return _recipe_checkpoint("lenet_fashion_mnist", "FashionMNISTDataModule", tmp_path_factory.mktemp("lenet"),
                              "--data.init_args.batch_size=4")


def _export(ckpt: Path, fmt: str, out: Path, capsys, *extra: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(["export", "--ckpt", str(ckpt), "--format", fmt, "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert info.value.code == 0, captured.err
    assert out.is_file()
    return captured.out


def _lm_inputs(model, batch: int, steps: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, len(model.vocab), (batch, steps), generator=gen)
    state = torch.randn(1, batch, model.hparams.hidden_size, generator=gen) * 0.5
    return tokens, state


def _ort(path: Path):
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_gru_lyrics_onnx_matches_pytorch(gru_ckpt, tmp_path, capsys):
    out = _export(gru_ckpt, "onnx", tmp_path / "new" / "folder" / "gru.onnx", capsys)
    assert "checked: max |file - PyTorch|" in out and "input tokens" in out and "output h_n" in out
    model = load_task(gru_ckpt).eval()
    session = _ort(tmp_path / "new" / "folder" / "gru.onnx")
    assert [i.name for i in session.get_inputs()] == ["tokens", "h0"]
    for batch, steps in ((5, 9), (1, 1), (2, 35)):  # the export used batch 2, length 5
        tokens, state = _lm_inputs(model, batch, steps, seed=batch)
        logits, h_n = session.run(None, {"tokens": tokens.numpy(), "h0": state.numpy()})
        with torch.no_grad():
            expected_logits, expected_state = model(tokens, state)
        torch.testing.assert_close(torch.from_numpy(logits), expected_logits, atol=ATOL, rtol=0)
        torch.testing.assert_close(torch.from_numpy(h_n), expected_state, atol=ATOL, rtol=0)


def test_exported_language_model_generates_the_models_text(gru_ckpt, tmp_path, capsys):
    """Greedy generation through onnxruntime, feeding the state back, writes what ``model.generate`` writes."""
    _export(gru_ckpt, "onnx", tmp_path / "gru.onnx", capsys)
    model = load_task(gru_ckpt).eval()
    session = _ort(tmp_path / "gru.onnx")
    meta = read_metadata(tmp_path / "gru.onnx")
    vocab = meta["hparams"]["vocab"]
    assert vocab == model.vocab and meta["zoo_class"].endswith(":GRULanguageModel")
    ids = [vocab.index(ch) for ch in "分开"]
    state = torch.zeros(1, 1, model.hparams.hidden_size).numpy()
    logits, state = session.run(None, {"tokens": torch.tensor([ids]).numpy(), "h0": state})
    for _ in range(20):
        ids.append(int(logits[0, -1].argmax()))
        logits, state = session.run(None, {"tokens": torch.tensor([[ids[-1]]]).numpy(), "h0": state})
    assert "".join(vocab[i] for i in ids) == model.generate("分开", 20)


def test_gru_lyrics_torchscript_matches_pytorch(gru_ckpt, tmp_path, capsys):
    _export(gru_ckpt, "torchscript", tmp_path / "gru.pt", capsys)
    model = load_task(gru_ckpt).eval()
    loaded = torch.jit.load(str(tmp_path / "gru.pt"))
    tokens, state = _lm_inputs(model, 4, 11, seed=0)
    with torch.no_grad():
        logits, h_n = loaded(tokens, state)
        expected_logits, expected_state = model(tokens, state)
    torch.testing.assert_close(logits, expected_logits, atol=ATOL, rtol=0)
    torch.testing.assert_close(h_n, expected_state, atol=ATOL, rtol=0)
    assert read_metadata(tmp_path / "gru.pt")["inputs"]["h0"].startswith("float32 (1, batch, 256)")


def test_lenet_onnx_and_torchscript_match_pytorch(lenet_ckpt, tmp_path, capsys):
    _export(lenet_ckpt, "onnx", tmp_path / "lenet.onnx", capsys)
    _export(lenet_ckpt, "torchscript", tmp_path / "lenet.pt", capsys)
    model = load_task(lenet_ckpt).eval()
    images = torch.rand(7, 1, 28, 28, generator=torch.Generator().manual_seed(0))  # export used batch 2
    with torch.no_grad():
        expected = model(images)
    (logits,) = _ort(tmp_path / "lenet.onnx").run(None, {"images": images.numpy()})
    torch.testing.assert_close(torch.from_numpy(logits), expected, atol=ATOL, rtol=0)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(tmp_path / "lenet.pt"))(images), expected, atol=ATOL, rtol=0)
    meta = read_metadata(tmp_path / "lenet.onnx")
    assert meta["hparams"]["classes"] == model.hparams.classes and meta["hparams"]["preprocess"]


@pytest.mark.parametrize(("name", "impl"), [("LSTMLanguageModel", "fused"), ("LSTMLanguageModel", "scratch"),
                                          ("BiRNN", None), ("TextCNN", None), ("RowRNNClassifier", "scratch"),
                                          ("LinearRegression", None)])
def test_other_kinds_export_and_check(name, impl, tmp_path):
    """The other kinds of model, and the hand-written recurrent layers (exported as their fused twins): the written
    file is checked against the model itself inside export_model (atol 1e-5, other batch and length)."""
    pytest.importorskip("onnxruntime")
    model, _ = EXAMPLES[name]()
    if impl == "scratch":
        model = type(model)(**{**model.hparams, "impl": "scratch"})
    for fmt in ("onnx", "torchscript"):
        result = export_model(model, fmt, tmp_path / f"model.{fmt}")
        assert result.max_abs_diff is not None and result.max_abs_diff <= ATOL
        assert next(iter(result.checked_shapes.values()))[0] == 3  # the export traced batch 2


def _error(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(["export", *args])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


def test_errors_are_one_line(lenet_ckpt, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert "unknown export format 'tflite'; choose one of: onnx, torchscript" in _error(
        capsys, "--ckpt", str(lenet_ckpt), "--format", "tflite", "--out", str(out))
    assert "does not exist" in _error(capsys, "--ckpt", str(tmp_path / "missing.ckpt"), "--format", "onnx",
                                      "--out", str(out))
    skipgram = one_step_checkpoint("SkipGram", tmp_path / "SkipGram.ckpt")
    err = _error(capsys, "--ckpt", str(skipgram), "--format", "onnx", "--out", str(out))
    assert "SkipGram cannot be exported" in err and "language models" in err and "image classifiers" in err
    assert not out.exists()


def test_existing_file_is_kept_unless_force(lenet_ckpt, tmp_path, capsys):
    out = tmp_path / "lenet.pt"
    out.write_bytes(b"keep me")
    assert "exists; pass --force" in _error(capsys, "--ckpt", str(lenet_ckpt), "--format", "torchscript",
                                             "--out", str(out))
    assert out.read_bytes() == b"keep me"
    _export(lenet_ckpt, "torchscript", out, capsys, "--force")
    assert torch.jit.load(str(out))(torch.rand(1, 1, 28, 28)).shape == (1, 10)
    assert [p.name for p in tmp_path.iterdir()] == ["lenet.pt"]  # no temporary file left behind
