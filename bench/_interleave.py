"""Shared by the benches: time a Lightning run and a plain PyTorch loop epoch by epoch in one process.

After each Lightning training epoch, `Interleave` runs one epoch of the plain loop, so both sides see the same state
of a shared machine, whose speed drifts by tens of percent over minutes. A Lightning epoch is timed from its start
to the next one's, less the plain epoch in between: it includes everything Lightning does per epoch (checkpoints,
logging, progress bar, samples). The first pair is a warm-up and is dropped.
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

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.starts.append(time.perf_counter())

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        seconds, result = self.plain_epoch()
        self.plain_times.append(seconds)
        print(f"\n  plain epoch {len(self.plain_times) - 1}: {seconds:.3f} s, {result}")

    def on_train_end(self, trainer, pl_module) -> None:
        self.starts.append(time.perf_counter())  # closes the last epoch

    def pairs(self) -> tuple[list[float], list[float]]:
        """(Lightning seconds, plain seconds) of each epoch pair after the warm-up."""
        light = [b - a - p for a, b, p in zip(self.starts, self.starts[1:], self.plain_times)]
        return light[1:], self.plain_times[1:]


def report(light: list[float], plain: list[float], show: Callable[[float], str], ratio_of: str,
           target: float) -> float:
    """Print each pair and the median over pairs of the ratio Lightning/plain.

    ``show`` formats an epoch's seconds (as images/s, or s/epoch). ``ratio_of`` is ``"speed"`` (plain seconds /
    Lightning seconds, target a minimum) or ``"time"`` (Lightning seconds / plain seconds, target a maximum).
    """
    speed = ratio_of == "speed"
    ratios = [p / lt if speed else lt / p for lt, p in zip(light, plain)]
    for i, (lt, p, r) in enumerate(zip(light, plain, ratios), start=1):
        print(f"pair {i}: plain {show(p)}, Lightning {show(lt)}, ratio {r:.3f}")
    ratio = statistics.median(ratios)
    print(f"\nplain PyTorch: {show(statistics.median(plain))} (median epoch)")
    print(f"Lightning:     {show(statistics.median(light))} (median epoch)")
    met = ratio >= target if speed else ratio <= target
    print(f"ratio Lightning/plain ({ratio_of}), median of {len(ratios)} interleaved epoch pairs: {ratio:.3f} (range "
          f"{min(ratios):.3f}-{max(ratios):.3f}; target {'>=' if speed else '<='} {target}: "
          f"{'met' if met else 'NOT met'})")
    return ratio
