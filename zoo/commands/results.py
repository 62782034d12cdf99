"""``python -m zoo results``: run recipes, write one ``results/<recipe>.json`` each, and rewrite the results tables of
the documentation (``docs/results.md``) from those files, so the book's number sits beside ours and no number in
them is typed by hand.

    python -m zoo results [NAME ...] [--page docs/results.md] [--out results] [--root runs/results]
    python -m zoo results --no-run          # only rewrite the tables from results/*.json
    python -m zoo results --check           # only compare: exit 1 and list every cell that disagrees

The book's side lives in ``results/BOOK.yaml``: the tables (id, column titles, rows) and, per recipe, the book's
experiment and printed result, the metrics.csv column that is our value, a template for the "ours" cell, free-text
notes and a rough CPU time (``cpu_minutes``; null where the data is not on the machines the results come from).
Without names, every recipe with ``cpu_minutes <= DEFAULT_MAX_MINUTES`` runs. Each recipe runs in a subprocess exactly
as a user would run it (``python -m zoo recipe NAME``, the recipe's own seed), and its JSON holds the book value, our
value, the metric's name, seed, epochs, wall time, torch and Lightning versions, the CPU kernel PyTorch chose
(AVX2/AVX512: the last digits of a run depend on it), the commit (``-dirty`` when tracked files differ from it), date
and command line.

The tables are written between ``<!-- results:begin <id> -->`` and ``<!-- results:end -->``; everything in the "ours"
column comes from the JSON files (a recipe without one reads "not measured"), and `check_page` lists the cells of a
page that disagree with them, which a test runs on the repository's page. Every input is checked before it is used:
a page whose markers do not pair up is never rewritten, and a results file or book file that is not what it should
be (not JSON, not a mapping, a key missing, text where a number belongs) stops the command with one line naming the
file (`ConfigError`, printed as ``error: ...`` with exit status 1).
"""

from __future__ import annotations

import argparse
import contextlib
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

__all__ = ["DEFAULT_MAX_MINUTES", "NOT_MEASURED", "check_markers", "check_page", "default_names", "environment",
           "last_values", "load_book", "load_results", "parse_run_output", "render_table", "results_command",
           "rewrite_page", "write_result"]

#: recipes whose ``cpu_minutes`` is at most this run when ``make results`` is given no names
DEFAULT_MAX_MINUTES = 15
#: the "ours" cell of a recipe without a results file
NOT_MEASURED = "not measured"
#: the page the tables are written into (``--page``)
DEFAULT_PAGE = "docs/results.md"
BEGIN = "<!-- results:begin {} -->"
END = "<!-- results:end -->"
_BLOCK = re.compile(r"<!-- results:begin (?P<id>[\w-]+) -->\n(?P<body>.*?)<!-- results:end -->", re.S)
#: anything that looks like a marker, well formed or not (``<!-- results:begin -->``, ``<!--results:end-->``)
_MARKER = re.compile(r"<!--\s*results:(?P<kind>[^\s>]*)(?P<rest>[^>]*?)\s*-->")
#: a ``key: value`` line of the run summary (``w: [2.0, -3.4]``, ``train/ppl: 1.02``, ``epochs run: 160``)
_PRINTED = re.compile(r"^\s*(?P<key>[A-Za-z][\w /.\-]{0,39}):\s(?P<value>.+?)\s*$")
#: the header of a table: what each of its five columns shows
_COLUMNS = 5


# ---------------------------------------------------------------- checked reading of the inputs
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if _is_number(value) else type(value).__name__)


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); it should be {what}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror or exc}); it should be {what}") from None


def _read_yaml(path: Path) -> Any:
    """The YAML document in ``path``; a syntax error names the file, the line and the column."""
    import yaml

    text = _read_text(path, "the book's side of the results tables (YAML)")
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: {exc.problem or exc.context or 'invalid YAML'}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None


# ---------------------------------------------------------------- the book's side
def load_book(path: str | Path) -> dict[str, Any]:
    """``results/BOOK.yaml`` as ``{"tables": {...}, "recipes": {...}, "path": path}``, checked: every table has a
    header of five titles and a list of rows, every row has a recipe entry, every entry's fields have their types.
    Anything else is a `ConfigError` naming the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} not found: it holds the book's side of the results tables (results/BOOK.yaml)")
    book = _read_yaml(path)
    if book is None:
        raise ConfigError(f"{path} is empty: it must hold 'tables' and 'recipes' (see the comment at the top of the "
                          "repository's results/BOOK.yaml)")
    if not isinstance(book, dict):
        raise ConfigError(f"{path} must hold a mapping with 'tables' and 'recipes', not {_kind(book)}")
    for key in ("tables", "recipes"):
        if not isinstance(book.get(key), dict):
            got = "is missing" if key not in book else f"is {_kind(book[key])}"
            raise ConfigError(f"{path}: '{key}' must be a mapping, but it {got}")
    tables, recipes = book["tables"], book["recipes"]
    for table_id, table in tables.items():
        where = f"{path}: table {table_id!r}"
        if not re.fullmatch(r"[\w-]+", str(table_id)):
            raise ConfigError(f"{where}: a table id may hold only letters, digits, '_' and '-'")
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a mapping with 'header' and 'rows', not {_kind(table)}")
        for key in ("header", "rows"):
            if key not in table:
                raise ConfigError(f"{where} has no '{key}'")
            if not isinstance(table[key], list) or not all(isinstance(x, str) for x in table[key]):
                raise ConfigError(f"{where}: '{key}' must be a list of names, not {_kind(table[key])}")
        if len(table["header"]) != _COLUMNS:
            raise ConfigError(f"{where}: 'header' must name {_COLUMNS} columns (recipe, book experiment, book, ours, "
                              f"notes), got {len(table['header'])}")
    for name, entry in recipes.items():
        where = f"{path}: recipe {name!r}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a mapping (experiment, book, metric, ours, ...), not {_kind(entry)}")
        for key in ("label", "metric", "ours"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise ConfigError(f"{where}: '{key}' must be a text, not {_kind(entry[key])}")
        for key in ("book_value", "cpu_minutes"):
            if entry.get(key) is not None and not _is_number(entry[key]):
                raise ConfigError(f"{where}: '{key}' must be a number or null, not {_kind(entry[key])} "
                                  f"({entry[key]!r})")
        for key in ("experiment", "book", "notes"):
            if isinstance(entry.get(key), (dict, list)):
                raise ConfigError(f"{where}: '{key}' must be a text, not {_kind(entry[key])}")
    missing = [r for t in tables.values() for r in t["rows"] if r not in recipes]
    if missing:
        raise ConfigError(f"{path}: rows without a recipe entry: {', '.join(missing)}")
    return {"tables": tables, "recipes": recipes, "path": str(path)}


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

    from zoo.io.recipe_files import recipe_path

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
    config = saved_config(log_dir)
    precision, device = run_precision_and_device(config)
    result = {
        "recipe": name,
        "book_experiment": entry.get("experiment"),
        "book": entry.get("book"),
        "book_value": entry.get("book_value"),
        "metric": metric,
        "value": values.get(metric) if metric else None,
        "seed": run_seed(config, seed),
        "epochs": int(epochs) if epochs and epochs.isdigit() else None,
        "wall_time_s": round(wall_time_s, 1),
        "precision": precision,
        "device": device,
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


def saved_config(log_dir: Path) -> dict[str, Any]:
    """The ``config.yaml`` LightningCLI saved in a finished run's log folder (``{}`` where there is none)."""
    import yaml

    path = log_dir / "config.yaml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}


def run_precision_and_device(config: Mapping[str, Any]) -> tuple[str, str]:
    """(the Trainer's precision, the device) of a finished run, from its `saved_config`: ``("bf16-mixed", "cpu:
    Intel(R) Xeon(R) Processor, 2 cores, AMX bf16")`` or ``("32-true", "cuda: NVIDIA H100 80GB HBM3")``."""
    trainer = config.get("trainer") or {}
    precision = str(trainer.get("precision") or "32-true")
    return precision, describe_device(str(trainer.get("accelerator") or "auto"))


def run_seed(config: Mapping[str, Any], default: int | None) -> int | None:
    """The seed a finished run used (the ``seed_everything`` of its `saved_config`, which an added
    ``--seed_everything N`` changes), or ``default`` where the config does not say."""
    seed = config.get("seed_everything")
    return default if seed is None or isinstance(seed, bool) else int(seed)


def describe_device(accelerator: str) -> str:
    """The device a run with ``accelerator`` uses on this machine, in words."""
    import os

    import torch

    if accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    from zoo.runtime.precision import cpu_flags, cpu_has_bf16_matrix_units

    model = "CPU"
    with contextlib.suppress(OSError, StopIteration):
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    units = "AMX bf16" if cpu_has_bf16_matrix_units() else ("AVX-512" if "avx512f" in cpu_flags() else "no AMX")
    return f"cpu: {model}, {len(os.sched_getaffinity(0))} cores, {units}"


def run_recipe(name: str, entry: Mapping[str, Any], out_dir: Path, root: Path,
               recipe_args: Sequence[str] = ()) -> tuple[Path | None, str]:
    """Train one recipe in a subprocess (with ``recipe_args`` after the recipe's name) and write its JSON;
    ``(path or None, one-line report)``."""
    args = ["-m", "zoo", "recipe", name, "--trainer.enable_progress_bar", "false",
            "--trainer.default_root_dir", str(root / name), *recipe_args]
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


# ---------------------------------------------------------------- results -> the page's tables
#: what a results file must hold for its row to be drawn: key -> (check, what it must be)
_RESULT_FIELDS = {
    "values": (lambda v: isinstance(v, dict), "a mapping of metric names to numbers"),
    "printed": (lambda v: isinstance(v, dict), "a mapping of summary lines to their text"),
    "seed": (lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)), "a whole number or null"),
    "torch": (lambda v: isinstance(v, str), "a version text"),
    "lightning": (lambda v: isinstance(v, str), "a version text"),
    "cpu_kernel": (lambda v: isinstance(v, str), "a text such as 'AVX2'"),
}


def _load_result(path: Path) -> dict[str, Any]:
    """One ``<recipe>.json``, checked: a JSON object with the fields the tables read, every value a number."""
    text = _read_text(path, "a JSON results file written by `make results`")
    if not text.strip():
        raise ConfigError(f"{path} is empty; run `make results NAMES={path.stem}` again or delete it")
    try:
        result = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); run `make "
                          f"results NAMES={path.stem}` again or delete it") from None
    if not isinstance(result, dict):
        raise ConfigError(f"{path} must hold a JSON object written by `make results`, not {_kind(result)}")
    result.setdefault("printed", {})
    for key, (ok, what) in _RESULT_FIELDS.items():
        if key not in result:
            raise ConfigError(f"{path} has no '{key}' ({what}); run `make results NAMES={path.stem}` again")
        if not ok(result[key]):
            raise ConfigError(f"{path}: '{key}' must be {what}, not {_kind(result[key])} ({result[key]!r})")
    for column, value in result["values"].items():
        if not _is_number(value):
            raise ConfigError(f"{path}: values[{column!r}] must be a number, not {_kind(value)} ({value!r})")
    result["_file"] = str(path)  # for messages; never written back
    return result


def load_results(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """``{recipe: result}`` of every ``<out_dir>/*.json``, each checked (`ConfigError` naming a bad file)."""
    return {p.stem: _load_result(p) for p in sorted(Path(out_dir).glob("*.json"))}


def ours_cell(entry: Mapping[str, Any], result: Mapping[str, Any] | None, *, name: str = "",
              book_path: str = "results/BOOK.yaml") -> str:
    """The "ours" cell: the entry's template filled from the JSON file, or "not measured"."""
    if result is None or not entry.get("ours"):
        return NOT_MEASURED
    name = name or str(result.get("recipe", "?"))
    file = result.get("_file", f"results/{name}.json")
    template = entry["ours"]
    try:
        fields = {k: v for k, v in result.items() if k not in ("values", "printed")}
        text = template.format(values=result.get("values", {}), printed=result.get("printed", {}), **fields)
    except (KeyError, IndexError) as exc:
        raise ConfigError(f"{book_path}, recipe {name!r}: the 'ours' template {template!r} needs {exc}, which "
                          f"{file} lacks") from None
    except (ValueError, TypeError):
        raise ConfigError(f"{book_path}, recipe {name!r}: the 'ours' template {template!r} does not fit what {file} "
                          "holds: a number format such as ':.6f' needs a number, and only 'values' hold numbers "
                          "('printed' holds text)") from None
    seed = result.get("seed")
    return text + (f" (seed {seed})" if seed not in (None, 0) else "")


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def render_table(table_id: str, book: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> str:
    """The markdown of one table (with a line saying how its measured rows were measured), without the markers."""
    table = book["tables"][table_id]
    book_path = book.get("path", "results/BOOK.yaml")
    lines = ["| " + " | ".join(table["header"]) + " |", "|" + "---|" * len(table["header"])]
    for name in table["rows"]:
        entry = book["recipes"][name]
        label = entry.get("label") or f"`{name}`"
        cells = [label, entry.get("experiment"), entry.get("book"),
                 ours_cell(entry, results.get(name), name=name, book_path=book_path), entry.get("notes", "")]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    measured = [results[n] for n in table["rows"] if n in results and book["recipes"][n].get("ours")]
    lines.append("")
    if measured:
        setups = sorted({(r.get("device") or f"{r['cpu_kernel']} CPU kernels", r["torch"], r["lightning"])
                         for r in measured})
        how = "; ".join(f"{d}, torch {t}, Lightning {lv}" for d, t, lv in setups)
        lines.append(f"*ours*: written by `make results` from `results/<recipe>.json` ({len(measured)} of "
                     f"{len(table['rows'])} rows measured: {how}); each file holds the seed, epochs, wall time and "
                     "commit.")
    else:
        lines.append("*ours*: no row of this table has a file in `results/` yet (`make results NAMES=...`).")
    return "\n".join(lines) + "\n"


def check_markers(text: str, where: str = "the page") -> list[str]:
    """Every problem with the ``results:begin``/``results:end`` markers of ``text``: a begin without its end, an end
    without a begin, a marker without an id or with a mangled form, an id used twice (an empty list: they pair up).
    Each problem names ``where`` and the line."""
    problems, open_id, open_line, seen = [], None, 0, {}
    for match in _MARKER.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        kind, table_id = match["kind"], match["rest"].strip()
        if kind == "begin" and table_id and match[0] == BEGIN.format(table_id) and re.fullmatch(r"[\w-]+", table_id):
            if open_id is not None:
                problems.append(f"{where}, line {open_line}: {BEGIN.format(open_id)} has no {END} before the next "
                                f"begin marker (line {line})")
            if table_id in seen:
                problems.append(f"{where}, line {line}: table {table_id!r} appears twice (first at line "
                                f"{seen[table_id]})")
            seen.setdefault(table_id, line)
            open_id, open_line = table_id, line
        elif kind == "end" and not table_id and match[0] == END:
            if open_id is None:
                problems.append(f"{where}, line {line}: {END} without a begin marker before it")
            open_id = None
        else:
            problems.append(f"{where}, line {line}: {match[0]!r} is not a marker the command knows (write "
                            f"{BEGIN.format('<id>')} ... {END})")
    if open_id is not None:
        problems.append(f"{where}, line {open_line}: {BEGIN.format(open_id)} has no {END} after it")
    return problems


def rewrite_page(text: str, book: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                 where: str = "the page") -> str:
    """``text`` with every ``results:begin``/``results:end`` block replaced by its rendered table. A text whose
    markers do not pair up, or a block of a table the book file lacks, is refused (`ConfigError`): rewriting it
    would replace prose with a table."""
    problems = check_markers(text, where)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{problems[0]}{more}; fix the markers by hand, nothing was rewritten")
    book_path = book.get("path", "results/BOOK.yaml")

    def replace(match: re.Match) -> str:
        table_id = match["id"]
        if table_id not in book["tables"]:
            raise ConfigError(f"{where}: block {table_id!r} has no table in {book_path}; nothing was rewritten")
        return BEGIN.format(table_id) + "\n" + render_table(table_id, book, results) + END

    return _BLOCK.sub(replace, text)


def _rows(body: str) -> dict[str, list[str]]:
    """``{first cell: cells}`` of the table rows of a block (the header and the rule left out)."""
    rows = {}
    for line in body.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if cells:
                rows[cells[0]] = cells
    return rows


def check_page(text: str, book: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
               where: str = "the page") -> list[str]:
    """Every disagreement between the page's generated tables and what the results files say they must hold
    (an empty list: they agree). Markers that do not pair up, a table missing its markers, or a block the book
    file has no table for each count as one disagreement."""
    problems = check_markers(text, where)
    if problems:
        return problems
    found = {m["id"]: m["body"] for m in _BLOCK.finditer(text)}
    book_path = book.get("path", "results/BOOK.yaml")
    problems += [f"{where}: block {table_id!r} has no table in {book_path}" for table_id in found
                 if table_id not in book["tables"]]
    for table_id in book["tables"]:
        if table_id not in found:
            problems.append(f"table {table_id!r}: no {BEGIN.format(table_id)} ... {END} block in {where}")
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
                    problems.append(f"table {table_id!r}, row {key}, column {title!r}: {where} has {g!r}, the "
                                    f"results files give {w!r}")
        problems += [f"table {table_id!r}: row {key} is not in {book_path}" for key in have if key not in want]
        if all(not p.startswith(f"table {table_id!r}") for p in problems):
            problems.append(f"table {table_id!r}: the text around the rows differs from the generated one")
    return problems


# ---------------------------------------------------------------- the command
def results_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo results", description=(
        "Run recipes (each in its own process), write results/<recipe>.json, and rewrite the results tables of the "
        f"documentation ({DEFAULT_PAGE}) from those files and results/BOOK.yaml."))
    parser.add_argument("names", nargs="*", help=f"recipes to run (default: those with cpu_minutes <= "
                                                 f"{DEFAULT_MAX_MINUTES} in results/BOOK.yaml)")
    parser.add_argument("--page", "--readme", dest="page", default=DEFAULT_PAGE,
                        help=f"the Markdown page whose tables are rewritten (default: {DEFAULT_PAGE}; --readme is "
                             "the same option)")
    parser.add_argument("--out", default="results", help="folder of the <recipe>.json files")
    parser.add_argument("--book", default=None, help="the book's side (default: <out>/BOOK.yaml)")
    parser.add_argument("--root", default="runs/results", help="where the runs write their logs and checkpoints")
    parser.add_argument("--no-run", action="store_true", help="only rewrite the page from the existing files")
    parser.add_argument("--check", action="store_true", help="only compare the page with the files")
    parser.add_argument("--recipe-args", default="", help="arguments added to every recipe's command line, e.g. "
                                                          "\"--trainer.precision 32-true\" (use another --out)")
    parser.add_argument("--no-page", action="store_true", help="write the JSON files only, leave the page alone "
                                                               "(for runs kept beside the reference, in another --out)")
    args = parser.parse_args(list(argv))
    out = Path(args.out)
    book = load_book(args.book or out / "BOOK.yaml")
    page = Path(args.page)
    if not page.is_file():
        raise ConfigError(f"{page} not found (--page)")
    text = _read_text(page, "a Markdown page")
    if args.check:
        problems = check_page(text, book, load_results(out), where=str(page))
        print("\n".join(problems) if problems else f"{page} agrees with {out}/*.json")
        return 1 if problems else 0
    if not args.no_page:
        rewrite_page(text, book, load_results(out), where=str(page))  # refuse a page or a file it cannot use, early
    failed = []
    if not args.no_run:
        names = args.names or default_names(book)
        unknown = [n for n in names if n not in book["recipes"]]
        if unknown:
            raise ConfigError(f"not in {book['path']}: {', '.join(unknown)} (add an entry: book value, metric, "
                              "'ours' template)")
        for name in names:
            path, report = run_recipe(name, book["recipes"][name], out, Path(args.root),
                                      shlex.split(args.recipe_args))
            print(report, flush=True)
            if path is None:
                failed.append(name)
    if not args.no_page:
        text = _read_text(page, "a Markdown page")
        new = rewrite_page(text, book, load_results(out), where=str(page))
        if new != text:
            page.write_text(new, encoding="utf-8")
        print(f"{page}: tables rewritten from {out}/*.json" if new != text else f"{page}: already up to date")
    if failed:
        print(f"failed: {' '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
