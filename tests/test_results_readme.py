"""`make results`: the README's recipe tables agree with results/*.json (no training here), and the pieces that
write them: the JSON writer on a fake run folder, the table renderer, the check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from zoo.cli import main, recipes
from zoo.cli.results_commands import (
    NOT_MEASURED,
    check_readme,
    default_names,
    last_values,
    load_book,
    load_results,
    parse_run_output,
    render_table,
    rewrite_readme,
    write_result,
)
from zoo.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
ENV = {"torch": "2.14.1", "lightning": "2.6.6", "cpu_kernel": "AVX2", "commit": "abc123"}


@pytest.fixture(scope="module")
def repo():
    """(README text, book, results) of the repository."""
    return ((ROOT / "README.md").read_text(encoding="utf-8"), load_book(ROOT / "results" / "BOOK.yaml"),
            load_results(ROOT / "results"))


def test_the_readme_tables_agree_with_the_results_files(repo):
    text, book, results = repo
    assert check_readme(text, book, results) == []


def test_a_number_edited_by_hand_in_the_readme_is_caught(repo):
    text, book, results = repo
    measured = [n for n in results if book["recipes"].get(n, {}).get("ours")]
    assert measured, "results/ holds no measured recipe"
    name = measured[0]
    row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
    ours = row.split(" | ")[3]
    number = re.search(r"\d+\.\d+", ours)[0]
    edited_number = number[:-1] + str((int(number[-1]) + 1) % 10)
    edited = text.replace(row, row.replace(ours, ours.replace(number, edited_number, 1)))
    problems = check_readme(edited, book, results)
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
    assert any(unmeasured in p and "0.999" in p for p in check_readme(typed, book, results))


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
    assert "lenet_fashion_mnist" not in names and "skipgram_ptb" not in names  # no data here / too slow
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
    assert check_readme(text, BOOK, RESULTS)  # the old table disagrees
    new = rewrite_readme(text, BOOK, RESULTS)
    assert new.endswith("<!-- results:end -->\n\nprose\n") and "| `a` | E1 | 0.25 | 0.1235 |" in new
    assert check_readme(new, BOOK, RESULTS) == []
    assert check_readme(new, BOOK, {"a": RESULTS["a"]}) != []  # b's file removed: its row must read "not measured"
    assert check_readme("no markers", BOOK, RESULTS) == ["table 't': no <!-- results:begin t --> ... "
                                                         "<!-- results:end --> block in the README"]


def test_check_command_exit_status(tmp_path, capsys):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "BOOK.yaml").write_text(json.dumps(BOOK), encoding="utf-8")  # JSON is YAML
    readme = tmp_path / "README.md"
    readme.write_text("<!-- results:begin t -->\n<!-- results:end -->\n", encoding="utf-8")
    args = ["results", "--readme", str(readme), "--out", str(tmp_path / "results")]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--check"])
    assert exit_info.value.code == 1 and "row `a` is missing" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--no-run"])
    assert exit_info.value.code == 0 and f"| `a` | E1 | 0.25 | {NOT_MEASURED} |" in readme.read_text(encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--check"])
    assert exit_info.value.code == 0
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "not_in_the_book"])
    assert exit_info.value.code == 1 and "not_in_the_book" in capsys.readouterr().err
