"""``python -m zoo results``: run recipes, write one ``results/<recipe>.json`` each, and rewrite the README's recipe
tables from those files (issue 15: the book's number beside ours, produced by a command rather than typed).

    python -m zoo results [NAME ...] [--readme README.md] [--out results] [--root runs/results]
    python -m zoo results --no-run          # only rewrite the README tables from results/*.json
    python -m zoo results --check           # only compare: exit 1 and list every cell that disagrees

The book's side lives in ``results/BOOK.yaml``: the README tables (id, column titles, rows) and, per recipe, the book's
experiment and printed result, the metrics.csv column that is our value, a template for the "ours" cell, free-text
notes and a rough CPU time (``cpu_minutes``; null where the data is not on this project's machines). Without names,
every recipe with ``cpu_minutes <= DEFAULT_MAX_MINUTES`` runs. Each recipe runs in a subprocess exactly as a user would
run it (``python -m zoo recipe NAME``, the recipe's own seed), and its JSON holds the book value, our value, the
metric's name, seed, epochs, wall time, torch and Lightning versions, the CPU kernel PyTorch chose (AVX2/AVX512: the
last digits of a run depend on it), the commit (``-dirty`` when tracked files differ from it), date and command line.

The tables are written between ``<!-- results:begin <id> -->`` and ``<!-- results:end -->``; everything in the "ours"
column comes from the JSON files (a recipe without one reads "not measured"), and `check_readme` lists the cells of a
README that disagree with them, which a test runs on the repository's README.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from zoo.errors import ConfigError

__all__ = ["DEFAULT_MAX_MINUTES", "NOT_MEASURED", "check_readme", "default_names", "environment", "last_values",
           "load_book", "load_results", "parse_run_output", "render_table", "results_command", "rewrite_readme",
           "write_result"]

#: recipes whose ``cpu_minutes`` is at most this run when ``make results`` is given no names
DEFAULT_MAX_MINUTES = 15
#: the "ours" cell of a recipe without a results file
NOT_MEASURED = "not measured"
BEGIN = "<!-- results:begin {} -->"
END = "<!-- results:end -->"
_BLOCK = re.compile(r"<!-- results:begin (?P<id>[\w-]+) -->\n(?P<body>.*?)<!-- results:end -->", re.S)
#: a ``key: value`` line of the run summary (``w: [2.0, -3.4]``, ``train/ppl: 1.02``, ``epochs run: 160``)
_PRINTED = re.compile(r"^\s*(?P<key>[A-Za-z][\w /.\-]{0,39}):\s(?P<value>.+?)\s*$")


# ---------------------------------------------------------------- the book's side
def load_book(path: str | Path) -> dict[str, Any]:
    """``results/BOOK.yaml`` as ``{"tables": {...}, "recipes": {...}}``, checked: every row has an entry."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} not found: it holds the book's side of the README tables (results/BOOK.yaml)")
    book = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    tables, recipes = book.get("tables") or {}, book.get("recipes") or {}
    missing = [r for t in tables.values() for r in t["rows"] if r not in recipes]
    if missing:
        raise ConfigError(f"{path}: rows without a recipe entry: {', '.join(missing)}")
    return {"tables": tables, "recipes": recipes}


def default_names(book: Mapping[str, Any], max_minutes: float = DEFAULT_MAX_MINUTES) -> list[str]:
    """The recipes run without NAMES: data here and a CPU run within ``max_minutes``, in table order."""
    rows = [r for t in book["tables"].values() for r in t["rows"]]
    return [r for r in rows if (m := book["recipes"][r].get("cpu_minutes")) is not None and m <= max_minutes]


# ---------------------------------------------------------------- one run -> one JSON file
def last_values(metrics_csv: str | Path) -> dict[str, float]:
    """The last logged (non-empty, finite) value of every column of a Lightning ``metrics.csv``."""
    with open(metrics_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    values: dict[str, float] = {}
    for row in rows:
        for column, cell in row.items():
            if column in ("epoch", "step") or not cell:
                continue
            try:
                value = float(cell)
            except ValueError:
                continue
            if math.isfinite(value):
                values[column] = value
    return values


def parse_run_output(stdout: str) -> tuple[Path | None, dict[str, str]]:
    """``(log folder, printed)`` from a run's output: the ``logs:`` folder of its summary and every ``key: value`` line
    from the summary banner on (``w: [1.9997, -3.3996]``, ``epochs run: 3``)."""
    lines = stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if " run summary " in line), None)
    printed: dict[str, str] = {}
    for line in lines[start + 1:] if start is not None else []:
        match = _PRINTED.match(line)
        if match and match["key"] not in printed:
            printed[match["key"].strip()] = match["value"]
    logs = printed.get("logs")
    return (Path(logs) if logs else None), printed


def environment() -> dict[str, str]:
    """What decides the last digits of a run: versions, the CPU kernel PyTorch dispatches to, and the commit."""
    import lightning
    import torch

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False)

    head = git("rev-parse", "HEAD")
    commit = head.stdout.strip() if head.returncode == 0 else "unknown"
    if commit != "unknown" and git("diff", "--quiet", "HEAD", "--").returncode != 0:
        commit += "-dirty"
    return {"torch": torch.__version__, "lightning": lightning.__version__,
            "cpu_kernel": torch.backends.cpu.get_cpu_capability(), "commit": commit}


def recipe_seed(name: str) -> int | None:
    """The recipe's ``seed_everything`` (what a plain ``python -m zoo recipe NAME`` uses)."""
    import yaml

    from zoo.cli.recipes import recipe_path

    seed = (yaml.safe_load(Path(recipe_path(name)).read_text(encoding="utf-8")) or {}).get("seed_everything")
    return None if seed is None or isinstance(seed, bool) else int(seed)


def write_result(name: str, entry: Mapping[str, Any], stdout: str, out_dir: str | Path, *, wall_time_s: float,
                 command: str, seed: int | None, env: Mapping[str, str] | None = None) -> Path:
    """Write ``<out_dir>/<name>.json`` from a finished run's output (its summary names the log folder, whose
    ``metrics.csv`` holds the values) and the book entry; return its path."""
    log_dir, printed = parse_run_output(stdout)
    metrics_csv = log_dir / "metrics.csv" if log_dir else None
    if metrics_csv is None or not metrics_csv.is_file():
        raise ConfigError(f"{name}: the run printed no log folder with a metrics.csv (did it finish?)")
    values = last_values(metrics_csv)
    metric = entry.get("metric")
    if metric and metric not in values:
        raise ConfigError(f"{name}: {metrics_csv} has no column {metric!r} (columns: {', '.join(values)}); fix "
                          "'metric' in results/BOOK.yaml")
    epochs = printed.get("epochs run")
    result = {
        "recipe": name,
        "book_experiment": entry.get("experiment"),
        "book": entry.get("book"),
        "book_value": entry.get("book_value"),
        "metric": metric,
        "value": values.get(metric) if metric else None,
        "seed": seed,
        "epochs": int(epochs) if epochs and epochs.isdigit() else None,
        "wall_time_s": round(wall_time_s, 1),
        **(env if env is not None else environment()),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
        "values": values,
        "printed": {k: v for k, v in printed.items() if k not in ("checkpoint", "logs") and k not in values},
    }
    out = Path(out_dir) / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def run_recipe(name: str, entry: Mapping[str, Any], out_dir: Path, root: Path) -> tuple[Path | None, str]:
    """Train one recipe in a subprocess and write its JSON; ``(path or None, one-line report)``."""
    args = ["-m", "zoo", "recipe", name, "--trainer.enable_progress_bar", "false",
            "--trainer.default_root_dir", str(root / name)]
    command = shlex.join(["python", *args])
    print(f"== {name}: {command}", flush=True)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "results.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        return None, f"{name}: FAILED (exit {proc.returncode}, log {root / name / 'results.log'}):\n{tail}"
    try:
        path = write_result(name, entry, proc.stdout, out_dir, wall_time_s=wall, command=command,
                            seed=recipe_seed(name))
    except ConfigError as exc:
        return None, f"{name}: FAILED: {exc}"
    result = json.loads(path.read_text(encoding="utf-8"))
    return path, (f"{name}: {result['metric']} = {result['value']} (book {result['book_value']}), "
                  f"{wall:.0f} s, {result['cpu_kernel']} -> {path}")


# ---------------------------------------------------------------- results -> README tables
def load_results(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """``{recipe: result}`` of every ``<out_dir>/*.json``."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(out_dir).glob("*.json"))}


def ours_cell(entry: Mapping[str, Any], result: Mapping[str, Any] | None) -> str:
    """The "ours" cell: the entry's template filled from the JSON file, or "not measured"."""
    if result is None or not entry.get("ours"):
        return NOT_MEASURED
    try:
        text = entry["ours"].format(values=result.get("values", {}), printed=result.get("printed", {}))
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"{result.get('recipe')}: the 'ours' template {entry['ours']!r} needs {exc}, which "
                          "its results file lacks") from None
    seed = result.get("seed")
    return text + (f" (seed {seed})" if seed not in (None, 0) else "")


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def render_table(table_id: str, book: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> str:
    """The markdown of one table (with a line saying how its measured rows were measured), without the markers."""
    table = book["tables"][table_id]
    lines = ["| " + " | ".join(table["header"]) + " |", "|" + "---|" * len(table["header"])]
    for name in table["rows"]:
        entry = book["recipes"][name]
        label = entry.get("label") or f"`{name}`"
        cells = [label, entry.get("experiment"), entry.get("book"), ours_cell(entry, results.get(name)),
                 entry.get("notes", "")]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    measured = [results[n] for n in table["rows"] if n in results and book["recipes"][n].get("ours")]
    lines.append("")
    if measured:
        setups = sorted({(r["cpu_kernel"], r["torch"], r["lightning"]) for r in measured})
        how = "; ".join(f"{k} CPU kernels, torch {t}, Lightning {lv}" for k, t, lv in setups)
        lines.append(f"*ours*: written by `make results` from `results/<recipe>.json` ({len(measured)} of "
                     f"{len(table['rows'])} rows measured: {how}); each file holds the seed, epochs, wall time and "
                     "commit.")
    else:
        lines.append("*ours*: no row of this table has a file in `results/` yet (`make results NAMES=...`).")
    return "\n".join(lines) + "\n"


def rewrite_readme(text: str, book: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> str:
    """``text`` with every ``results:begin``/``results:end`` block replaced by its rendered table."""
    def replace(match: re.Match) -> str:
        table_id = match["id"]
        if table_id not in book["tables"]:
            raise ConfigError(f"README block {table_id!r} has no table in results/BOOK.yaml")
        return BEGIN.format(table_id) + "\n" + render_table(table_id, book, results) + END

    return _BLOCK.sub(replace, text)


def _rows(body: str) -> dict[str, list[str]]:
    """``{first cell: cells}`` of the table rows of a block (the header and the rule left out)."""
    rows = {}
    for line in body.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows[cells[0]] = cells
    return rows


def check_readme(text: str, book: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every disagreement between the README's generated tables and what the results files say they must hold
    (an empty list: they agree). A table missing its markers counts as one disagreement."""
    found = {m["id"]: m["body"] for m in _BLOCK.finditer(text)}
    problems = []
    for table_id in book["tables"]:
        if table_id not in found:
            problems.append(f"table {table_id!r}: no {BEGIN.format(table_id)} ... {END} block in the README")
            continue
        expected, actual = render_table(table_id, book, results), found[table_id]
        if expected == actual:
            continue
        header = book["tables"][table_id]["header"]
        want, have = _rows(expected), _rows(actual)
        for key, cells in want.items():
            got = have.get(key)
            if got is None:
                problems.append(f"table {table_id!r}: row {key} is missing")
                continue
            for title, w, g in zip(header, cells, got + [""] * (len(cells) - len(got))):
                if w != g:
                    problems.append(f"table {table_id!r}, row {key}, column {title!r}: README has {g!r}, the results "
                                    f"files give {w!r}")
        problems += [f"table {table_id!r}: row {key} is not in results/BOOK.yaml" for key in have if key not in want]
        if all(not p.startswith(f"table {table_id!r}") for p in problems):
            problems.append(f"table {table_id!r}: the text around the rows differs from the generated one")
    return problems


# ---------------------------------------------------------------- the command
def results_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo results", description=(
        "Run recipes (each in its own process), write results/<recipe>.json, and rewrite the README's recipe tables "
        "from those files and results/BOOK.yaml."))
    parser.add_argument("names", nargs="*", help=f"recipes to run (default: those with cpu_minutes <= "
                                                 f"{DEFAULT_MAX_MINUTES} in results/BOOK.yaml)")
    parser.add_argument("--readme", default="README.md", help="the README whose tables are rewritten")
    parser.add_argument("--out", default="results", help="folder of the <recipe>.json files")
    parser.add_argument("--book", default=None, help="the book's side (default: <out>/BOOK.yaml)")
    parser.add_argument("--root", default="runs/results", help="where the runs write their logs and checkpoints")
    parser.add_argument("--no-run", action="store_true", help="only rewrite the README from the existing files")
    parser.add_argument("--check", action="store_true", help="only compare the README with the files")
    args = parser.parse_args(list(argv))
    out = Path(args.out)
    book = load_book(args.book or out / "BOOK.yaml")
    readme = Path(args.readme)
    if not readme.is_file():
        raise ConfigError(f"{readme} not found (--readme)")
    if args.check:
        problems = check_readme(readme.read_text(encoding="utf-8"), book, load_results(out))
        print("\n".join(problems) if problems else f"{readme} agrees with {out}/*.json")
        return 1 if problems else 0
    failed = []
    if not args.no_run:
        names = args.names or default_names(book)
        unknown = [n for n in names if n not in book["recipes"]]
        if unknown:
            raise ConfigError(f"not in {args.book or out / 'BOOK.yaml'}: {', '.join(unknown)} (add an entry: book "
                              "value, metric, 'ours' template)")
        for name in names:
            path, report = run_recipe(name, book["recipes"][name], out, Path(args.root))
            print(report, flush=True)
            if path is None:
                failed.append(name)
    text = readme.read_text(encoding="utf-8")
    new = rewrite_readme(text, book, load_results(out))
    if new != text:
        readme.write_text(new, encoding="utf-8")
    print(f"{readme}: tables rewritten from {out}/*.json" if new != text else f"{readme}: already up to date")
    if failed:
        print(f"failed: {' '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
