"""The vision recipes' fast path: ``--trainer.precision bf16-mixed`` with channels-last weights and batches.

bf16 training must give the model fp32 gives (same predictions on a fixed batch after a step, to bf16's rounding),
the task must switch to channels-last by itself under bf16, and a CPU without bf16 matrix units (simulated with
``ONEDNN_MAX_CPU_ISA=AVX512_CORE``, which forbids oneDNN its AMX kernels) must get one warning that bf16 is slow there,
while the run still works.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

import zoo
from tests.conftest import REPO
from zoo.nets.small_map_conv import SmallMapConv2d
from zoo.runtime.precision import PrecisionCheck, cpu_has_bf16_matrix_units


def _one_step(model, batch, precision: str, tmp_path) -> L.Trainer:
    trainer = L.Trainer(max_steps=1, precision=precision, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, default_root_dir=tmp_path)
    trainer.fit(model, DataLoader([batch], batch_size=None))
    return trainer


@pytest.mark.parametrize("name, size, kwargs", [("resnet18", 32, {"variant": "d2l", "in_channels": 1}),
                                                ("alexnet", 67, {"fc_hidden": 64}), ("lenet", 28, {})])
def test_a_bf16_step_gives_a_finite_loss_and_the_predictions_of_fp32(name, size, kwargs, tmp_path):
    """After one Adam step from the same weights on the same batch, bf16-mixed and fp32 models predict the same
    classes on a fixed batch (at least 90% of 64 images; bf16 keeps 8 bits of mantissa) with logits within 0.1."""
    torch.manual_seed(0)
    batch = (torch.rand(16, 1, size, size), torch.randint(0, 10, (16,)))
    probe = torch.rand(64, 1, size, size)
    models = {}
    for precision in ("32-true", "bf16-mixed"):
        torch.manual_seed(1)
        model = zoo.create_model(name, image_size=size, num_classes=10, **kwargs)
        trainer = _one_step(model, batch, precision, tmp_path)
        assert torch.isfinite(trainer.callback_metrics["train/loss"])
        models[precision] = model.eval()
    fast = models["bf16-mixed"]
    assert any(isinstance(m, SmallMapConv2d) for m in fast.net.modules())  # the CPU's small-map weight gradient
    assert not any(isinstance(m, SmallMapConv2d) for m in models["32-true"].net.modules())
    assert fast.net.features[0].weight.is_contiguous(memory_format=torch.channels_last) if name != "resnet18" else \
        next(p for p in fast.net.parameters() if p.dim() == 4).is_contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        reference = models["32-true"](probe)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = fast(probe).float()
    agree = (logits.argmax(1) == reference.argmax(1)).float().mean().item()
    assert agree >= 0.9, agree
    torch.testing.assert_close(logits, reference, atol=0.1, rtol=0.05)


def test_fp32_runs_keep_the_layout_unless_asked(tmp_path):
    torch.manual_seed(0)
    model = zoo.create_model("lenet")
    _one_step(model, (torch.rand(4, 1, 28, 28), torch.randint(0, 10, (4,))), "32-true", tmp_path)
    assert model.net.features[0].weight.is_contiguous()  # NCHW: the small models keep their measured speed


def test_without_matrix_units_the_switch_warns_once_and_the_run_works(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE")
    assert not cpu_has_bf16_matrix_units()
    torch.manual_seed(0)
    model = zoo.create_model("lenet")
    batch = (torch.rand(4, 1, 28, 28), torch.randint(0, 10, (4,)))
    trainer = L.Trainer(max_steps=2, precision="bf16-mixed", accelerator="cpu", logger=False,
                        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                        default_root_dir=tmp_path, callbacks=[PrecisionCheck()])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(model, DataLoader([batch, batch], batch_size=None))
    slow = [w for w in caught if "bfloat16 runs slower than float32" in str(w.message)]
    assert len(slow) == 1 and "ONEDNN_MAX_CPU_ISA=AVX512_CORE" in str(slow[0].message)
    assert torch.isfinite(trainer.callback_metrics["train/loss"])


def test_the_recipe_switch_works_from_the_command_line_where_onednn_has_no_amx(tmp_path):
    """The real cap, in a fresh process (oneDNN reads ONEDNN_MAX_CPU_ISA once): the run finishes and warns."""
    code = ("import sys, torch, lightning as L; from torch.utils.data import DataLoader; import zoo;"
            "from zoo.runtime.precision import PrecisionCheck;"
            "m = zoo.create_model('lenet'); b = (torch.rand(4, 1, 28, 28), torch.randint(0, 10, (4,)));"
            "t = L.Trainer(max_steps=1, precision='bf16-mixed', accelerator='cpu', logger=False,"
            " enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,"
            f" default_root_dir={str(tmp_path)!r}, callbacks=[PrecisionCheck()]);"
            "t.fit(m, DataLoader([b], batch_size=None)); print('loss', float(t.callback_metrics['train/loss']))")
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr.count("the run goes on in bf16") == 1  # the message, once (its code line shows too)
    assert out.stdout.startswith("loss ")
