"""A run's folder is its own: two runs of one recipe started together get two ``version_N`` folders (reserved with one
``os.mkdir`` each), a run that does not train (``predict``) leaves no folder behind and touches no other run's, a
checkpoint resumes or evaluates only the model that wrote it (another class or other arguments are refused in one
line naming both), and a full disk under the run folder is one line naming it, never hidden by the attempt to save
``interrupted.ckpt`` after it, which never hides the error that stopped the run either."""

from __future__ import annotations

import errno
import sys
import threading
from pathlib import Path

import lightning as L
import pytest

from tests.fakes import install
from zoo.cli import main, recipes, run_lightning_cli
from zoo.errors import DataError
from zoo.runtime.loggers import run_loggers

TINY = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=3", "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false"]
AIRFOIL = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=10", "--trainer.enable_progress_bar=false",
           "--trainer.enable_model_summary=false"]
LYRICS = ["--trainer.max_epochs=1", "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
          "--model.init_args.hidden_size=8", "--model.init_args.pred_period=0", "--data.init_args.num_chars=3000",
          "--data.init_args.val_chars=0"]


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["zoo"])


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``python -m zoo ARGV`` run in-process (0 when it returns)."""
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error(argv: list[str], capsys) -> str:
    code, _, err = run(argv, capsys)
    assert "Traceback" not in err, err[-3000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and lines and lines[-1].startswith("error: "), err[-3000:]
    assert sum(line.startswith("error: ") for line in lines) == 1, err[-3000:]
    return lines[-1]


def versions(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


# ------------------------------------------------------------------ two runs started together
def test_two_runs_built_together_get_two_folders_and_keep_their_files_apart(tmp_path, monkeypatch):
    """Both runs are set up before either trains (as two processes started at the same moment are): each has its
    own folder, config.yaml and metrics.csv."""
    root = tmp_path / "runs"
    args = ["--config", str(recipes()["linreg_synthetic"]), f"--trainer.default_root_dir={root}", *TINY]
    first = run_lightning_cli(args, run=False)
    second = run_lightning_cli(args, run=False)
    assert first.trainer.logger.log_dir != second.trainer.logger.log_dir
    assert versions(root) == ["version_0", "version_1"]
    for cli in (first, second):
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    first_rows, second_rows = ((root / f / "metrics.csv").read_text().splitlines() for f in ("version_0", "version_1"))
    assert len(first_rows) == len(second_rows) == 3  # one epoch each: not the other run's rows interleaved
    assert first_rows[0] == second_rows[0] and "train/loss" in first_rows[0]


def test_the_run_folder_is_reserved_atomically(tmp_path):
    """Sixteen threads ask at once: sixteen different folders, every one created."""
    from zoo.runtime.loggers import reserve_run_folder

    root = tmp_path / "runs"
    got, barrier = [], threading.Barrier(16)

    def take() -> None:
        barrier.wait()
        got.append(reserve_run_folder(root))

    threads = [threading.Thread(target=take) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == list(range(16)) and versions(root) == sorted(f"version_{n}" for n in range(16))
    loggers = [run_loggers(["csv"], root)[0] for _ in range(2)]  # the loggers are told their folder
    assert [lg.version for lg in loggers] == [16, 17] and all(Path(lg.log_dir).is_dir() for lg in loggers)


def test_a_file_in_the_way_of_the_run_folder_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "runs"
    blocker.write_text("not a folder")
    error = one_error(["recipe", "linreg_synthetic", f"--trainer.default_root_dir={blocker}", *TINY], capsys)
    assert f"cannot create a run folder in {blocker}" in error and blocker.read_text() == "not a folder"


# ------------------------------------------------------------------ a checkpoint of another model
@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """A gru_lyrics checkpoint (hidden_size 8) and a linreg_adam_torch_airfoil one, from short runs on fake data."""
    root = tmp_path_factory.mktemp("ckpts")
    found = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["zoo"])
        install("JayChouLyricsDataModule", root / "data", mp)
        install("AirfoilDataModule", root / "data", mp)
        for name, extra in (("gru_lyrics", LYRICS), ("linreg_adam_torch_airfoil", AIRFOIL)):
            cli = run_lightning_cli(["fit", "--config", str(recipes()[name]),
                                     f"--trainer.default_root_dir={root / name}",
                                     f"--data.init_args.data_dir={root / 'data'}", *extra])
            found[name] = Path(cli.trainer.checkpoint_callback.last_model_path or
                               cli.trainer.checkpoint_callback.best_model_path)
    found["data"] = root / "data"
    return found


@pytest.fixture
def fake_data(checkpoints, monkeypatch) -> Path:
    install("JayChouLyricsDataModule", checkpoints["data"], monkeypatch)
    install("AirfoilDataModule", checkpoints["data"], monkeypatch)
    return checkpoints["data"]


@pytest.mark.parametrize(("recipe", "extra", "expected"), [
    ("rnn_lyrics", [], "holds a GRULanguageModel, but this run builds a RNNLanguageModel"),
    ("gru_scratch_lyrics", [], "impl='fused'"),
    ("gru_lyrics", ["--model.init_args.hidden_size=128"], "hidden_size=8"),
    ("linreg_adam_torch_airfoil", [], "holds a GRULanguageModel, but this run builds a LinearRegression"),
])
def test_resuming_another_model_is_refused_in_one_line_naming_both(recipe, extra, expected, checkpoints, fake_data,
                                                                  tmp_path, capsys):
    root = tmp_path / "runs"
    args = [a for a in LYRICS if "hidden_size" not in a] if "lyrics" in recipe else AIRFOIL
    error = one_error(["recipe", recipe, f"--ckpt_path={checkpoints['gru_lyrics']}",
                       f"--trainer.default_root_dir={root}", f"--data.init_args.data_dir={fake_data}", *args, *extra],
                      capsys)
    assert expected in error and str(checkpoints["gru_lyrics"]) in error
    if "hidden_size=128" in extra:
        assert "hidden_size=128" in error
    if recipe == "gru_scratch_lyrics":
        assert "impl='scratch'" in error
    assert versions(root) == []  # refused before any folder was made


def test_a_checkpoint_of_another_kind_of_task_is_one_line(checkpoints, fake_data, tmp_path, capsys):
    root = tmp_path / "runs"
    error = one_error(["recipe", "gru_lyrics", f"--ckpt_path={checkpoints['linreg_adam_torch_airfoil']}",
                       f"--trainer.default_root_dir={root}", f"--data.init_args.data_dir={fake_data}", *LYRICS],
                      capsys)
    assert "holds a LinearRegression, but this run builds a GRULanguageModel" in error
    error = one_error(["validate", "--config", str(recipes()["linreg_adam_torch_airfoil"]),
                       f"--ckpt_path={checkpoints['gru_lyrics']}", f"--trainer.default_root_dir={root}",
                       f"--data.init_args.data_dir={fake_data}"], capsys)
    assert "holds a GRULanguageModel, but this run builds a LinearRegression" in error


def test_the_same_model_resumes(checkpoints, fake_data, tmp_path, capsys):
    code, out, err = run(["recipe", "gru_lyrics", f"--ckpt_path={checkpoints['gru_lyrics']}",
                          f"--trainer.default_root_dir={tmp_path / 'runs'}", f"--data.init_args.data_dir={fake_data}",
                          *[a for a in LYRICS if "max_epochs" not in a], "--trainer.max_epochs=2"], capsys)
    assert code == 0, err[-3000:]
    assert "run summary" in out


# ------------------------------------------------------------------ runs that do not train
def test_predict_leaves_no_run_folder_and_touches_no_other_runs(fake_data, tmp_path, capsys):
    root = tmp_path / "runs"
    common = [f"--trainer.default_root_dir={root}", f"--data.init_args.data_dir={fake_data}"]
    code, out, err = run(["recipe", "gru_lyrics", *common, *LYRICS], capsys)
    assert code == 0, err[-3000:]
    ckpt = next(root.rglob("last.ckpt"))
    other = root / "version_7"  # another run that has only written its config so far
    other.mkdir()
    (other / "config.yaml").write_text("another run's config\n")
    code, out, err = run(["predict", "--config", str(recipes()["gru_lyrics"]), f"--ckpt_path={ckpt}", *common,
                          *LYRICS, "--data.init_args.predict_prefixes=[分开]"], capsys)
    assert code == 0, err[-3000:]
    assert out.strip().splitlines()[-1].startswith("分开")
    assert versions(root) == ["version_0", "version_7"]  # no version_8 holding config.yaml and hparams.yaml
    assert (other / "config.yaml").read_text() == "another run's config\n"
    code, _, err = run(["recipe", "gru_lyrics", *common, *LYRICS], capsys)
    assert code == 0 and versions(root) == ["version_0", "version_7", "version_8"]


def test_validate_keeps_the_metrics_it_logged(tmp_path, capsys):
    root = tmp_path / "runs"
    assert run(["recipe", "linreg_synthetic", f"--trainer.default_root_dir={root}", *TINY], capsys)[0] == 0
    ckpt = next(root.rglob("last.ckpt"))
    code, _, err = run(["validate", "--config", str(recipes()["linreg_synthetic"]), f"--ckpt_path={ckpt}",
                        f"--trainer.default_root_dir={root}", "--trainer.enable_progress_bar=false"], capsys)
    assert code == 0, err[-3000:]
    assert versions(root) == ["version_0", "version_1"]
    assert len((root / "version_1" / "metrics.csv").read_text().splitlines()) == 2


# ------------------------------------------------------------------ a full disk
def _final_name(path) -> str:
    """The checkpoint's name, also when it is written through a temporary ``.<name>.<random>.part`` beside it."""
    name = Path(path).name
    return name[1:].rsplit(".", 2)[0] if name.startswith(".") and name.endswith(".part") else name


def _no_space(monkeypatch, when=lambda name: True) -> list[str]:
    """Checkpoint writes that fail as on a full disk (part of the file, then ENOSPC) where ``when(name)``."""
    import lightning.fabric.plugins.io.torch_io as torch_io

    real, tried = torch_io._atomic_save, []

    def full(checkpoint, path):
        tried.append(_final_name(path))
        if not when(tried[-1]):
            return real(checkpoint, path)
        Path(path).write_bytes(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch_io, "_atomic_save", full)
    return tried


def test_a_full_disk_under_the_run_folder_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    tried = _no_space(monkeypatch)
    root = tmp_path / "runs"
    error = one_error(["recipe", "linreg_synthetic", f"--trainer.default_root_dir={root}", *TINY], capsys)
    assert error.startswith(f"error: no space left on device in the run folder {root / 'version_0'}")
    assert "--trainer.default_root_dir" in error
    assert "interrupted.ckpt" not in tried  # nothing more is tried on a full disk
    assert not [p for p in root.rglob("*") if p.is_file() and (".part" in p.name or p.suffix == ".ckpt")]


class FailAtStep(L.Callback):
    """Stops training at ``step`` with a `DataError` (a stand-in for any error in the middle of an epoch)."""

    def __init__(self, step: int = 2) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            raise DataError(f"a batch file went missing at step {self.step}")


def test_the_interrupt_checkpoint_never_hides_the_error_that_stopped_the_run(tmp_path, monkeypatch, capsys):
    tried = _no_space(monkeypatch, when=lambda name: name == "interrupted.ckpt")
    root = tmp_path / "runs"
    error = one_error(["recipe", "linreg_synthetic", f"--trainer.default_root_dir={root}", *TINY,
                       "--trainer.callbacks+=tests.test_run_folders.FailAtStep"], capsys)
    assert error == "error: a batch file went missing at step 2"
    assert tried == ["interrupted.ckpt"]


def test_the_interrupt_checkpoint_is_still_saved_after_another_error(tmp_path, capsys):
    root = tmp_path / "runs"
    code, out, err = run(["recipe", "linreg_synthetic", f"--trainer.default_root_dir={root}", *TINY,
                          "--trainer.callbacks+=tests.test_run_folders.FailAtStep"], capsys)
    assert code == 1 and err.strip().splitlines()[-1] == "error: a batch file went missing at step 2"
    assert list(root.rglob("interrupted.ckpt"))
