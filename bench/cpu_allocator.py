"""Seconds per training step of the book's convnets on the CPU with glibc's default malloc against the zoo's setting
(`zoo.runtime.allocator.keep_freed_memory`: large freed blocks kept for reuse instead of unmapped), side by side.

The setting holds for the rest of a process once made, so each measurement is its own short process: a pair is one
process of each kind, started one after the other (the order alternates from pair to pair), each timing ``--steps``
training steps after two warm-up steps on the same random batch. Each step is the recipe's: channels-last weights and
batches, ``torch.autocast`` to bfloat16 (``--precision bf16``, the chapter-5 recipes' fast path) or float32, Adam's
fused step. Printed per model: the median step time of each kind, the median of the pairs' ratios (kept / default),
and the page faults and system CPU seconds per step, where the default allocator's time goes.

Target: no model slower with the setting (worst ratio <= 1.05, the noise of one pair on a shared machine).

    python bench/cpu_allocator.py [--pairs 3] [--steps 4] [--precision bf16] [--models nin alexnet]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from _interleave import bench_line

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.05
#: name -> (constructor arguments, image size, batch size), as the recipes (book 5.5 to 5.12)
MODELS = {
    "lenet": ({}, 28, 256),
    "alexnet": ({}, 224, 128),
    "vgg11": ({"ratio": 8}, 224, 64),
    "nin": ({}, 224, 128),
    "googlenet": ({}, 96, 128),
    "resnet18": ({"variant": "d2l", "in_channels": 1}, 96, 256),
    "densenet": ({}, 96, 256),
}

CHILD = """
import json, resource, sys, time
import torch, torch.nn.functional as F
import zoo
from zoo.runtime.allocator import keep_freed_memory
name, kwargs, size, batch, steps, bf16, keep = json.loads(sys.argv[1])
if keep:
    assert keep_freed_memory()
torch.manual_seed(0)
net = zoo.create_model(name, image_size=size, num_classes=10, **kwargs).net.to(memory_format=torch.channels_last)
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
x = torch.rand(batch, 1, size, size).contiguous(memory_format=torch.channels_last)
y = torch.randint(0, 10, (batch,))
def step():
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = F.cross_entropy(net(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
for _ in range(2):
    step()
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
for _ in range(steps):
    step()
seconds, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"step": seconds / steps, "faults": (r1.ru_minflt - r0.ru_minflt) / steps,
                  "system": (r1.ru_stime - r0.ru_stime) / steps}))
"""


def measure(name: str, steps: int, bf16: bool, keep: bool) -> dict[str, float]:
    kwargs, size, batch = MODELS[name]
    args = json.dumps([name, kwargs, size, batch, steps, bf16, keep])
    out = subprocess.run([sys.executable, "-c", CHILD, args], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_model(name: str, pairs: int, steps: int, bf16: bool) -> float:
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    ratios = []
    for pair in range(pairs):
        order = (False, True) if pair % 2 == 0 else (True, False)
        got = {keep: measure(name, steps, bf16, keep) for keep in order}
        for keep, result in got.items():
            runs[keep].append(result)
        ratios.append(got[True]["step"] / got[False]["step"])
        print(f"  {name} pair {pair + 1}: default {got[False]['step'] * 1e3:.0f} ms, kept {got[True]['step'] * 1e3:.0f}"
              f" ms per step", flush=True)

    def median(keep: bool, key: str) -> float:
        return statistics.median(r[key] for r in runs[keep])

    ratio = statistics.median(ratios)
    _, size, batch = MODELS[name]
    print(f"{name} at {size}x{size}, batch {batch}: default malloc {median(False, 'step') * 1e3:.0f} ms/step "
          f"({median(False, 'faults'):,.0f} page faults, {median(False, 'system'):.2f} s system CPU per step), "
          f"freed memory kept {median(True, 'step') * 1e3:.0f} ms/step ({median(True, 'faults'):,.0f} faults, "
          f"{median(True, 'system'):.2f} s); kept/default {ratio:.3f} (median of {pairs} pairs)", flush=True)
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=3, help="process pairs per model (default: 3)")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per process (default: 4)")
    parser.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    print(f"{args.precision}, channels-last, fused Adam; {args.pairs} pairs of processes of {args.steps} steps",
          flush=True)
    ratios = {name: bench_model(name, args.pairs, args.steps, args.precision == "bf16") for name in args.models}
    bench_line("cpu_allocator_kept_over_default", max(ratios.values()), "<=", TARGET,
               note=" ".join(f"{n}={v:.3f}" for n, v in ratios.items()))


if __name__ == "__main__":
    main()
