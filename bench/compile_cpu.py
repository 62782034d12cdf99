"""Does the tasks' ``compile`` option (torch.compile, `zoo.tasks.base.ZooTask.configure_model`) pay on the CPU?

For ``gru_lyrics`` (book 6.7.4; the real lyrics, with its held-out validation text) and ``lenet_fashion_mnist``
(book 5.5; 60,000 random 28x28 images in the real IDX format, as ``bench/lenet_step.py``), each recipe runs a 5-epoch
``fit`` twice from the same seed, eager and with ``--model.init_args.compile true``, and the wall time of the whole
``fit`` is compared, compile time included (what a user of a short CPU run pays). Both runs must end at the same
training loss (within 1e-3: compiled kernels may round differently).

The result of each is the ratio compiled/eager time. Target: <= 1.0, i.e. compiling wins within 5 epochs; where it
does not, ``compile`` stays off by default (it does), and the ``fail`` in the summary only says so.

    python bench/compile_cpu.py [--epochs 5] [--recipes gru_lyrics lenet_fashion_mnist] [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from _interleave import bench_line
from lenet_step import write_idx

from zoo.cli import recipe_path, run_lightning_cli

TARGET = 1.0
LOSS_TOLERANCE = 1e-3


def fit_seconds(recipe: str, compile: bool, epochs: int, tmp: Path, extra: list[str]) -> tuple[float, float]:
    """(wall seconds of ``trainer.fit``, final train/loss) of one run of ``recipe``."""
    cli = run_lightning_cli(
        ["--config", str(recipe_path(recipe)), "--seed_everything=0", f"--trainer.max_epochs={epochs}",
         "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
         f"--trainer.default_root_dir={tmp / f'runs_{recipe}_{compile}'}", f"--model.init_args.compile={compile}",
         *extra],
        run=False,
    )
    start = time.perf_counter()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    seconds = time.perf_counter() - start
    torch._dynamo.reset()  # the next run compiles from scratch, as a new process would
    return seconds, float(cli.trainer.callback_metrics["train/loss"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--recipes", nargs="+", default=["gru_lyrics", "lenet_fashion_mnist"],
                        choices=["gru_lyrics", "lenet_fashion_mnist"])
    parser.add_argument("--n-train", type=int, default=60_000, help="LeNet's training images")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 6,000 LeNet images (a smoke test)")
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # LightningCLI below gets its arguments explicitly
    if args.quick:
        args.epochs, args.n_train = 2, 6_000
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; {args.epochs} epochs per run, compile time included")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        extra = {"gru_lyrics": [], "lenet_fashion_mnist": [f"--data.init_args.data_dir={tmp}"]}
        if "lenet_fashion_mnist" in args.recipes:
            write_idx(tmp, args.n_train, 10_000)
        for recipe in args.recipes:
            eager, eager_loss = fit_seconds(recipe, False, args.epochs, tmp, extra[recipe])
            compiled, compiled_loss = fit_seconds(recipe, True, args.epochs, tmp, extra[recipe])
            gap = abs(eager_loss - compiled_loss)
            print(f"{recipe}: eager {eager:.1f} s, compiled {compiled:.1f} s (ratio {compiled / eager:.3f}); final "
                  f"train loss eager {eager_loss:.6f}, compiled {compiled_loss:.6f} (difference {gap:.2e})")
            bench_line(f"compile_cpu_{recipe}", compiled / eager, "<=", TARGET, extra_ok=gap <= LOSS_TOLERANCE,
                       note=f"{args.epochs}-epoch fit compiled/eager incl. compile ({compiled:.0f} s vs {eager:.0f} "
                            f"s); fail = compile stays off")


if __name__ == "__main__":
    main()
