"""Seconds per training step of the book's convnets on the CPU: plain fp32 PyTorch, the recipe in fp32, and the
recipe's fast path (bf16 on the CPU's matrix units, channels-last), interleaved in one process on the same batches.

Models, at their recipes' input sizes and batch sizes (book 5.5, 5.11, 5.6): LeNet at 28x28 (batch 256), ResNet-18
in the book's layout at 96x96 (batch 256), AlexNet at 224x224 (batch 128); 10 classes, one input channel, Adam 1e-3.

* plain: the loop a user would write: the network (``zoo.nets``, the same one the recipe trains), NCHW float32,
  forward, cross-entropy, backward, ``Adam.step``;
* recipe fp32: the zoo's LightningModule trained by a ``lightning.Trainer`` as the recipe does (its training step,
  metrics, optimizer), ``precision="32-true"``;
* fast: the same with ``precision="bf16-mixed"``: Lightning autocasts convolutions and matrix products to bfloat16
  and the task puts weights and batches in the channels-last layout (``channels_last=None`` turns it on under bf16).

The recipe modes run with the allocator setting of every ``python -m zoo`` run (`zoo.runtime.allocator`: large freed
blocks kept for the next step); the plain loop runs with glibc's malloc as a plain script has it, in its steady state:
blocks up to 32 MiB reused, larger ones mapped anew each time, freed memory above 64 MiB handed back. That is where
glibc's own dynamic threshold ends up after large blocks have been freed, at its most favourable, so the plain loop is
timed at least as fast as in a script of its own. The setting is switched with ``mallopt`` before each round.

The three modes take turns in rounds of ``--steps`` steps each, so all see the same state of a shared machine; the
first round is a warm-up. A mode's time per step is the median over rounds of its mean step time (Lightning: from
``on_train_batch_start`` to ``on_train_batch_end``, which includes the optimizer step). Printed per model: images per
second of each mode, fast/plain and fast/recipe-fp32 time ratios, and the fraction of the matrix units' peak the fast
path reaches: FLOPs of one training step (``torch.utils.flop_counter`` on forward and backward: 2 per multiply-add of
convolutions and matrix products) divided by the step time and by the peak, computed as cores x clock x 1024 bf16
FLOPs per cycle per core (one AMX ``TDPBF16PS`` does 16 x 16 x 32 multiply-adds, 16,384 FLOPs, and a core issues one
every 16 cycles), with the clock from ``/proc/cpuinfo`` (the highest ``cpu MHz`` seen).

Targets (ResNet-18 and AlexNet): fast / plain <= 0.4.

    python bench/vision_cpu.py [--rounds 4] [--steps 3] [--models lenet resnet18 alexnet]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import time
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from _interleave import bench_line
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import zoo  # noqa: E402
from zoo.runtime import allocator  # noqa: E402
from zoo.runtime.precision import cpu_has_bf16_matrix_units  # noqa: E402

TARGET = 0.4
M_MMAP_THRESHOLD = -3  # mallopt parameter, glibc's malloc.h
#: name -> (zoo model name, constructor arguments, image size, batch size)
MODELS = {
    "lenet": ("lenet", {}, 28, 256),
    "resnet18": ("resnet18", {"variant": "d2l", "in_channels": 1}, 96, 256),
    "alexnet": ("alexnet", {}, 224, 128),
}
MODES = ("plain", "recipe fp32", "fast")


class StepTimer(L.Callback):
    """Wall time of each training step (start of the batch to its end, optimizer step included)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.times.append(time.perf_counter() - self._start)


def peak_flops() -> tuple[float, str]:
    """(bf16 FLOP/s of the AMX units, how it was computed)."""
    cores = len(os.sched_getaffinity(0))
    mhz = [float(line.split(":")[1]) for line in Path("/proc/cpuinfo").read_text().splitlines()
           if line.startswith("cpu MHz")]
    ghz = max(mhz) / 1000 if mhz else float("nan")
    return cores * ghz * 1e9 * 1024, f"{cores} cores x {ghz:.2f} GHz x 1024 bf16 FLOP/cycle"


def step_flops(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    counter = FlopCounterMode(display=False)
    with counter:
        F.cross_entropy(net(x), y).backward()
    net.zero_grad(set_to_none=True)
    return float(counter.get_total_flops())


def use_malloc(kept: bool) -> None:
    """glibc's malloc as the zoo sets it (``kept``), or as a plain script has it after large blocks were freed."""
    if kept:
        allocator.keep_freed_memory()
    else:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest dynamic threshold (DEFAULT_MMAP_THRESHOLD_MAX)
        libc.mallopt(allocator.M_TRIM_THRESHOLD, 64 << 20)  # twice it, as the dynamic rule sets it
        libc.mallopt(allocator.M_MMAP_MAX, 65536)  # glibc's default
        libc.malloc_trim(0)


def plain_round(net, optimizer, batches, steps: int) -> float:
    """Mean seconds per step of the plain loop over ``steps`` batches."""
    start = time.perf_counter()
    for x, y in batches[:steps]:
        loss = F.cross_entropy(net(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def recipe_round(model, batches, steps: int, precision: str) -> float:
    """Mean seconds per step of a Trainer fitting the zoo model on ``steps + 1`` batches (the first one dropped)."""
    timer = StepTimer()
    trainer = L.Trainer(max_steps=steps + 1, precision=precision, accelerator="cpu", devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        num_sanity_val_steps=0, callbacks=[timer])
    trainer.fit(model, DataLoader(batches[: steps + 1], batch_size=None))
    return statistics.fmean(timer.times[1:])


def bench_model(name: str, rounds: int, steps: int, peak: float) -> dict[str, float]:
    model_name, kwargs, size, batch = MODELS[name]
    torch.manual_seed(0)
    batches = [(torch.rand(batch, 1, size, size), torch.randint(0, 10, (batch,))) for _ in range(steps + 1)]
    recipe = zoo.create_model(model_name, image_size=size, num_classes=10, **kwargs)
    fast = zoo.create_model(model_name, image_size=size, num_classes=10, **kwargs)
    plain_net = zoo.create_model(model_name, image_size=size, num_classes=10, **kwargs).net
    plain_opt = torch.optim.Adam(plain_net.parameters(), lr=1e-3)
    flops = step_flops(plain_net, *batches[0])
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for r in range(rounds + 1):  # round 0 is a warm-up
        use_malloc(kept=False)
        got = {"plain": plain_round(plain_net, plain_opt, batches, steps)}
        use_malloc(kept=True)
        got["recipe fp32"] = recipe_round(recipe, batches, steps, "32-true")
        got["fast"] = recipe_round(fast, batches, steps, "bf16-mixed")
        if r:
            for mode, seconds in got.items():
                times[mode].append(seconds)
        print(f"  {name} round {r}{' (warm-up)' if not r else ''}: "
              + ", ".join(f"{m} {s * 1e3:.0f} ms" for m, s in got.items()), flush=True)
    med = {mode: statistics.median(values) for mode, values in times.items()}
    print(f"{name} at {size}x{size}, batch {batch}: "
          + ", ".join(f"{m} {batch / med[m]:.0f} img/s ({med[m] * 1e3:.0f} ms/step)" for m in MODES)
          + f"; fast/plain {med['fast'] / med['plain']:.3f}, fast/recipe-fp32 {med['fast'] / med['recipe fp32']:.3f},"
          f" recipe-fp32/plain {med['recipe fp32'] / med['plain']:.3f}; {flops / 1e9:.1f} GFLOP per step, fast path "
          f"at {flops / med['fast'] / peak:.1%} of the AMX peak", flush=True)
    return {**med, "flops": flops}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="timed rounds after the warm-up (default: 4)")
    parser.add_argument("--steps", type=int, default=3, help="steps of each mode per round (default: 3)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    peak, how = peak_flops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, AMX bf16 usable: {cpu_has_bf16_matrix_units()}; "
          f"AMX peak {peak / 1e12:.2f} TFLOP/s ({how}); {args.rounds} rounds of {args.steps} steps per mode",
          flush=True)
    results = {name: bench_model(name, args.rounds, args.steps, peak) for name in args.models}
    ratios = {name: r["fast"] / r["plain"] for name, r in results.items() if name in ("resnet18", "alexnet")}
    worst = max(ratios.values()) if ratios else float("nan")
    bench_line("vision_cpu_fast_over_plain", worst, "<=", TARGET,
               note=" ".join(f"{n}={v:.3f}" for n, v in ratios.items()))


if __name__ == "__main__":
    main()
