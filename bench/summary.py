"""One table of every bench's result against its target, from the ``BENCH`` lines in the benches' logs.

Every bench ends with a line printed by `_interleave.bench_line`::

    BENCH <name> <value> <op> <target> <pass|fail> [note]

``make bench`` writes each bench's output to ``runs/bench/<bench>.log`` and then runs this script on those logs. A log
without a ``BENCH`` line (a bench that crashed or was stopped) shows as a row of its own, so nothing goes missing
from the table silently.

    python bench/summary.py runs/bench/*.log        # or: ... | python bench/summary.py -
    python bench/summary.py --strict LOGS            # exit 1 unless every target is met
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Row:
    bench: str  # the log's name (the bench script), or "-" for standard input
    name: str
    value: float | None
    op: str
    target: float | None
    verdict: str  # "pass", "fail" or "no result"
    note: str


def parse_line(line: str, bench: str) -> Row | None:
    """The `Row` of a ``BENCH`` line, or None for any other line (progress bars, the benches' own printout)."""
    line = line.rstrip("\n").split("\r")[-1]  # a progress bar may share the line, ended by carriage returns
    if not line.startswith("BENCH "):
        return None
    parts = line.split(" ", 6)
    if len(parts) < 6 or parts[3] not in (">=", "<=") or parts[5] not in ("pass", "fail"):
        return Row(bench, parts[1] if len(parts) > 1 else "?", None, "", None, "malformed", line)
    try:
        value, target = float(parts[2]), float(parts[4])
    except ValueError:
        return Row(bench, parts[1], None, "", None, "malformed", line)
    return Row(bench, parts[1], value, parts[3], target, parts[5], parts[6] if len(parts) > 6 else "")


def read_rows(sources: list[str]) -> list[Row]:
    rows: list[Row] = []
    for source in sources:
        if source == "-":
            lines, bench = sys.stdin.read().splitlines(), "-"
        else:
            path = Path(source)
            lines, bench = path.read_text(encoding="utf-8", errors="replace").splitlines(), path.stem
        found = [row for row in (parse_line(line, bench) for line in lines) if row is not None]
        missing = Row(bench, "-", None, "", None, "no result", "no BENCH line: the bench failed or was stopped")
        rows += found or [missing]
    return rows


def table(rows: list[Row]) -> str:
    header = ("bench", "measure", "value", "target", "result", "note")
    body = [(r.bench, r.name, "" if r.value is None else f"{r.value:.3f}",
             "" if r.target is None else f"{r.op} {r.target:g}", r.verdict, r.note) for r in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *body)]
    widths[-1] = 0  # the note is last and left ragged
    lines = [" | ".join(f"{cell:<{w}}" for cell, w in zip(row, widths)).rstrip() for row in (header, *body)]
    lines.insert(1, "-+-".join("-" * w for w in widths[:-1]) + "-+-" + "-" * 4)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logs", nargs="+", help="log files of the benches ('-' for standard input)")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless every target is met")
    args = parser.parse_args(argv)
    rows = read_rows(args.logs)
    met = sum(r.verdict == "pass" for r in rows)
    print(table(rows))
    print(f"\n{met} of {len(rows)} targets met")
    return 0 if met == len(rows) or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
