"""What every run of ``python -m zoo`` gets, and the callbacks recipes name: ``zoo.runtime.LossCurvePlot``.

* `zoo.runtime.callbacks`: the interrupt checkpoint, the throttled progress bar, and ``LogRMSE`` (a recipe's metric);
* `zoo.runtime.run_control`: Ctrl-C and SIGTERM at a batch end, wall-time checkpoints, non-finite losses, DDP
  timeouts;
* `zoo.runtime.loggers`: the CSV logger and those chosen by ``--logger``, all in the run's folder;
* `zoo.runtime.plots`: ``curves.png`` at the end of a run; `zoo.runtime.summary`: the end-of-run summary.

Public names load lazily (no Lightning import until one is used).
"""

from __future__ import annotations

from zoo.registry import Registry, lazy_attributes

CALLBACKS = Registry("callback")
CALLBACKS.add("zoo.runtime.callbacks", "LogRMSE", "SaveOnInterrupt", "ThrottledProgressBar")
CALLBACKS.add("zoo.runtime.plots", "CurvesPlot", "LossCurvePlot")
CALLBACKS.add("zoo.runtime.run_control", "RunControl")

__all__ = sorted(CALLBACKS)

__getattr__, __dir__ = lazy_attributes("zoo.runtime", globals(), CALLBACKS)
