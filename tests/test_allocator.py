"""Freed activations kept for the next step on the CPU (`zoo.runtime.allocator`): once the setting is in force, a
block above glibc's mmap threshold that is freed and allocated again costs no new page faults; the callback applies
it when a Trainer sets up a CPU model, and every run of the command line has the callback.

The fault counts are taken in a fresh interpreter each, since the setting holds for the rest of a process.
"""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from tests.conftest import REPO
from zoo.cli import recipes, run_lightning_cli
from zoo.runtime import allocator
from zoo.runtime.allocator import KeepFreedMemory

glibc_only = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="the setting is glibc's")

FAULTS = """
import resource, torch
def faults():
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(4):
        block = torch.ones(64 << 20, dtype=torch.uint8)  # 64 MiB, above glibc's largest mmap threshold (32 MiB)
        del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start
faults()
before = faults()
{apply}
faults()  # the first block after the switch is new memory
print(before, faults())
"""


def _faults_before_and_after(apply: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", FAULTS.format(apply=apply)], cwd=REPO, capture_output=True,
                         text=True, timeout=300, check=True).stdout
    before, after = map(int, out.split()[-2:])
    return before, after


@glibc_only
def test_a_freed_large_block_is_reused_without_page_faults():
    before, after = _faults_before_and_after(
        "from zoo.runtime.allocator import keep_freed_memory\nassert keep_freed_memory()")
    assert before > 0 and after <= before // 10, (before, after)  # 65,536 faults against none on a 4 KiB-page machine


@glibc_only
def test_the_callback_applies_it_when_a_trainer_sets_up_a_cpu_model():
    fit = ("import lightning as L, torch\n"
           "from torch.utils.data import DataLoader\n"
           "import zoo\n"
           "from zoo.runtime.allocator import KeepFreedMemory\n"
           "model = zoo.create_model('lenet', image_size=28, num_classes=10)\n"
           "L.Trainer(max_steps=1, accelerator='cpu', logger=False, enable_progress_bar=False,"
           " enable_model_summary=False, enable_checkpointing=False, callbacks=[KeepFreedMemory()]).fit("
           "model, DataLoader([(torch.rand(4, 1, 28, 28), torch.randint(0, 10, (4,)))], batch_size=None))")
    before, after = _faults_before_and_after(fit)
    assert after <= before // 10, (before, after)


def test_elsewhere_than_glibc_nothing_is_changed(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda *args, **kwargs: ("musl", "1.2"))
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda *args, **kwargs: pytest.fail("libc was loaded"))
    assert allocator.keep_freed_memory() is False


def test_every_command_line_run_has_the_callback(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["zoo"])
    cli = run_lightning_cli(["--config", str(recipes()["lenet_fashion_mnist"]),
                             f"--trainer.default_root_dir={tmp_path}"], run=False)
    assert sum(isinstance(cb, KeepFreedMemory) for cb in cli.trainer.callbacks) == 1
