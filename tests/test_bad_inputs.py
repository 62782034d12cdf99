"""Bad input of every kind ends in one line, ``error: ...``, and a non-zero exit status, never a traceback.

Each case runs the command line in-process (`zoo.cli.main`), as ``python -m zoo`` would, and checks the message and
the exit status; a few run ``python -m zoo`` itself. Grouped as: arguments (datamodules, models, commands), YAML
files, the cache folder (a file, read-only, a full disk, permissions), and corrupt data files of every datamodule.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import pickle
import stat
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import datamodules
import datamodules.download as download
import datamodules.jaychou_lyrics as lyrics
from datamodules.cache import load_cached
from datamodules.download import Resource, fetch
from tests import vision_fakes
from tests.conftest import REPO
from tests.examples import EXAMPLES
from tests.fakes import point_resource_at, write_lyrics_zip
from tests.regression_fakes import airfoil_rows, write_airfoil
from tests.text_fakes import install_fr_en, install_ptb
from zoo.cli import main
from zoo.errors import ConfigError, DataError
from zoo.validation import RULES

LYRICS_ARGS = ["--trainer.max_epochs=1", "--trainer.enable_progress_bar=false", "--model.init_args.hidden_size=8"]


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["zoo"])  # LightningCLI warns when both argv and args are given


def run_main(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """Exit status and the one ``error: ...`` line of ``python -m zoo ARGV`` run in-process (asserted to be one line,
    the last one, with no traceback)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert "Traceback" not in captured.err
    assert len(errors) == 1 and lines[-1] == errors[0], captured.err[-2000:]
    assert "Trainable params" not in captured.out  # refused before the model summary
    return info.value.code, errors[0]


@pytest.fixture
def lyrics_data(tmp_path, monkeypatch) -> Path:
    """Fake Jay Chou lyrics in the cache folder (``$ZOO_DATA_DIR``), accepted by checksum."""
    path = Path(os.environ["ZOO_DATA_DIR"]) / lyrics.JAYCHOU_LYRICS.filename
    write_lyrics_zip(path)
    point_resource_at(monkeypatch, lyrics, "JAYCHOU_LYRICS", path)
    return path


# ====================================================================== arguments
@pytest.mark.parametrize("flag, value, message", [
    ("--data.init_args.batch_size", "0", "JayChouLyricsDataModule: batch_size must be >= 1, got 0"),  # ZeroDivision
    ("--data.init_args.batch_size", "-3", "JayChouLyricsDataModule: batch_size must be >= 1, got -3"),
    ("--data.init_args.num_steps", "0", "JayChouLyricsDataModule: num_steps must be >= 1, got 0"),
    ("--data.init_args.num_steps", "100000", "too short for batch_size=32 and num_steps=100000"),
    ("--model.init_args.lr", "-1", "GRULanguageModel: lr must be > 0, got -1.0"),
    ("--model.init_args.lr", "0", "GRULanguageModel: lr must be > 0, got 0.0"),
    ("--model.init_args.lr", ".nan", "GRULanguageModel: lr must be a finite number (> 0), got nan"),
    ("--model.init_args.lr", ".inf", "GRULanguageModel: lr must be a finite number (> 0), got inf"),
    ("--model.init_args.hidden_size", "-1", "GRULanguageModel: hidden_size must be >= 1, got -1"),
    ("--model.init_args.dropout", "1.5", "GRULanguageModel: dropout must be in [0, 1), got 1.5"),
    ("--model.init_args.clipping_theta", "-1", "GRULanguageModel: clipping_theta must be > 0, got -1.0"),
    ("--model.init_args.temperature", ".nan", "GRULanguageModel: temperature must be a finite number (>= 0), got nan"),
])
def test_a_bad_recipe_argument_is_one_line_before_the_model_is_built(flag, value, message, lyrics_data, tmp_path,
                                                                    capsys):
    code, error = run_main(["recipe", "gru_lyrics", *LYRICS_ARGS, f"--trainer.default_root_dir={tmp_path / 'runs'}",
                            flag, value], capsys)
    assert code == 1 and message in error
    assert len(error) < 300  # not the whole vocabulary (hidden_size -1 printed all 1,027 characters)


def test_batch_size_zero_through_python_m_zoo():
    """`recipe gru_lyrics --data.init_args.batch_size 0` in a process: once a ZeroDivisionError traceback."""
    out = subprocess.run([sys.executable, "-m", "zoo", "recipe", "gru_lyrics", "--data.init_args.batch_size", "0"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == ("error: JayChouLyricsDataModule: batch_size must be >= 1, got 0")
    assert "Traceback" not in out.stderr


def _datamodule_kwargs(name: str, tmp_path: Path) -> dict:
    return {"data_dir": str(tmp_path)} if name == "ParallelTextDataModule" else {}


@pytest.mark.parametrize("name", sorted(datamodules.DATAMODULES))
@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "8"])
def test_every_datamodule_refuses_a_batch_size_below_one(name, batch_size, tmp_path):
    cls = getattr(datamodules, name)
    with pytest.raises(ConfigError, match=rf"^{name}: batch_size must be "):
        cls(batch_size=batch_size, **_datamodule_kwargs(name, tmp_path))


def _negative(value):
    """-1 in place of a number, or of every number of a (nested) list; ``None`` for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return -1
    if isinstance(value, (list, tuple)) and value and all(_negative(v) is not None for v in value):
        return [_negative(v) for v in value]
    return None


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_architecture_refuses_a_bad_lr_and_bad_sizes_before_building(name):
    """Every hyperparameter `RULES` knows, set to -1 (or nan, inf, 0 for lr), is refused by name."""
    model, _ = EXAMPLES[name]()
    cls, hparams = type(model), dict(model.hparams)
    for bad in (-1.0, 0.0, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match=rf"{cls.__name__}: lr must be"):
            cls(**{**hparams, "lr": bad})
    checked = {key: _negative(value) for key, value in hparams.items() if key in RULES}
    checked = {key: bad for key, bad in checked.items() if bad is not None}
    assert any(isinstance(hparams[k], (int, list, tuple)) for k in checked), f"{name}: no size argument checked"
    for key, bad in checked.items():
        with pytest.raises(ConfigError) as info:
            cls(**{**hparams, key: bad})
        assert key in str(info.value), str(info.value)


@pytest.mark.parametrize("argv, message", [
    (["generate", "--temperature", "nan"], "--temperature must be a finite number (>= 0), got nan"),
    (["generate", "--temperature", "inf"], "--temperature must be a finite number (>= 0), got inf"),
    (["generate", "--temperature", "-1"], "--temperature must be >= 0, got -1.0"),
    (["generate", "--length", "-5"], "--length must be >= 1, got -5"),
    (["generate", "--length", "0"], "--length must be >= 1, got 0"),
    (["classify", "--top-k", "0", "a.png"], "--top-k must be >= 1, got 0"),
    (["classify", "--batch-size", "0", "a.png"], "--batch-size must be >= 1, got 0"),
    (["classify-text", "--top-k", "-2", "nice"], "--top-k must be >= 1, got -2"),
    (["translate", "--beam-size", "0", "ils regardent ."], "--beam-size must be >= 1, got 0"),
])
def test_a_bad_command_argument_is_refused_before_the_checkpoint_is_read(argv, message, tmp_path, capsys):
    missing = str(tmp_path / "none.ckpt")  # never read: the argument is checked first
    code, error = run_main([argv[0], "--ckpt", missing, *argv[1:]], capsys)
    assert code == 1 and error == f"error: {message}"


@pytest.mark.parametrize("argv, message", [
    (["similar", "--vectors", "glove.6B.50d", "-k", "0", "chip"], "-k must be >= 1, got 0"),
    (["analogy", "--vectors", "glove.6B.50d", "-k", "-1", "a", "b", "c"], "-k must be >= 1, got -1"),
    (["augment-grid", "--cols", "1"], "--cols must be >= 2 (the original + augmented versions), got 1"),
    (["augment-grid", "--rows", "0"], "--rows must be >= 1, got 0"),
])
def test_a_bad_count_of_the_other_commands_is_refused(argv, message, capsys):
    code, error = run_main(argv, capsys)
    assert code == 1 and error == f"error: {message}"


def test_generate_length_minus_five_exits_nonzero_as_a_process(tmp_path):
    """The issue's command: it printed the prefix and exited 0."""
    out = subprocess.run([sys.executable, "-m", "zoo", "generate", "--ckpt", str(tmp_path / "x.ckpt"), "--length",
                          "-5"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip() == "error: --length must be >= 1, got -5"


# ====================================================================== YAML files
BAD_YAML = "model:\n  class_path: zoo.GRULanguageModel\n  init_args:\n    hidden_size: [1, 2\n"


def test_a_config_file_with_a_yaml_error_names_the_file_and_the_line(tmp_path, capsys):
    path = tmp_path / "my config.yaml"
    path.write_text(BAD_YAML, encoding="utf-8")
    code, error = run_main(["fit", "--config", str(path)], capsys)
    assert code == 1
    assert error.startswith(f"error: {path}, line 5, column 1: ") and "line 4, column 18" in error
    assert "<unicode string>" not in error
    code, error = run_main(["fit", f"--config={path}"], capsys)
    assert code == 1 and str(path) in error


def test_a_recipe_with_a_yaml_error_names_the_file_and_the_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("seed_everything: 0\nmodel:\n  class_path: zoo.LeNet\n   init_args: {}\n", encoding="utf-8")
    code, error = run_main(["recipe", str(path)], capsys)
    assert code == 1 and error.startswith(f"error: {path}, line 4, column ")


# ====================================================================== the cache folder
def test_zoo_data_dir_naming_a_file(tmp_path, monkeypatch, capsys):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    monkeypatch.setenv("ZOO_DATA_DIR", str(afile))
    code, error = run_main(["recipe", "gru_lyrics", *LYRICS_ARGS], capsys)
    assert code == 1 and error == (f"error: ZOO_DATA_DIR={afile} names a file, not a folder: point ZOO_DATA_DIR (or "
                                   "the datamodule's data_dir) at a folder; it is created if missing")
    monkeypatch.setenv("ZOO_DATA_DIR", str(afile / "sub"))
    code, error = run_main(["recipe", "gru_lyrics", *LYRICS_ARGS], capsys)
    assert code == 1 and f"runs through the file {afile}, not a folder" in error
    assert afile.read_text() == "not a folder"


@pytest.fixture
def mirror(tmp_path, monkeypatch) -> Path:
    """A mirror folder holding fake lyrics (accepted by checksum), and an empty cache that already holds another
    dataset's file, to show that a failure loses nothing."""
    folder = tmp_path / "mirror"
    write_lyrics_zip(folder / lyrics.JAYCHOU_LYRICS.filename)
    point_resource_at(monkeypatch, lyrics, "JAYCHOU_LYRICS", folder / lyrics.JAYCHOU_LYRICS.filename)
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(folder))
    cache = Path(os.environ["ZOO_DATA_DIR"])
    cache.mkdir(parents=True)
    (cache / "airfoil_self_noise.dat").write_bytes(b"1\t2\t3\t4\t5\t6\r\n")
    return folder


def _cache_is_untouched() -> None:
    cache = Path(os.environ["ZOO_DATA_DIR"])
    assert sorted(p.name for p in cache.iterdir()) == ["airfoil_self_noise.dat"]  # no .part file, nothing lost
    assert (cache / "airfoil_self_noise.dat").read_bytes() == b"1\t2\t3\t4\t5\t6\r\n"


def test_a_full_disk_says_so_with_the_folder_and_the_size(mirror, monkeypatch, capsys):
    def full_disk(reader, tmp):
        tmp.write_bytes(reader.read(100))  # part of the file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download, "_write_all", full_disk)
    size = (mirror / lyrics.JAYCHOU_LYRICS.filename).stat().st_size
    code, error = run_main(["recipe", "gru_lyrics", *LYRICS_ARGS], capsys)
    cache = os.environ["ZOO_DATA_DIR"]
    assert code == 1
    assert error.startswith(f"error: no space left on device at {cache} while writing jaychou_lyrics.txt.zip: free "
                            f"{size / 1e6:.3f} MB needed (")
    assert "MB are free), or set ZOO_DATA_DIR" in error and "cannot obtain" not in error
    _cache_is_untouched()


def test_a_read_only_cache_folder_says_so(mirror, monkeypatch, capsys):
    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(download.tempfile, "mkstemp", read_only)
    code, error = run_main(["recipe", "gru_lyrics", *LYRICS_ARGS], capsys)
    cache = os.environ["ZOO_DATA_DIR"]
    assert code == 1 and error.startswith(f"error: cannot write jaychou_lyrics.txt.zip to {cache} (Permission "
                                          "denied): make the folder writable or set ZOO_DATA_DIR")
    _cache_is_untouched()


def test_a_read_only_cache_that_holds_the_file_is_only_read(tmp_path, monkeypatch):
    data = b"cached bytes"
    (tmp_path / "f.bin").write_bytes(data)
    resource = Resource("f.bin", (), __import__("hashlib").sha1(data).hexdigest())
    monkeypatch.setattr(download.tempfile, "mkstemp", lambda *a, **k: pytest.fail("nothing is written"))
    assert fetch(resource, tmp_path).read_bytes() == data


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the mkstemp test above covers it")
def test_a_really_read_only_cache_folder(mirror, capsys):
    cache = Path(os.environ["ZOO_DATA_DIR"])
    cache.chmod(0o555)
    try:
        code, error = run_main(["recipe", "gru_lyrics", *LYRICS_ARGS], capsys)
    finally:
        cache.chmod(0o755)
    assert code == 1 and f"cannot write jaychou_lyrics.txt.zip to {cache}" in error
    _cache_is_untouched()


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_cached_files_get_the_users_normal_permissions(umask, mode, tmp_path, monkeypatch):
    source = tmp_path / "mirror" / "f.bin"
    source.parent.mkdir()
    source.write_bytes(b"shared data")
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(source.parent))
    old = os.umask(umask)
    try:
        path = fetch(Resource("f.bin", (), __import__("hashlib").sha1(b"shared data").hexdigest()), tmp_path / "c")
        derived = tmp_path / "c" / "derived.pt"
        load_cached(derived, [path], lambda: {"x": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert stat.S_IMODE(derived.stat().st_mode) == mode


def test_a_checksum_mismatch_is_reported_once_and_the_cache_keeps_its_files(mirror, tmp_path):
    """A mirror serving wrong bytes (the real checksum): one message, which says the temporary copy was not kept."""
    env = {**os.environ, "ZOO_DATA_MIRROR": str(mirror)}  # the fakes' checksum patch does not reach a subprocess
    out = subprocess.run([sys.executable, "-m", "zoo", "recipe", "gru_lyrics"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.count("checksum mismatch for jaychou_lyrics.txt.zip") == 1
    assert "bad copy was deleted" not in out.stderr and "that copy was not kept" in out.stderr
    _cache_is_untouched()


def _break_deflate(path: Path, member: str) -> None:
    """Flip bytes in the middle of ``member``'s compressed data (the zip's directory and CRC stay as they were)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + info.compress_size // 3, start + info.compress_size // 3 + 40):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def test_a_zip_with_a_broken_deflate_stream_under_verify_checksums_0(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "mirror"
    path = folder / lyrics.JAYCHOU_LYRICS.filename
    path.parent.mkdir()
    text = "".join(chr(0x4E00 + (i * 7919) % 2000) for i in range(20_000)) + "\n"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("jaychou_lyrics.txt", text.encode("utf-8"))
    _break_deflate(path, "jaychou_lyrics.txt")
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(folder))
    monkeypatch.setenv("ZOO_VERIFY_CHECKSUMS", "0")
    code, error = run_main(["recipe", "gru_lyrics", *LYRICS_ARGS], capsys)
    cached = Path(os.environ["ZOO_DATA_DIR"]) / lyrics.JAYCHOU_LYRICS.filename
    assert code == 1
    assert error.startswith(f"error: {cached} is unreadable: the compressed data of jaychou_lyrics.txt is corrupt "
                            "(zlib: Error -3 while decompressing data: ")
    assert error.endswith("); delete it and run again")
    with pytest.raises(DataError, match="is not a readable archive \\(zlib: "):
        download.extract(path, tmp_path / "out")
    assert not any((tmp_path / "out").iterdir())


# ====================================================================== corrupt data files
def test_an_idx_header_that_lies_about_its_size(tmp_path, monkeypatch, capsys):
    root = tmp_path / "data"
    vision_fakes.install_fashion_mnist(root, monkeypatch)
    raw = root / "FashionMNIST" / "raw"
    images = raw / "train-images-idx3-ubyte"
    body = gzip.decompress((raw / "train-images-idx3-ubyte.gz").read_bytes())
    images.write_bytes(struct.pack(">IIII", 2051, 100, 28, 28) + body[16:])  # says 100 images, holds 16
    code, error = run_main(["recipe", "lenet_fashion_mnist", f"--data.init_args.data_dir={root}",
                            "--trainer.max_epochs=1", f"--trainer.default_root_dir={tmp_path / 'runs'}"], capsys)
    assert code == 1 and error == (f"error: {images}: its IDX header promises 100 x 28 x 28 images (78,416 bytes "
                                   "with the header), but the file has 12,560 bytes; it is corrupt or cut short. "
                                   "Delete it and run again: it is unpacked again from the verified download")


def test_a_truncated_gzip(tmp_path, monkeypatch, capsys):
    """Cut in the middle, served by a mirror under ZOO_VERIFY_CHECKSUMS=0 (a verified download cannot be cut)."""
    mirror = tmp_path / "mirror"
    vision_fakes.write_fashion_mnist_gz(mirror, vision_fakes.fashion_mnist_arrays())
    gz = mirror / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ZOO_VERIFY_CHECKSUMS", "0")
    root = tmp_path / "data"
    code, error = run_main(["recipe", "lenet_fashion_mnist", f"--data.init_args.data_dir={root}",
                            "--trainer.max_epochs=1", f"--trainer.default_root_dir={tmp_path / 'runs'}"], capsys)
    cached = root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz"
    unchecked = f"error: {cached} was used without a checksum check (ZOO_VERIFY_CHECKSUMS=0; "
    assert code == 1 and error.startswith(unchecked)
    assert "passed" not in error and "but cannot be unpacked (EOFError: " in error
    assert error.endswith("it is truncated or not gzip: delete it and run again")
    assert not (root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").exists()  # no half-unpacked file


def _install_cifar_with(root: Path, monkeypatch: pytest.MonkeyPatch, batch: bytes) -> None:
    """The fake CIFAR-10 archive with ``data_batch_1`` replaced by ``batch``, accepted by md5 (as if it were real)."""
    files = vision_fakes.cifar10_files(vision_fakes.cifar10_arrays())
    files["data_batch_1"] = batch
    archive = vision_fakes.cifar10_tar_gz(files)
    root.mkdir(parents=True, exist_ok=True)
    (root / "cifar-10-python.tar.gz").write_bytes(archive)
    vision_fakes.accept_cifar10(monkeypatch, files, archive)


def _cifar_run(root: Path, tmp_path: Path, capsys) -> tuple[int, str]:
    return run_main(["recipe", "resnet18_cifar10", f"--data.init_args.data_dir={root}", "--data.init_args.val_size=0",
                     "--trainer.max_epochs=1", f"--trainer.default_root_dir={tmp_path / 'runs'}"], capsys)


@pytest.mark.parametrize("batch, detail", [
    (b"not a pickle", "is not a CIFAR-10 batch file (a pickled dict of images and labels): UnpicklingError: "),
    (pickle.dumps([1, 2, 3], protocol=2), "is not a CIFAR-10 batch: expected a dict with 'data' and 'labels', got a "
                                          "list."),
    (pickle.dumps({"data": np.zeros((4, 100), np.uint8), "labels": [0] * 4}, protocol=2),
     "is not a CIFAR-10 batch: 'data' must be uint8 (N, 3072), got uint8 (4, 100)."),
    (pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 12]}, protocol=2),
     "is not a CIFAR-10 batch: 'labels' must be a list of 2 integers in 0..9."),
])
def test_a_cifar_batch_that_is_not_the_expected_pickle(batch, detail, tmp_path, monkeypatch, capsys):
    root = tmp_path / "data"
    _install_cifar_with(root, monkeypatch, batch)
    code, error = _cifar_run(root, tmp_path, capsys)
    assert code == 1 and error.startswith(f"error: {root / 'cifar-10-batches-py' / 'data_batch_1'} {detail}")


class _Exploit:
    """Unpickling this calls ``os.mkdir(marker)``: a stand-in for any code a crafted pickle could run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def test_a_crafted_cifar_batch_cannot_run_code(tmp_path, monkeypatch, capsys):
    crafted = pickle.dumps({"data": _Exploit(tmp_path / "pwned"), "labels": [0]}, protocol=2)
    pickle.loads(pickle.dumps({"data": _Exploit(tmp_path / "plain-pickle-ran-it")}, protocol=2))
    assert (tmp_path / "plain-pickle-ran-it").is_dir()  # the payload works: a plain pickle.load runs it
    root = tmp_path / "data"
    _install_cifar_with(root, monkeypatch, crafted)
    code, error = _cifar_run(root, tmp_path, capsys)
    assert code == 1 and "data_batch_1 is not a CIFAR-10 batch file" in error
    assert "it names posix.mkdir, which a CIFAR-10 batch never holds; refused without running it" in error
    assert not (tmp_path / "pwned").exists()


def test_a_malformed_airfoil_row(tmp_path, monkeypatch, capsys):
    import datamodules.airfoil as airfoil

    rows = airfoil_rows(1503)
    path = write_airfoil(tmp_path / "data" / airfoil.AIRFOIL.filename, rows)
    text = path.read_bytes().decode("ascii").split("\r\n")
    for line_no, bad in ((7, "800\t0\t0.3048\t71.3"), (9, "800\t0\t0.3048\t71.3\tabc\t126.2")):
        lines = list(text)
        lines[line_no - 1] = bad
        path.write_bytes("\r\n".join(lines).encode("ascii"))
        point_resource_at(monkeypatch, airfoil, "AIRFOIL", path)
        code, error = run_main(["recipe", "linreg_sgd_torch_bs10_airfoil", f"--data.init_args.data_dir={path.parent}",
                                "--trainer.max_epochs=1", f"--trainer.default_root_dir={tmp_path / 'runs'}"], capsys)
        assert code == 1 and error == (f"error: {path}, line {line_no}: expected 6 tab-separated numbers, got "
                                       f"{bad!r}; is it the airfoil self-noise file?")


GBK = "分开不分开".encode("gbk") * 20  # Chinese text in GBK, not UTF-8: the first byte 0xb7 cannot start a character


def test_non_utf8_lyrics(tmp_path, monkeypatch, capsys):
    path = tmp_path / "data" / lyrics.JAYCHOU_LYRICS.filename
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("jaychou_lyrics.txt", GBK)
    point_resource_at(monkeypatch, lyrics, "JAYCHOU_LYRICS", path)
    code, error = run_main(["recipe", "gru_lyrics", *LYRICS_ARGS, f"--data.init_args.data_dir={path.parent}"], capsys)
    assert code == 1 and error == (f"error: jaychou_lyrics.txt in {path} is not UTF-8 text (byte 0xb7 at offset 0 "
                                   "cannot be decoded); is it the right file? Delete it and run again")


def test_non_utf8_ptb(tmp_path, monkeypatch, capsys):
    import datamodules.ptb as ptb

    root = tmp_path / "data"
    install_ptb(root, monkeypatch)
    path = root / ptb.PTB.filename
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["ptb/ptb.train.txt"] += " \u00e9t\u00e9 \n".encode("latin-1")  # Latin-1, not UTF-8
    offset = members["ptb/ptb.train.txt"].index(b"\xe9")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    point_resource_at(monkeypatch, ptb, "PTB", path)
    code, error = run_main(["recipe", "skipgram_ptb", f"--data.init_args.data_dir={root}", "--trainer.max_epochs=1",
                            f"--trainer.default_root_dir={tmp_path / 'runs'}"], capsys)
    assert code == 1 and error == (f"error: ptb/ptb.train.txt in {path} is not UTF-8 text (byte 0xe9 at offset "
                                   f"{offset:,} cannot be decoded); is it the right file? Delete it and run again")


def test_non_utf8_fr_en(tmp_path, monkeypatch, capsys):
    import datamodules.fra_eng as fra_eng

    root = tmp_path / "data"
    install_fr_en(root, monkeypatch)
    path = root / fra_eng.FR_EN_SMALL.filename
    path.write_bytes(path.read_bytes() + "il a \u00e9t\u00e9 l\u00e0 .\the was there .\n".encode("latin-1"))
    point_resource_at(monkeypatch, fra_eng, "FR_EN_SMALL", path)
    offset = path.read_bytes().index(b"\xe9")
    code, error = run_main(["recipe", "seq2seq_fr_en", f"--data.init_args.data_dir={root}", "--trainer.max_epochs=1",
                            f"--trainer.default_root_dir={tmp_path / 'runs'}"], capsys)
    assert code == 1 and error == (f"error: {path} is not UTF-8 text (byte 0xe9 at offset {offset:,} cannot be "
                                   "decoded); is it the right file? Delete it and run again")


def _imdb_tar(path: Path, bad_review: bytes) -> Path:
    """The aclImdb layout with one positive training review that is not UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    reviews = {"train/pos/0_9.txt": b"a great movie", "train/pos/1_8.txt": bad_review,
               "train/neg/0_1.txt": b"a bad movie", "test/pos/0_9.txt": b"great", "test/neg/0_2.txt": b"bad"}
    with tarfile.open(path, "w:gz") as tar:
        for name, data in reviews.items():
            info = tarfile.TarInfo(f"aclImdb/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_non_utf8_imdb_review(tmp_path, monkeypatch, capsys):
    import datamodules.imdb as imdb

    root = tmp_path / "data"
    path = _imdb_tar(root / imdb.IMDB.filename, "un film tr\u00e8s bien".encode("latin-1"))
    point_resource_at(monkeypatch, imdb, "IMDB", path)
    code, error = run_main(["recipe", "birnn_imdb", f"--data.init_args.data_dir={root}", "--trainer.max_epochs=1",
                            f"--trainer.default_root_dir={tmp_path / 'runs'}"], capsys)
    review = root / "aclImdb" / "train" / "pos" / "1_8.txt"
    assert code == 1 and error == (f"error: the review {review} is not UTF-8 text (byte 0xe8 at offset 10 cannot be "
                                   "decoded); is it the right file? Delete it and run again")
