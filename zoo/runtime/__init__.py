"""What every run of ``python -m zoo`` gets, and the callbacks recipes name: ``zoo.runtime.LossCurvePlot``.

* `zoo.runtime.callbacks`: the interrupt checkpoint, the progress bar (a throttled bar on a terminal, one line per
  epoch otherwise), and ``LogRMSE`` (a recipe's metric);
* `zoo.runtime.run_control`: Ctrl-C and SIGTERM at a batch end, wall-time checkpoints, non-finite losses, DDP
  timeouts;
* `zoo.runtime.loggers`: the CSV logger and those chosen by ``--logger``, all in the run's folder;
* `zoo.runtime.plots`: ``curves.png`` at the end of a run; `zoo.runtime.summary`: the end-of-run summary;
* `zoo.runtime.precision`: whether bf16 is fast here, and a warning when it is not;
* `zoo.runtime.allocator`: freed activations kept for the next step on the CPU instead of mapped anew each time.

Public names load lazily (no Lightning import until one is used).
"""

from __future__ import annotations

from zoo.registry import Registry, lazy_attributes

CALLBACKS = Registry("callback")
CALLBACKS.add("zoo.runtime.allocator", "KeepFreedMemory")
CALLBACKS.add("zoo.runtime.callbacks", "EpochLines", "LogRMSE", "SaveOnInterrupt", "ThrottledProgressBar")
CALLBACKS.add("zoo.runtime.plots", "CurvesPlot", "LossCurvePlot")
CALLBACKS.add("zoo.runtime.run_control", "RunControl")
CALLBACKS.add("zoo.runtime.precision", "PrecisionCheck")
CALLBACKS.add("zoo.runtime.summary", "FitClock")

__all__ = sorted(CALLBACKS)

__getattr__, __dir__ = lazy_attributes("zoo.runtime", globals(), CALLBACKS)
