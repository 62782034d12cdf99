"""``python -m zoo export``: a checkpoint's network as an ONNX or TorchScript file, checked against PyTorch.

    python -m zoo export --ckpt runs/gru_lyrics/version_0/checkpoints/last.ckpt --format onnx --out gru.onnx
    python -m zoo export --ckpt <lenet checkpoint> --format torchscript --out exported/lenet.pt [--force]

What each kind of model's graph takes and returns, and why two exporters are used, is `zoo.commands.graph_export`'s
docstring. The command prints the file, its inputs and outputs, and the largest difference from the PyTorch model on
inputs of another batch size (and sequence length) than the export's.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["export_command"]


def export_command(argv: Sequence[str]) -> int:
    """``python -m zoo export``: write the file, then print what it takes and how closely it matches PyTorch."""
    from zoo.commands.graph_export import ATOL, FORMATS, SUPPORTED

    parser = argparse.ArgumentParser(
        prog="python -m zoo export",
        description="Export a zoo checkpoint's network to ONNX or TorchScript. Supported: " + "; ".join(SUPPORTED)
        + ".",
        epilog="example: python -m zoo export --ckpt runs/gru_lyrics/version_0/checkpoints/last.ckpt --format onnx "
               "--out gru_lyrics.onnx")
    parser.add_argument("--ckpt", required=True, help="checkpoint written by a zoo model")
    parser.add_argument("--format", required=True, metavar="|".join(FORMATS), help="onnx or torchscript")
    parser.add_argument("--out", required=True, help="file to write (its folder is created); never the checkpoint")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists (never --ckpt itself)")
    parser.add_argument("--no-check", action="store_true",
                        help=f"skip running the written file against the PyTorch model (atol {ATOL:g})")
    args = parser.parse_args(argv)

    from zoo.commands.graph_export import export_model
    from zoo.errors import ConfigError
    from zoo.files import check_output_file
    from zoo.models import load_task

    if args.format not in FORMATS:  # before loading the checkpoint: a typo should not cost a load
        raise ConfigError(f"unknown export format {args.format!r}; choose one of: {', '.join(FORMATS)}")
    example = "model." + ("onnx" if args.format == "onnx" else "pt")
    check_output_file(args.out, flag="--out", replace=args.force, inputs=[args.ckpt], example=example)
    task = load_task(args.ckpt)
    result = export_model(task, args.format, args.out, force=args.force, check=not args.no_check,
                          inputs=[args.ckpt])
    print(f"wrote {result.path} ({args.format}, {type(task).__name__}, {result.path.stat().st_size:,} bytes)")
    for kind in ("inputs", "outputs"):
        for name, text in result.metadata[kind].items():
            print(f"  {kind[:-1]:>6} {name}: {text}")
    if result.max_abs_diff is None:
        reason = "--no-check" if args.no_check else "onnxruntime is not installed"
        print(f"not checked against PyTorch ({reason})")
    else:
        shapes = ", ".join(f"{name} {tuple(shape)}" for name, shape in result.checked_shapes.items())
        print(f"checked: max |file - PyTorch| = {result.max_abs_diff:.2e} (<= {ATOL:g}) on {shapes}")
    return 0
