"""Every command that writes a file checks the path it is given once, the same way (`zoo.files.check_output_file`,
and `zoo.runtime.plots.save_figure` for figures): a folder, a path through a file, a folder that cannot be written
(a read-only file system) or a suffix the writer cannot produce end in one line ``error: ...`` and exit status 1,
before any work and without a traceback; a figure is written in the format its suffix names; and ``export`` never
writes its file over the checkpoint it reads, by name or through a link."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import zoo.files
from tests.examples import one_step_checkpoint
from tests.house_fakes import write_house_csvs
from zoo.cli import main
from zoo.errors import ConfigError


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["zoo"])


def run(argv: list[str], capsys) -> tuple[int, str]:
    """Exit status and the last line of stderr of ``python -m zoo ARGV`` in-process; no traceback allowed."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err[-3000:]
    lines = [line for line in captured.err.splitlines() if line.strip()]
    return info.value.code, lines[-1] if lines else ""


def one_error(argv: list[str], capsys) -> str:
    code, last = run(argv, capsys)
    assert code == 1 and last.startswith("error: "), last
    return last


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("img") / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def attention_ckpt(tmp_path_factory) -> Path:
    """A Seq2SeqAttention checkpoint after one training step."""
    return one_step_checkpoint("Seq2SeqAttention", tmp_path_factory.mktemp("s2s") / "s2s.ckpt")


def commands(image: Path, tmp_path: Path) -> dict[str, tuple[list[str], str, str]]:
    """command -> (its arguments before the output flag, the flag, a file name it may write)."""
    house = write_house_csvs(tmp_path / "house")
    return {
        "activations": (["activations"], "--out", "a.png"),
        "anchors": (["anchors", "--image", str(image)], "--out", "a.png"),
        "detect-demo": (["detect-demo"], "--out", "d.png"),  # the shipped scene
        "augment-grid": (["augment-grid", "--cols", "2", "--size", "16", str(image)], "--out", "g.png"),
        "house-prices --out": (["house-prices", "--data-dir", str(house), "--k", "2", "--epochs", "1"], "--out",
                               "s.csv"),
        "house-prices --plot": (["house-prices", "--data-dir", str(house), "--k", "2", "--epochs", "1", "--out",
                                 str(tmp_path / "sub.csv")], "--plot", "p.png"),
        "layers-study": (["layers-study", "--steps-scale", "0.001"], "--out-dir", "figures"),
        "translator-study": (["translator-study", "--steps", "1"], "--out", "t.png"),
        "trajectory": (["trajectory", "--steps", "2"], "--out", "t.png"),
    }


NAMES = ["activations", "anchors", "detect-demo", "augment-grid", "house-prices --out", "house-prices --plot",
         "layers-study", "translator-study", "trajectory"]


@pytest.mark.parametrize("name", NAMES)
def test_an_output_path_that_is_a_folder_or_runs_through_a_file_is_one_line(name, image, tmp_path, capsys):
    args, flag, _ = commands(image, tmp_path)[name]
    folder = tmp_path / "a folder"
    folder.mkdir()
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    if flag != "--out-dir":  # a folder is what --out-dir wants
        assert "is a folder; give the file to write" in one_error([*args, flag, str(folder)], capsys)
    through = afile / ("x.png" if flag != "--out-dir" else "figures")
    assert f"runs through the file {afile}, not a folder" in one_error([*args, flag, str(through)], capsys)
    assert afile.read_text() == "keep me" and not any(folder.iterdir())


@pytest.mark.parametrize("name", NAMES)
def test_a_read_only_file_system_is_one_line(name, image, tmp_path, monkeypatch, capsys):
    """A folder where no file can be created (simulated: creating the temporary file fails with EROFS)."""
    args, flag, filename = commands(image, tmp_path)[name]

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(zoo.files.tempfile, "mkstemp", read_only)
    out = tmp_path / "ro" / filename
    error = one_error([*args, flag, str(out)], capsys)
    assert "cannot write" in error and "Read-only file system" in error
    assert not (tmp_path / "ro").exists() or not any((tmp_path / "ro").rglob("*.png"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into folders without write permission")
def test_a_folder_without_write_permission_is_refused_before_any_work(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    assert "cannot write in" in one_error(["activations", "--out", str(locked / "a.png")], capsys)


def test_missing_folders_of_an_output_path_are_created(image, tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "a.png"
    code, _ = run(["anchors", "--image", str(image), "--out", str(out)], capsys)
    assert code == 0 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == ["a.png"]  # no temporary file left


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".jpg", b"\xff\xd8\xff"),
                                               (".jpeg", b"\xff\xd8\xff"), (".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_a_figure_is_written_in_the_format_its_suffix_names(suffix, magic, image, tmp_path, capsys):
    out = tmp_path / f"anchors{suffix}"
    code, _ = run(["anchors", "--image", str(image), "--out", str(out)], capsys)
    assert code == 0 and out.read_bytes().startswith(magic)


def test_a_suffix_no_writer_produces_is_refused(image, tmp_path, capsys):
    out = tmp_path / "anchors.bmp"
    error = one_error(["anchors", "--image", str(image), "--out", str(out)], capsys)
    assert "cannot write a '.bmp' file" in error and ".png, .jpg, .jpeg, .pdf, .svg" in error
    assert not out.exists()
    grid = tmp_path / "grid.pdf"
    assert "cannot write a '.pdf' file" in one_error(["augment-grid", "--cols", "2", "--out", str(grid), str(image)],
                                                     capsys)


def test_anchors_never_writes_over_its_input_image(image, tmp_path, capsys):
    copy = tmp_path / "photo.png"
    copy.write_bytes(image.read_bytes())
    assert "is the input file" in one_error(["anchors", "--image", str(copy), "--out", str(copy)], capsys)
    assert copy.read_bytes() == image.read_bytes()


@pytest.mark.parametrize("kind", ["folder", "through a file", "impossible"])
def test_translate_attention_png_that_cannot_be_written_is_one_line(kind, attention_ckpt, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    target = {"folder": tmp_path, "through a file": afile / "att.png", "impossible": Path("/proc/zoo/att.png")}[kind]
    error = one_error(["translate", "--ckpt", str(attention_ckpt), "--attention-png", str(target), "a b c"], capsys)
    assert error.startswith("error: --attention-png ")


def test_translate_attention_png_is_written(attention_ckpt, tmp_path, capsys):
    out = tmp_path / "att" / "weights.svg"
    code, _ = run(["translate", "--ckpt", str(attention_ckpt), "--attention-png", str(out), "a b c"], capsys)
    assert code == 0 and out.read_bytes().startswith(b"<?xml")


# ------------------------------------------------------------------ export never replaces its checkpoint
@pytest.fixture
def lenet_ckpt(tmp_path) -> Path:
    return one_step_checkpoint("LeNet", tmp_path / "a.ckpt")


@pytest.mark.parametrize("how", ["the same name", "a symbolic link", "a hard link"])
def test_export_refuses_to_write_over_its_checkpoint_even_with_force(how, lenet_ckpt, tmp_path, capsys):
    before = lenet_ckpt.read_bytes()
    out = lenet_ckpt
    if how == "a symbolic link":
        out = tmp_path / "link.onnx"
        out.symlink_to(lenet_ckpt)
    elif how == "a hard link":
        out = tmp_path / "hard.onnx"
        os.link(lenet_ckpt, out)
    for fmt in ("onnx", "torchscript"):
        error = one_error(["export", "--ckpt", str(lenet_ckpt), "--format", fmt, "--out", str(out), "--force"], capsys)
        assert "is the input file" in error
    assert lenet_ckpt.read_bytes() == before
    assert torch.load(lenet_ckpt, weights_only=True)["state_dict"]  # still the checkpoint


def test_export_model_refuses_its_input_too(lenet_ckpt):
    from zoo.commands.graph_export import export_model
    from zoo.models import load_task

    with pytest.raises(ConfigError, match="is the input file"):
        export_model(load_task(lenet_ckpt), "onnx", lenet_ckpt, force=True, inputs=[lenet_ckpt])


# ------------------------------------------------------------------ the shared check itself
def test_check_output_file_in_one_place(tmp_path):
    from zoo.files import check_output_file

    (tmp_path / "f").write_text("x")
    assert check_output_file(tmp_path / "new" / "a.png", (".png",)) == tmp_path / "new" / "a.png"
    for bad, message in [("", "is empty"), (tmp_path, "is a folder"), (tmp_path / "f" / "a.png", "runs through"),
                         (tmp_path / "a.gif", "cannot write a '.gif' file")]:
        with pytest.raises(ConfigError, match=message):
            check_output_file(bad, (".png",), flag="--out")
    with pytest.raises(ConfigError, match="exists; pass --force"):
        check_output_file(tmp_path / "f", replace=False)


def test_save_figure_writes_atomically_and_closes_the_figure(tmp_path):
    from matplotlib.figure import Figure

    from zoo.runtime.plots import save_figure

    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])
    path = save_figure(fig, tmp_path / "curve.pdf")
    assert path.read_bytes().startswith(b"%PDF") and [p.name for p in tmp_path.iterdir()] == ["curve.pdf"]
    assert not fig.axes  # closed: nothing left to draw
