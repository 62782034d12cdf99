"""DDP on two CPU processes (gloo), as a user starts it: ``python -m zoo recipe <name> --trainer.strategy ddp
--trainer.devices 2 --trainer.accelerator cpu``.

Each run is a subprocess on fake data written in the real format (accepted without checksums). Checked: the runs end
with exit 0; samples and the summary print once (rank 0, with no collective inside rank-0-only code); the lyrics rows
are split between the ranks; an epoch's metric equals one process on the same data; SIGTERM ends every rank; a rank
that stops answering ends the run after ``--ddp_timeout`` with one clear line.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fakes import install, write_lyrics_zip

DDP = ["--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.accelerator=cpu"]
QUIET = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]
# 3,000 characters: 32 rows of 93, two windows of 35 an epoch; each rank gets 16 rows
SMALL_LYRICS = ["--data.init_args.num_chars=3000", "--data.init_args.val_chars=0"]


@pytest.fixture
def env(monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("ZOO_VERIFY_CHECKSUMS", "0")  # the fake files' hashes are not the published ones
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}


def run_zoo(root: Path, env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zoo", "recipe", *args, f"--trainer.default_root_dir={root}", *QUIET],
                          cwd=root.parent, env=env, capture_output=True, text=True, timeout=timeout)


def epoch_metric(root: Path, column: str) -> list[float]:
    """``column`` of the run's metrics.csv, one value per epoch."""
    (metrics,) = root.rglob("metrics.csv")
    with open(metrics, newline="") as f:
        return [float(row[column]) for row in csv.DictReader(f) if row.get(column)]


def test_gru_lyrics_45_epochs_prints_samples_once_splits_the_rows_and_matches_one_process(tmp_path, env):
    write_lyrics_zip(Path(env["ZOO_DATA_DIR"]) / "jaychou_lyrics.txt.zip")
    probe = ["--trainer.callbacks+=tests.run_probes.RecordFirstBatch",
             f"--trainer.callbacks.folder={tmp_path / 'first'}"]
    out = run_zoo(tmp_path / "ddp", env, "gru_lyrics", *DDP, *SMALL_LYRICS, "--trainer.max_epochs=45", *probe)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("epoch 40, perplexity") == 1  # the samples of epoch 40, by rank 0 only
    assert out.stdout.count("run summary") == 1 and "Traceback" not in out.stderr

    rank0, rank1 = (json.loads((tmp_path / "first" / f"rank{r}.json").read_text()) for r in (0, 1))
    assert len(rank0) == len(rank1) == 16 and rank0 != rank1  # each rank reads its own half of the 32 rows

    single = run_zoo(tmp_path / "single", env, "gru_lyrics", *SMALL_LYRICS, "--trainer.max_epochs=45")
    assert single.returncode == 0, single.stderr[-3000:]
    ddp_ppl, one_ppl = epoch_metric(tmp_path / "ddp", "train/ppl"), epoch_metric(tmp_path / "single", "train/ppl")
    assert len(ddp_ppl) == len(one_ppl) == 45
    # Both halves make the same 32-row batch, so the averaged gradient and the reduced perplexity are one process's;
    # they differ only in float rounding (the all-reduce sums in another order), which 45 epochs of Adam amplify.
    assert ddp_ppl[0] == pytest.approx(one_ppl[0], rel=1e-5)
    assert ddp_ppl[-1] == pytest.approx(one_ppl[-1], rel=1e-2)


@pytest.mark.parametrize(("recipe", "data", "args"), [
    ("lenet_fashion_mnist", "FashionMNISTDataModule", ["--trainer.max_epochs=1", "--data.init_args.batch_size=4"]),
    ("linreg_adam_torch_airfoil", "AirfoilDataModule", []),
])
def test_vision_and_regression_recipes_finish_under_ddp(recipe, data, args, tmp_path, env, monkeypatch):
    install(data, Path(env["ZOO_DATA_DIR"]), monkeypatch)
    out = run_zoo(tmp_path / "ddp", env, recipe, *DDP, *args)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("run summary") == 1 and "Traceback" not in out.stderr
    assert list((tmp_path / "ddp").rglob("*.ckpt"))
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == ["version_0"]  # rank 1 reserved no folder


def test_sigterm_ends_every_rank(tmp_path, env):
    write_lyrics_zip(Path(env["ZOO_DATA_DIR"]) / "jaychou_lyrics.txt.zip")
    started = tmp_path / "training"
    pids = tmp_path / "pids"
    cmd = [sys.executable, "-m", "zoo", "recipe", "gru_lyrics", *DDP, *SMALL_LYRICS, *QUIET,
           "--trainer.max_epochs=100000", f"--trainer.default_root_dir={tmp_path / 'runs'}",
           "--trainer.callbacks+=tests.run_probes.TouchWhenTraining", f"--trainer.callbacks.path={started}",
           "--trainer.callbacks+=tests.run_probes.RecordPid", f"--trainer.callbacks.folder={pids}"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (started.exists() and len(list(pids.glob("*.pid"))) == 2):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-3000:]
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode == 143, err[-3000:]
    for pid_file in pids.glob("*.pid"):
        pid = int(pid_file.read_text())
        for _ in range(50):  # a rank's process may take a moment to be reaped
            if not _alive(pid):
                break
            time.sleep(0.1)
        assert not _alive(pid), f"{pid_file.stem} (pid {pid}) still runs after SIGTERM"
    assert list((tmp_path / "runs").rglob("interrupted.ckpt"))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_a_rank_that_stops_answering_ends_the_run_after_the_timeout_with_one_line(tmp_path, env):
    write_lyrics_zip(Path(env["ZOO_DATA_DIR"]) / "jaychou_lyrics.txt.zip")
    pids = tmp_path / "pids"
    out = run_zoo(tmp_path / "runs", env, "gru_lyrics", *DDP, *SMALL_LYRICS, "--trainer.max_epochs=3",
                  "--ddp_timeout=12", "--trainer.callbacks+=tests.run_probes.HangRank", "--trainer.callbacks.step=1",
                  "--trainer.callbacks+=tests.run_probes.RecordPid", f"--trainer.callbacks.folder={pids}")
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: a DDP process stopped answering") and "--ddp_timeout" in last, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    hung = int((pids / "rank1.pid").read_text())
    for _ in range(50):
        if not _alive(hung):
            break
        time.sleep(0.1)
    assert not _alive(hung), "the rank that hung still runs"
