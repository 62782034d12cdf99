"""DDP across two nodes, both on this machine: two launchers, one per node (``NODE_RANK`` 0 and 1, one CPU process
each, gloo), started as Lightning documents for clusters without a scheduler: ``MASTER_ADDR``, ``MASTER_PORT``,
``NODE_RANK`` and ``WORLD_SIZE`` in the environment and ``--trainer.num_nodes 2``.

Each node gets its own data cache and its own run folder, as separate machines would. Checked, for a language model
(gru_lyrics on fake lyrics) and a classifier (lenet_fashion_mnist on fake Fashion-MNIST files): both nodes finish with
exit status 0; the epoch metrics are reduced across them (both ranks hold the same logged values although their own
batches differ, and the classifier's logged loss is the mean over both ranks' examples); only rank 0 writes the run's
files (node 1's run folder is never created); and killing one node's launcher ends the other within the collective
timeout (``--ddp_timeout``) with one line ``error: a DDP process stopped answering ...``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fakes import write_lyrics_zip
from tests.vision_fakes import fashion_mnist_arrays, write_fashion_mnist_gz

NODES = ["--trainer.strategy=ddp", "--trainer.num_nodes=2", "--trainer.devices=1", "--trainer.accelerator=cpu",
         "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]
RECIPES = {
    "gru_lyrics": ["--trainer.max_epochs=2", "--model.init_args.hidden_size=16", "--model.init_args.pred_period=0",
                   "--data.init_args.num_chars=3000", "--data.init_args.val_chars=0"],
    "lenet_fashion_mnist": ["--trainer.max_epochs=1", "--data.init_args.batch_size=4"],
}


TIMEOUT = 15  # --ddp_timeout of the runs whose other node is killed


_USED_PORTS: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, never the same twice in this session (two pairs of nodes may start at once)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _USED_PORTS:
            _USED_PORTS.add(port)
            return port


def node_env(node: int, port: int, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "LOCAL_RANK", "GROUP_RANK", "SLURM_PROCID")}
    return {**env, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "NODE_RANK": str(node), "WORLD_SIZE": "2",
            "ZOO_DATA_DIR": str(cache), "ZOO_VERIFY_CHECKSUMS": "0", "PYTHONPATH": str(REPO),
            "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}


def write_data(recipe: str, cache: Path) -> None:
    """The recipe's fake data in a node's cache folder (each node has its own, as separate machines)."""
    if recipe == "gru_lyrics":
        write_lyrics_zip(cache / "jaychou_lyrics.txt.zip")
    else:
        write_fashion_mnist_gz(cache / "FashionMNIST" / "raw", fashion_mnist_arrays())


def start_nodes(recipe: str, tmp: Path, *args: str) -> list[subprocess.Popen]:
    """The two launchers of ``recipe``, node 0 then node 1, each in its own folder with its own data cache."""
    port = free_port()
    procs = []
    for node in (0, 1):
        home = tmp / f"node{node}"
        home.mkdir(parents=True, exist_ok=True)
        write_data(recipe, home / "cache")
        cmd = [sys.executable, "-m", "zoo", "recipe", recipe, *NODES, *RECIPES[recipe],
               f"--trainer.default_root_dir={home / 'runs'}", *args]
        with open(home / "stdout.txt", "w") as out, open(home / "stderr.txt", "w") as err:  # files: no pipe fills up
            procs.append(subprocess.Popen(cmd, cwd=home, env=node_env(node, port, home / "cache"), stdout=out,
                                          stderr=err, text=True))
        procs[-1].home = home
    return procs


def output(proc: subprocess.Popen) -> tuple[str, str]:
    """What a node process printed: (stdout, stderr)."""
    return ((proc.home / "stdout.txt").read_text(errors="replace"),
            (proc.home / "stderr.txt").read_text(errors="replace"))


def finish(procs: list[subprocess.Popen], timeout: float) -> list[tuple[int, str, str]]:
    results = []
    deadline = time.monotonic() + timeout
    try:
        for proc in procs:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            results.append((proc.returncode, *output(proc)))
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    return results


def test_a_language_model_and_a_classifier_train_on_two_nodes(tmp_path):
    runs = {recipe: start_nodes(recipe, tmp_path / recipe, "--trainer.callbacks+=tests.ddp_node_probes."
                                "RecordRankMetrics", f"--trainer.callbacks.folder={tmp_path / recipe / 'ranks'}")
            for recipe in RECIPES}  # the four processes run at once
    for recipe, procs in runs.items():
        (code0, out0, err0), (code1, out1, err1) = finish(procs, timeout=240)
        assert code0 == 0 and code1 == 0, f"{recipe}:\n{err0[-2000:]}\n----\n{err1[-2000:]}"
        assert "Traceback" not in err0 + err1
        assert out0.count("run summary") == 1 and "run summary" not in out1  # rank 0 reports

        rank0, rank1 = (json.loads((tmp_path / recipe / "ranks" / f"rank{r}.json").read_text()) for r in (0, 1))
        assert rank0["world_size"] == rank1["world_size"] == 2 and (rank0["rank"], rank1["rank"]) == (0, 1)
        assert rank0["losses"] != rank1["losses"]  # each rank trained on its own part of the data ...
        assert rank0["metrics"] == pytest.approx(rank1["metrics"], rel=1e-6)  # ... and both log the reduced values
        assert "train/loss" in rank0["metrics"]
        if recipe == "lenet_fashion_mnist":  # the logged loss is the mean over both ranks' examples
            total = sum(loss * n for r in (rank0, rank1) for loss, n in zip(r["losses"], r["sizes"]))
            count = sum(n for r in (rank0, rank1) for n in r["sizes"])
            assert rank0["metrics"]["train/loss"] == pytest.approx(total / count, rel=1e-5)
            assert rank0["metrics"]["train/loss"] != pytest.approx(
                sum(a * n for a, n in zip(rank0["losses"], rank0["sizes"])) / sum(rank0["sizes"]), rel=1e-5)

        folders = sorted(p.name for p in (tmp_path / recipe / "node0" / "runs").iterdir())
        assert folders == ["version_0"] and list((tmp_path / recipe / "node0" / "runs").rglob("*.ckpt"))
        assert (tmp_path / recipe / "node0" / "runs" / "version_0" / "config.yaml").is_file()
        assert not (tmp_path / recipe / "node1" / "runs").exists()  # node 1 (rank 1) wrote no run file


def test_killing_either_nodes_launcher_ends_the_other_with_one_line(tmp_path):
    """Node 1's launcher killed in one pair of nodes, node 0's (which holds the rendezvous) in another, both pairs at
    once: the node left ends within the collective timeout, with one line."""
    pairs = {}
    for killed in (0, 1):
        started = tmp_path / f"kill{killed}" / "training"
        pairs[killed] = (started, start_nodes("gru_lyrics", tmp_path / f"kill{killed}", "--trainer.max_epochs=100000",
                                              f"--ddp_timeout={TIMEOUT}",
                                              "--trainer.callbacks+=tests.run_probes.TouchWhenTraining",
                                              f"--trainer.callbacks.path={started}"))
    try:
        for started, procs in pairs.values():
            deadline = time.monotonic() + 150
            while not started.exists():
                assert all(p.poll() is None for p in procs) and time.monotonic() < deadline, \
                    [p.poll() for p in procs]
                time.sleep(0.1)
        kill_times = {}
        for killed, (_, procs) in pairs.items():
            procs[killed].send_signal(signal.SIGKILL)  # that node's launcher dies mid-epoch
            kill_times[killed] = time.monotonic()
        for killed, (_, procs) in pairs.items():
            survivor = procs[1 - killed]
            survivor.wait(timeout=TIMEOUT + 60)
            ended = time.monotonic() - kill_times[killed]
            err = output(survivor)[1]
            assert survivor.returncode == 1, err[-3000:]
            assert ended < TIMEOUT + 20, ended  # within the collective timeout (and the time to stop)
            lines = [line for line in err.splitlines() if line.strip()]
            assert lines[-1].startswith("error: a DDP process stopped answering"), err[-3000:]
            assert "--ddp_timeout" in lines[-1] and "Traceback" not in err
            assert sum(line.startswith("error: ") for line in lines) == 1
    finally:
        for _, procs in pairs.values():
            for proc in procs:
                proc.kill()
                proc.wait()
