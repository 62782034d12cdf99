"""Where the training time of the book's chapter 5 goes on the CPU, and the floor its matrix kernels set.

Chapter 5 trains nine networks on Fashion-MNIST for 5 epochs each (book 5.5 to 5.12). The three LeNets take
seconds; the six others (AlexNet, VGG-11 with an eighth of the channels and NiN at 224x224, GoogLeNet, ResNet-18 and
DenseNet at 96x96) take the time. For each of those six, at its recipe's image size, batch size and epochs (read from
``recipes/<name>.yaml``), in the recipe's fast path (``precision: bf16-mixed`` through a ``lightning.Trainer``, as
``python -m zoo recipe`` trains it: channels-last, the matrix-product weight gradient on small maps, fused Adam,
freed memory kept), this bench measures:

* seconds per training step (the median of ``--steps`` steps after a warm-up step);
* under ``torch.profiler``, the part of a step spent in the matrix kernels (``MATRIX_OPS``: oneDNN's convolutions
  forward and backward, matrix products), the rest being batch normalisation, ReLU, pooling, concatenation, dropout,
  casts and the optimizer, which are bound by memory bandwidth;
* the step's FLOPs (``torch.utils.flop_counter``) and the share of the AMX peak the matrix kernels reach on their own
  (the peak as in ``bench/vision_cpu.py``: cores x clock x 1024 bf16 FLOPs per cycle).

It then scales a step to a whole run (``ceil(60,000 / batch)`` training steps and ``ceil(10,000 / batch)`` test
batches per epoch): the training time at this speed, and the **floor**: the matrix kernels alone, those of the
training steps and those of the forward passes over the test set after each epoch (``FORWARD_MATRIX_OPS``), as if
everything else (the memory-bound operations, data loading, Lightning) took no time. The chapter's sum adds the
three LeNets' wall times from ``results/`` and sets both against the hour the zoo aims at, and against the wall
times measured by ``make results`` where ``results/`` has them. A floor above the hour says that no tuning of the
non-matrix work reaches it with these kernels.

    python bench/chapter5_cpu.py [--steps 5] [--models alexnet vgg11 ...]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
import yaml
from _interleave import bench_line
from torch.profiler import ProfilerActivity, profile
from torch.utils.data import DataLoader
from vision_cpu import StepTimer, peak_flops, step_flops

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import zoo  # noqa: E402
from zoo.commands.results import load_results  # noqa: E402
from zoo.runtime import allocator  # noqa: E402

HOUR = 3600.0
TRAIN_IMAGES, TEST_IMAGES = 60_000, 10_000
#: bench name -> (zoo model name, constructor arguments, recipe)
MODELS = {
    "alexnet": ("alexnet", {}, "alexnet_fashion_mnist"),
    "vgg11": ("vgg11", {"ratio": 8}, "vgg11_fashion_mnist"),
    "nin": ("nin", {}, "nin_fashion_mnist"),
    "googlenet": ("googlenet", {}, "googlenet_fashion_mnist"),
    "resnet18": ("resnet18", {"variant": "d2l", "in_channels": 1}, "resnet18_fashion_mnist"),
    "densenet": ("densenet", {}, "densenet_fashion_mnist"),
}
#: the three LeNets of the chapter: seconds each, taken from their results files
LENETS = ("lenet_fashion_mnist", "lenet_bn_scratch_fashion_mnist", "lenet_bn_fashion_mnist")
#: profiler names of the matrix kernels (self time): convolutions (oneDNN) and matrix products
MATRIX_OPS = ("aten::mkldnn_convolution", "aten::convolution_backward", "aten::mm", "aten::addmm", "aten::bmm")
#: those of the forward pass: convolutions and the fully connected layers (``addmm``, with their bias)
FORWARD_MATRIX_OPS = ("aten::mkldnn_convolution", "aten::addmm")


class ProfileSteps(StepTimer):
    """Times every training step (`StepTimer`) and profiles the steps after the first (the warm-up)."""

    def __init__(self) -> None:
        super().__init__()
        self.profiler: profile | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if batch_idx == 1:
            self.profiler = profile(activities=[ProfilerActivity.CPU])
            self.profiler.__enter__()
        super().on_train_batch_start(trainer, pl_module, batch, batch_idx)

    def on_train_end(self, trainer, pl_module) -> None:
        if self.profiler is not None:
            self.profiler.__exit__(None, None, None)


def recipe_settings(recipe: str) -> tuple[int, int, int]:
    """(image size, batch size, epochs) of a recipe."""
    config = yaml.safe_load((ROOT / "recipes" / f"{recipe}.yaml").read_text())
    data = config["data"]["init_args"]
    return int(data["resize"]), int(data["batch_size"]), int(config["trainer"]["max_epochs"])


def measured_seconds(results: Mapping[str, Mapping[str, Any]], recipe: str) -> float | None:
    """The wall time ``make results`` recorded for a recipe, if it has a results file."""
    return float(results[recipe]["wall_time_s"]) if recipe in results else None


def bench_model(name: str, steps: int, peak: float, results: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    model_name, kwargs, recipe = MODELS[name]
    size, batch, epochs = recipe_settings(recipe)
    torch.manual_seed(0)
    batches = [(torch.rand(batch, 1, size, size), torch.randint(0, 10, (batch,))) for _ in range(steps + 1)]
    flops = step_flops(zoo.create_model(model_name, image_size=size, num_classes=10, **kwargs).net, *batches[0])
    model = zoo.create_model(model_name, image_size=size, num_classes=10, **kwargs)
    probe = ProfileSteps()
    trainer = L.Trainer(max_steps=steps + 1, precision="bf16-mixed", accelerator="cpu", devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        num_sanity_val_steps=0, callbacks=[probe])
    trainer.fit(model, DataLoader(batches, batch_size=None))
    step = statistics.median(probe.times[1:])
    events = probe.profiler.key_averages()
    matrix = sum(e.self_cpu_time_total for e in events if e.key in MATRIX_OPS) / 1e6 / steps  # s per step
    forward = sum(e.self_cpu_time_total for e in events if e.key in FORWARD_MATRIX_OPS) / 1e6 / steps
    if not matrix or not forward:  # a floor of 0 would pass the target without measuring anything
        raise SystemExit(f"{name}: no matrix kernels in the profile; MATRIX_OPS names operators this PyTorch "
                         f"({torch.__version__}) does not run")
    run_steps = math.ceil(TRAIN_IMAGES / batch) * epochs
    floor = matrix * run_steps + forward * math.ceil(TEST_IMAGES / batch) * epochs
    measured = measured_seconds(results, recipe)
    print(f"{name} at {size}x{size}, batch {batch}: {step * 1e3:.0f} ms/step, of which matrix kernels "
          f"{matrix * 1e3:.0f} ms ({matrix / step:.0%}; {flops / 1e9:.0f} GFLOP per step, "
          f"{flops / matrix / peak:.0%} of the AMX peak while they run); {run_steps} steps: training "
          f"{step * run_steps:.0f} s; floor with the test passes {floor:.0f} s"
          + (f"; results/ {measured:.0f} s" if measured is not None else ""), flush=True)
    return {"train": step * run_steps, "floor": floor, "measured": measured}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5, help="timed and profiled steps per model (default: 5)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    allocator.keep_freed_memory()  # as every run of the command line
    peak, how = peak_flops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; AMX peak {peak / 1e12:.2f} TFLOP/s ({how});"
          f" {args.steps} steps per model after a warm-up step", flush=True)
    results = load_results(ROOT / "results")
    rows = {name: bench_model(name, args.steps, peak, results) for name in args.models}
    lenets = [measured_seconds(results, recipe) for recipe in LENETS]
    lenet_s = sum(s for s in lenets if s is not None)
    train = sum(r["train"] for r in rows.values()) + lenet_s
    floor = sum(r["floor"] for r in rows.values()) + lenet_s
    measured = [r["measured"] for r in rows.values()] + lenets
    which = "the six networks above" if len(rows) == len(MODELS) else f"only {', '.join(rows)} of the six"
    print(f"chapter 5 ({which} and the LeNets' {lenet_s:.0f} s from results/): training at these step times "
          f"{train:.0f} s; floor of the matrix kernels {floor:.0f} s; the hour: {HOUR:.0f} s"
          + (f"; results/ wall times {sum(measured):.0f} s" if None not in measured else ""), flush=True)
    if len(rows) < len(MODELS):  # a part of the chapter says nothing of the hour
        print("no BENCH line: the target is about the whole chapter (run without --models)")
        return
    bench_line("chapter5_cpu_matrix_floor_s", floor, "<=", HOUR, note=f"training_at_step_times={train:.0f}s")


if __name__ == "__main__":
    main()
