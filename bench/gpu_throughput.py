"""Training throughput of two recipes' networks on one device, by precision, memory format and torch.compile.

* ``resnet18``: the network of ``recipes/resnet18_fashion_mnist.yaml`` (book 5.11: `zoo.ResNet18`, 1 input channel,
  10 classes) on random float images of the recipe's input shape (batch 256 x 1 x 96 x 96), Adam 1e-3, cross-entropy;
  at precision 32 and bf16-mixed, with and without ``channels_last``, eager and compiled (8 configurations).
* ``gru``: the network of ``recipes/gru_lyrics.yaml`` (book 6.7.4: `zoo.nets.recurrent_lm.RecurrentLM`, nn.GRU, 1,027
  characters, 256 hidden) on random windows of the recipe's shape (batch 32 x 35 steps), Adam 1e-2 and the book's
  clipping (global norm 0.01); precision 32 and bf16-mixed, eager and compiled (4 configurations).

"bf16-mixed" is what Lightning's ``precision="bf16-mixed"`` does: the forward and the loss under
``torch.autocast(dtype=torch.bfloat16)``, float32 weights and optimizer. A step is forward, loss, backward, (clipping,)
optimizer step; after warm-up steps (which include the compilation, reported as "warm-up s") steps are timed for
``--seconds`` each, with the device synchronised, and the table gives ms per step, items per second (images or
tokens) and the speed relative to the model's float32 eager row. A configuration that fails prints its error in the
table instead of stopping the bench; ``--budget`` stops starting new ones when the time is spent.

    python bench/gpu_throughput.py --device cuda                 # bench/gpu.sh runs this on a GPU machine
    python bench/gpu_throughput.py --device cpu --quick          # a smoke test of every code path on the CPU
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from zoo import ResNet18
from zoo.nets.recurrent_lm import RecurrentLM


@dataclass
class Config:
    model: str
    precision: str  # "32" or "bf16-mixed"
    channels_last: bool
    compile: bool

    def label(self) -> str:
        return f"{self.model:<8} | {self.precision:<10} | {'yes' if self.channels_last else 'no':<13} | " \
               f"{'yes' if self.compile else 'no':<7}"


def configs(models: list[str], compile_too: bool) -> list[Config]:
    out = []
    for model in models:
        formats = (False, True) if model == "resnet18" else (False,)
        compiles = (False, True) if compile_too else (False,)
        for precision, channels_last, compile in itertools.product(("32", "bf16-mixed"), formats, compiles):
            out.append(Config(model, precision, channels_last, compile))
    return out


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_step(config: Config, device: torch.device, quick: bool) -> tuple[Callable[[], None], int]:
    """A closure running one training step, and the items (images or tokens) a step processes."""
    torch.manual_seed(0)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.precision == "bf16-mixed")
    if config.model == "resnet18":
        batch, size = (4, 96) if quick else (256, 96)
        net = ResNet18(num_classes=10, in_channels=1, image_size=size).net.to(device)
        x = torch.rand(batch, 1, size, size, device=device)
        y = torch.randint(0, 10, (batch,), device=device)
        if config.channels_last:
            net = net.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        items, clip = batch, None
    else:
        batch, steps, vocab = (4, 35, 1027) if quick else (32, 35, 1027)
        net = RecurrentLM(vocab, "gru", 256).to(device)
        x = torch.randint(0, vocab, (batch, steps), device=device)
        y = torch.randint(0, vocab, (batch, steps), device=device)
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
        items, clip = batch * steps, 0.01
    if config.compile:
        net.compile()

    def step() -> None:
        with autocast:
            out = net(x)
            logits = out[0] if isinstance(out, tuple) else out  # the language model also returns its state
            loss = F.cross_entropy(logits.flatten(0, -2).float(), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        optimizer.step()

    return step, items


def measure(config: Config, device: torch.device, warmup: int, seconds: float, quick: bool) -> dict[str, float]:
    step, items = make_step(config, device, quick)
    start = time.perf_counter()
    for _ in range(warmup):
        step()
    sync(device)
    warm = time.perf_counter() - start
    n, start = 0, time.perf_counter()
    while True:
        step()
        n += 1
        if n >= 2 and (n % 5 == 0 or quick):  # synchronising every step would cost time on the GPU
            sync(device)
            if time.perf_counter() - start >= seconds:
                break
    elapsed = time.perf_counter() - start
    return {"warmup_s": warm, "ms": 1e3 * elapsed / n, "items_per_s": items * n / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--models", nargs="+", default=["resnet18", "gru"], choices=["resnet18", "gru"])
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per configuration")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (they include compiling)")
    parser.add_argument("--budget", type=float, default=720.0, help="start no configuration after this many seconds")
    parser.add_argument("--no-compile", action="store_true", help="leave out the compiled configurations")
    parser.add_argument("--quick", action="store_true", help="batch 4, 2 warm-up steps, 0.5 s per configuration")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup = 0.5, 2
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        name = torch.cuda.get_device_name(device)
    else:
        name = f"CPU, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}"
    print(f"torch {torch.__version__} on {name}{' (quick: batch 4)' if args.quick else ''}", flush=True)

    rows, baseline, begin = [], {}, time.perf_counter()
    for config in configs(args.models, not args.no_compile):
        if time.perf_counter() - begin > args.budget:
            rows.append((config, "skipped: --budget spent"))
            continue
        try:
            result = measure(config, device, args.warmup, args.seconds, args.quick)
        except Exception as exc:  # noqa: BLE001 - one failing configuration must not stop the table
            rows.append((config, f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"))
        else:
            if config.precision == "32" and not config.channels_last and not config.compile:
                baseline[config.model] = result["items_per_s"]
            rows.append((config, result))
        print(f"  done: {config.label()} ({time.perf_counter() - begin:.0f} s so far)", flush=True)
        torch._dynamo.reset()
        if device.type == "cuda":
            torch.cuda.empty_cache()

    unit = {"resnet18": "images/s", "gru": "tokens/s"}
    print("\nmodel    | precision  | channels_last | compile | warm-up s | ms/step  | items/s            | vs fp32 "
          "eager\n---------+------------+---------------+---------+-----------+----------+--------------------+---------")
    for config, result in rows:
        if isinstance(result, str):
            print(f"{config.label()} | {result}")
            continue
        base = baseline.get(config.model)
        relative = f"{result['items_per_s'] / base:.2f}x" if base else "-"
        rate = result["items_per_s"]
        rate_text = f"{rate:>9,.0f}" if rate >= 100 else f"{rate:>9.2f}"
        print(f"{config.label()} | {result['warmup_s']:9.1f} | {result['ms']:8.2f} | "
              f"{rate_text} {unit[config.model]:<8} | {relative}")
    print(f"\ntotal {time.perf_counter() - begin:.0f} s", flush=True)


if __name__ == "__main__":
    main()
