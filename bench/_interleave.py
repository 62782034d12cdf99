"""Shared by the benches: time a Lightning run and a plain PyTorch loop epoch by epoch in one process.

After each Lightning training epoch, `Interleave` runs one epoch of the plain loop, so both sides see the same state
of a shared machine, whose speed drifts by tens of percent over minutes. A Lightning epoch is timed from its start
to the next one's, less the plain epoch in between: it includes everything Lightning does per epoch (checkpoints,
logging, progress bar, samples). The first pair is a warm-up and is dropped.

Both wall-clock seconds (what the targets are about) and CPU seconds of the process (``time.process_time``) are
kept. On a machine shared with other jobs the CPU seconds drift less, since waiting for a core costs wall time but
no CPU time; `report` prints their ratio beside the wall-clock one as a cross-check.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import lightning as L


class Interleave(L.Callback):
    """Runs ``plain_epoch()`` (returns (seconds, a result to print)) after each Lightning training epoch."""

    def __init__(self, plain_epoch: Callable[[], tuple[float, str]]) -> None:
        self.plain_epoch = plain_epoch
        self.starts: list[float] = []
        self.plain_times: list[float] = []
        self.starts_cpu: list[float] = []
        self.plain_cpu: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.starts.append(time.perf_counter())
        self.starts_cpu.append(time.process_time())

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        cpu = time.process_time()
        seconds, result = self.plain_epoch()
        self.plain_cpu.append(time.process_time() - cpu)
        self.plain_times.append(seconds)
        print(f"\n  plain epoch {len(self.plain_times) - 1}: {seconds:.3f} s, {result}")

    def on_train_end(self, trainer, pl_module) -> None:
        self.starts.append(time.perf_counter())  # closes the last epoch
        self.starts_cpu.append(time.process_time())

    def pairs(self) -> tuple[list[float], list[float]]:
        """(Lightning seconds, plain seconds) of each epoch pair after the warm-up."""
        light = [b - a - p for a, b, p in zip(self.starts, self.starts[1:], self.plain_times)]
        return light[1:], self.plain_times[1:]

    def cpu_pairs(self) -> tuple[list[float], list[float]]:
        """(Lightning CPU seconds, plain CPU seconds) of each epoch pair after the warm-up."""
        light = [b - a - p for a, b, p in zip(self.starts_cpu, self.starts_cpu[1:], self.plain_cpu)]
        return light[1:], self.plain_cpu[1:]


def report(light: list[float], plain: list[float], show: Callable[[float], str], ratio_of: str,
           target: float, sides: tuple[str, str] = ("plain PyTorch", "Lightning"),
           cpu: tuple[list[float], list[float]] | None = None) -> float:
    """Print each pair and the median over pairs of the ratio Lightning/plain.

    ``show`` formats an epoch's seconds (as images/s, or s/epoch). ``ratio_of`` is ``"speed"`` (plain seconds /
    Lightning seconds, target a minimum) or ``"time"`` (Lightning seconds / plain seconds, target a maximum).
    ``sides`` names the plain side and the Lightning side in the printout; ``cpu``, the (Lightning, plain) CPU
    seconds of the same pairs (`Interleave.cpu_pairs`), adds the ratio of CPU time.
    """
    speed = ratio_of == "speed"
    ratios = [p / lt if speed else lt / p for lt, p in zip(light, plain)]
    for i, (lt, p, r) in enumerate(zip(light, plain, ratios), start=1):
        print(f"pair {i}: {sides[0]} {show(p)}, {sides[1]} {show(lt)}, ratio {r:.3f}")
    ratio = statistics.median(ratios)
    width = max(len(s) for s in sides) + 1
    print(f"\n{sides[0] + ':':<{width}} {show(statistics.median(plain))} (median epoch)")
    print(f"{sides[1] + ':':<{width}} {show(statistics.median(light))} (median epoch)")
    met = ratio >= target if speed else ratio <= target
    print(f"ratio {sides[1]}/{sides[0]} ({ratio_of}), median of {len(ratios)} interleaved epoch pairs: {ratio:.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}; target {'>=' if speed else '<='} {target}: "
          f"{'met' if met else 'NOT met'})")
    if cpu is not None:
        cpu_ratios = [p / lt if speed else lt / p for lt, p in zip(*cpu)]
        print(f"the same ratio in CPU seconds of the process (less sensitive to other jobs): "
              f"{statistics.median(cpu_ratios):.3f} (range {min(cpu_ratios):.3f}-{max(cpu_ratios):.3f})")
    return ratio


def bench_line(name: str, value: float, op: str, target: float, extra_ok: bool = True, note: str = "") -> bool:
    """Print the machine-readable last line that ``bench/summary.py`` collects; returns whether the target is met.

    Format: ``BENCH <name> <value> <op> <target> <pass|fail> [note]``, ``op`` one of ``>=`` and ``<=``.
    ``extra_ok`` is a second condition of the target (for example equal perplexities).
    """
    if op not in (">=", "<="):
        raise ValueError(f"op must be '>=' or '<=', got {op!r}")
    ok = (value >= target if op == ">=" else value <= target) and extra_ok
    print(f"BENCH {name} {value:.3f} {op} {target:g} {'pass' if ok else 'fail'}" + (f" {note}" if note else ""),
          flush=True)
    return ok
