"""`make results`: the results tables of docs/results.md agree with results/*.json (no training here), and the pieces
that write them: the JSON writer on a fake run folder, the table renderer, the check, and the refusals: a page whose
markers do not pair up is never rewritten, and a damaged results or book file stops the command with one line that
names it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from zoo.cli import main, recipes
from zoo.commands.results import (
    DEFAULT_PAGE,
    NOT_MEASURED,
    check_markers,
    check_page,
    default_names,
    last_values,
    load_book,
    load_results,
    parse_run_output,
    render_table,
    rewrite_page,
    write_result,
)
from zoo.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / DEFAULT_PAGE
ENV = {"torch": "2.14.1", "lightning": "2.6.6", "cpu_kernel": "AVX2", "commit": "abc123"}


@pytest.fixture(scope="module")
def repo():
    """(results page text, book, results) of the repository."""
    return PAGE.read_text(encoding="utf-8"), load_book(ROOT / "results" / "BOOK.yaml"), load_results(ROOT / "results")


def test_the_results_page_agrees_with_the_results_files(repo):
    text, book, results = repo
    assert check_page(text, book, results) == []


def test_the_runs_with_other_seeds_are_what_the_notes_quote(repo):
    """``results/seeds/<N>/<recipe>.json`` holds a run of a known recipe with seed N, and the recipe's notes quote
    its test accuracy (rounded to 3 places) and point to the folder."""
    _, book, _ = repo
    files = sorted((ROOT / "results" / "seeds").glob("*/*.json"))
    assert files
    for path in files:
        result = json.loads(path.read_text(encoding="utf-8"))
        assert result["seed"] == int(path.parent.name) and result["recipe"] == path.stem, path
        notes = book["recipes"][path.stem]["notes"]
        assert "results/seeds/" in notes and f"{result['value']:.3f}" in notes, (path, notes)


def test_the_command_checks_the_results_page_by_default(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as exit_info:
        main(["results", "--check"])
    assert exit_info.value.code == 0 and f"{DEFAULT_PAGE} agrees with results/*.json" in capsys.readouterr().out


def test_a_number_edited_by_hand_on_the_page_is_caught(repo):
    text, book, results = repo
    measured = [n for n in results if book["recipes"].get(n, {}).get("ours")]
    assert measured, "results/ holds no measured recipe"
    name = measured[0]
    row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
    ours = row.split(" | ")[3]
    number = re.search(r"\d+\.\d+", ours)[0]
    edited_number = number[:-1] + str((int(number[-1]) + 1) % 10)
    edited = text.replace(row, row.replace(ours, ours.replace(number, edited_number, 1)))
    problems = check_page(edited, book, results)
    assert len(problems) == 1 and name in problems[0] and edited_number in problems[0] and "ours" in problems[0]


def test_every_row_without_a_file_reads_not_measured(repo):
    text, book, results = repo
    for table in book["tables"].values():
        for name in table["rows"]:
            label = book["recipes"][name].get("label") or f"`{name}`"
            row = next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
            assert (row.split(" | ")[3] == NOT_MEASURED) is (name not in results), name
    unmeasured = next(n for t in book["tables"].values() for n in t["rows"] if n not in results)
    row = next(line for line in text.splitlines() if line.startswith(f"| `{unmeasured}` |"))
    typed = text.replace(row, row.replace(f"| {NOT_MEASURED} |", "| 0.999 |"))  # a number typed without a file
    assert any(unmeasured in p and "0.999" in p for p in check_page(typed, book, results))


def test_the_book_file_names_real_recipes_and_their_metric(repo):
    _, book, _ = repo
    known = recipes()
    for name, entry in book["recipes"].items():
        if entry.get("label"):  # a command, not a recipe
            continue
        assert name in known, name
        assert entry["metric"] and "{values[" + entry["metric"] + "]" in entry["ours"], name


def test_default_names_are_the_quick_recipes_whose_data_is_here(repo):
    _, book, _ = repo
    names = default_names(book)
    assert "linreg_adam_torch_airfoil" in names and "gru_lyrics" in names
    assert "lenet_fashion_mnist" in names  # Fashion-MNIST comes from the operating system's package
    assert "alexnet_fashion_mnist" not in names and "skipgram_ptb" not in names  # longer than 15 minutes
    assert "resnet18_hotdog" not in names  # no data here
    assert default_names(book, max_minutes=1) == [n for n in names if book["recipes"][n]["cpu_minutes"] <= 1]


# ---------------------------------------------------------------- the JSON writer, on a fake run folder
SUMMARY = """Seed set to 0
curves: {logs}/curves.png

======================== run summary ========================
epochs run: 2
     train/full_loss: 0.244014
checkpoint: {logs}/checkpoints/last.ckpt
logs: {logs}
w: [-0.6218, -0.2979]
b: [0.0084]
"""
METRICS = "epoch,step,train/full_loss,train/loss,w_norm\n0,9,0.5,,\n0,19,0.3,0.4,0.9\n1,29,0.25,,\n1,39,0.244014,,\n"
ENTRY = {"experiment": "E7.8 `optim.Adam`", "book": "0.242066", "book_value": 0.242066, "metric": "train/full_loss",
         "ours": "loss {values[train/full_loss]:.6f}; w {printed[w]}"}


@pytest.fixture
def run(tmp_path) -> str:
    logs = tmp_path / "runs" / "version_0"
    logs.mkdir(parents=True)
    (logs / "metrics.csv").write_text(METRICS, encoding="utf-8")
    return SUMMARY.format(logs=logs)


def test_json_writer_reads_the_run_folder(tmp_path, run):
    path = write_result("linreg_adam_torch_airfoil", ENTRY, run, tmp_path / "results", wall_time_s=17.63,
                        command="python -m zoo recipe linreg_adam_torch_airfoil", seed=0, env=ENV)
    assert path == tmp_path / "results" / "linreg_adam_torch_airfoil.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    assert result["value"] == 0.244014 and result["metric"] == "train/full_loss" and result["book_value"] == 0.242066
    assert result["values"] == {"train/full_loss": 0.244014, "train/loss": 0.4, "w_norm": 0.9}  # the last of each
    assert result["printed"] == {"epochs run": "2", "w": "[-0.6218, -0.2979]", "b": "[0.0084]"}
    assert (result["seed"], result["epochs"], result["wall_time_s"], result["cpu_kernel"]) == (0, 2, 17.6, "AVX2")
    for key in ("torch", "lightning", "commit", "date", "command", "recipe"):
        assert result[key], key
    assert "_file" not in result  # the loader's note of where a result came from is never written
    assert load_results(tmp_path / "results")["linreg_adam_torch_airfoil"]["values"] == result["values"]


def test_json_writer_records_the_seed_the_run_used(tmp_path, run):
    """A run started with an added ``--seed_everything 3`` is recorded as seed 3, not as the recipe's seed 0."""
    logs = tmp_path / "runs" / "version_0"
    (logs / "config.yaml").write_text("seed_everything: 3\ntrainer:\n  precision: bf16-mixed\n", encoding="utf-8")
    path = write_result("x", ENTRY, run, tmp_path / "results", wall_time_s=1, command="c", seed=0, env=ENV)
    result = json.loads(path.read_text(encoding="utf-8"))
    assert (result["seed"], result["precision"]) == (3, "bf16-mixed")


def test_json_writer_refuses_a_run_without_the_metric_or_the_folder(tmp_path, run):
    with pytest.raises(ConfigError, match="no column 'val/acc'"):
        write_result("x", {**ENTRY, "metric": "val/acc"}, run, tmp_path, wall_time_s=1, command="c", seed=0, env=ENV)
    with pytest.raises(ConfigError, match="no log folder"):
        write_result("x", ENTRY, "crashed before the summary", tmp_path, wall_time_s=1, command="c", seed=0, env=ENV)
    assert not list(tmp_path.glob("*.json"))


def test_parse_run_output_and_last_values(tmp_path, run):
    logs, printed = parse_run_output(run)
    assert logs == tmp_path / "runs" / "version_0" and printed["epochs run"] == "2"
    assert "curves" not in printed  # lines before the summary are not the run's results
    assert last_values(logs / "metrics.csv")["train/full_loss"] == 0.244014


# ---------------------------------------------------------------- the renderer
BOOK = {
    "tables": {"t": {"header": ["recipe", "book", "book loss", "ours (seed 0)", "notes"], "rows": ["a", "b", "c"]}},
    "recipes": {
        "a": {"experiment": "E1", "book": "0.25", "book_value": 0.25, "metric": "train/loss",
              "ours": "{values[train/loss]:.4f}", "notes": "seeds 1, 2: 0.3, 0.4"},
        "b": {"experiment": "E2 | pipes", "book": "none", "metric": "train/loss", "ours": "{values[train/loss]:.2f}"},
        "c": {"experiment": "E3", "book": "1", "metric": "train/loss", "ours": "{values[train/loss]:.1f}"},
    },
}
RESULTS = {"a": {"recipe": "a", "values": {"train/loss": 0.123456}, "seed": 0, **ENV},
           "b": {"recipe": "b", "values": {"train/loss": 2.0}, "seed": 3, **ENV}}


def test_render_table():
    lines = render_table("t", BOOK, RESULTS).splitlines()
    assert lines[0] == "| recipe | book | book loss | ours (seed 0) | notes |"
    assert lines[2] == "| `a` | E1 | 0.25 | 0.1235 | seeds 1, 2: 0.3, 0.4 |"  # notes stay out of "ours"
    assert lines[3] == "| `b` | E2 \\| pipes | none | 2.00 (seed 3) |  |"  # a seed other than 0 is said
    assert lines[4] == f"| `c` | E3 | 1 | {NOT_MEASURED} |  |"
    assert "2 of 3 rows measured: AVX2 CPU kernels, torch 2.14.1, Lightning 2.6.6" in lines[-1]


def test_rewrite_then_check_round_trip():
    text = "# R\n\n<!-- results:begin t -->\nold table\n<!-- results:end -->\n\nprose\n"
    assert check_page(text, BOOK, RESULTS)  # the old table disagrees
    new = rewrite_page(text, BOOK, RESULTS)
    assert new.endswith("<!-- results:end -->\n\nprose\n") and "| `a` | E1 | 0.25 | 0.1235 |" in new
    assert check_page(new, BOOK, RESULTS) == []
    assert check_page(new, BOOK, {"a": RESULTS["a"]}) != []  # b's file removed: its row must read "not measured"
    assert check_page("no markers", BOOK, RESULTS, where="p.md") == ["table 't': no <!-- results:begin t --> ... "
                                                                     "<!-- results:end --> block in p.md"]


# ---------------------------------------------------------------- the command, on files in a temporary folder
TWO_TABLES = {"tables": {"t": BOOK["tables"]["t"], "u": {**BOOK["tables"]["t"], "rows": ["c"]}},
              "recipes": BOOK["recipes"]}
PAGE_TEXT = ("# Results\n\nIntro prose.\n\n<!-- results:begin t -->\n<!-- results:end -->\n\n"
             "Prose between the tables that must survive.\n\n<!-- results:begin u -->\n<!-- results:end -->\n\nEnd.\n")


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """A results folder with a book file of two tables and one measured recipe, and a page holding both tables."""
    out = tmp_path / "results"
    out.mkdir()
    (out / "BOOK.yaml").write_text(json.dumps(TWO_TABLES), encoding="utf-8")  # JSON is YAML
    (out / "a.json").write_text(json.dumps(RESULTS["a"]), encoding="utf-8")
    page = tmp_path / "docs" / "results.md"
    page.parent.mkdir()
    page.write_text(PAGE_TEXT, encoding="utf-8")
    return {"out": out, "page": page, "book": out / "BOOK.yaml"}


def _run(files, *flags: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(["results", "--page", str(files["page"]), "--out", str(files["out"]), *flags])
    return exit_info.value.code


def test_check_command_exit_status(files, capsys):
    assert _run(files, "--check") == 1 and "row `a` is missing" in capsys.readouterr().out
    assert _run(files, "--no-run") == 0
    text = files["page"].read_text(encoding="utf-8")
    assert "| `a` | E1 | 0.25 | 0.1235 |" in text and f"| `c` | E3 | 1 | {NOT_MEASURED} |" in text
    assert "Prose between the tables that must survive." in text and text.endswith("\n\nEnd.\n")
    assert _run(files, "--check") == 0
    assert _run(files, "not_in_the_book") == 1 and "not_in_the_book" in capsys.readouterr().err


def test_readme_is_another_name_for_page(files, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["results", "--readme", str(files["page"]), "--out", str(files["out"]), "--no-run"])
    assert exit_info.value.code == 0 and "| `a` | E1 |" in files["page"].read_text(encoding="utf-8")


def test_a_page_whose_markers_do_not_pair_up_is_reported_and_never_rewritten(files, capsys):
    broken = PAGE_TEXT.replace("<!-- results:begin t -->\n<!-- results:end -->", "<!-- results:begin t -->\n", 1)
    files["page"].write_text(broken, encoding="utf-8")
    assert _run(files, "--check") == 1
    report = capsys.readouterr().out
    assert f"{files['page']}, line 5" in report and "has no <!-- results:end -->" in report
    assert _run(files, "--no-run") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert str(files["page"]) in err and "line 5" in err and "nothing was rewritten" in err
    assert files["page"].read_text(encoding="utf-8") == broken  # the prose between the tables is still there
    assert _run(files) == 1  # before any recipe runs
    assert files["page"].read_text(encoding="utf-8") == broken


@pytest.mark.parametrize("text, problem", [
    ("<!-- results:begin t -->\n<!-- results:end -->\n<!-- results:end -->\n", "line 3: <!-- results:end --> without"),
    ("<!-- results:begin t -->\n<!-- results:begin u -->\n<!-- results:end -->\n",
     "line 1: <!-- results:begin t --> has"),
    ("<!-- results:begin t -->\n<!-- results:end -->\n<!-- results:begin t -->\n<!-- results:end -->\n",
     "line 3: table 't' appears twice"),
    ("<!-- results:begin -->\n<!-- results:end -->\n", "line 1: '<!-- results:begin -->' is not a marker"),
    ("<!-- results:begin t -->\n<!--results:end-->\n", "line 2: '<!--results:end-->' is not a marker"),
])
def test_marker_problems_name_the_line(text, problem):
    problems = check_markers(text, "p.md")
    assert any(f"p.md, {problem}" in p for p in problems), problems
    with pytest.raises(ConfigError, match="nothing was rewritten"):
        rewrite_page(text, TWO_TABLES, RESULTS, where="p.md")
    assert check_page(text, TWO_TABLES, RESULTS, where="p.md") == problems


def _damage_result(files, text: str) -> Path:
    (files["out"] / "a.json").write_text(text, encoding="utf-8")
    return files["out"] / "a.json"


def _damage_book(files, text: str) -> Path:
    files["book"].write_text(text, encoding="utf-8")
    return files["book"]


_NUMBER_AS_TEXT = json.dumps({**RESULTS["a"], "values": {"train/loss": "0.123456"}})
_NO_KERNEL = json.dumps({k: v for k, v in RESULTS["a"].items() if k != "cpu_kernel"})
_TEXT_TEMPLATE = json.dumps({**TWO_TABLES, "recipes": {**BOOK["recipes"], "a": {
    **BOOK["recipes"]["a"], "ours": "{printed[w]:.2f}"}}})


def _template_formats_text(files) -> Path:
    """A book template that formats a summary line (text) as a number."""
    _damage_result(files, json.dumps({**RESULTS["a"], "printed": {"w": "[1.9997, -3.3996]"}}))
    return _damage_book(files, _TEXT_TEMPLATE)


@pytest.mark.parametrize("damage, expected", [
    (lambda f: _damage_result(f, ""), "is empty"),
    (lambda f: _damage_result(f, "   \n"), "is empty"),
    (lambda f: _damage_result(f, '{"recipe": "a", "values": {'), "is not valid JSON (line 1, column 28"),
    (lambda f: _damage_result(f, "[1, 2]"), "must hold a JSON object written by `make results`, not a list"),
    (lambda f: _damage_result(f, _NUMBER_AS_TEXT), "values['train/loss'] must be a number, not a text ('0.123456')"),
    (lambda f: _damage_result(f, _NO_KERNEL), "has no 'cpu_kernel'"),
    (lambda f: _damage_book(f, "tables:\n  t: {header: [a, b\nrecipes: {}\n"),
     ", line 3, column 8: expected ',' or ']'"),
    (lambda f: _damage_book(f, ""), "is empty"),
    (lambda f: _damage_book(f, "- a\n- b\n"), "must hold a mapping with 'tables' and 'recipes', not a list"),
    (lambda f: _damage_book(f, json.dumps({"tables": {"t": {"header": ["r", "b", "bv", "o", "n"]}},
                                           "recipes": {}})), "table 't' has no 'rows'"),
    (lambda f: _damage_book(f, json.dumps({"tables": {}})), "'recipes' must be a mapping, but it is missing"),
    (lambda f: _damage_book(f, json.dumps({**TWO_TABLES, "recipes": {**BOOK["recipes"], "c": {
        **BOOK["recipes"]["c"], "cpu_minutes": "five"}}})), "recipe 'c': 'cpu_minutes' must be a number or null"),
    (_template_formats_text, "recipe 'a': the 'ours' template '{printed[w]:.2f}' does not fit"),
])
@pytest.mark.parametrize("flag", ["--check", "--no-run"])
def test_a_damaged_results_or_book_file_is_one_line_naming_it(files, capsys, damage, expected, flag):
    if flag == "--no-run":  # tables that would change, so a rewrite is not skipped for having nothing to do
        files["page"].write_text(PAGE_TEXT.replace("<!-- results:end -->", "stale\n<!-- results:end -->"),
                                 encoding="utf-8")
    before = files["page"].read_text(encoding="utf-8")
    path = damage(files)
    assert _run(files, flag) == 1
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert str(path) in err and expected in err, err
    assert "<unicode string>" not in err and "Unknown format code" not in err and "KeyError" not in err
    assert files["page"].read_text(encoding="utf-8") == before
