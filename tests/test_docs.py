"""The front door and the documentation site: README.md is short and starts with the two commands a newcomer runs;
the site of docs/*.md builds with MkDocs in strict mode (a broken link or anchor, or a page missing from `nav`, fails
it); the pages speak of the project only; and the README's model table names every model of the catalogue."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import zoo

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
FIRST_COMMANDS = [
    "make recipe NAME=gru_lyrics     # train the book's GRU language model on Jay Chou lyrics (sets up .venv first)",
    "make test                       # the offline test suite (sets up .venv too)",
]
MAX_README_LINES = 250

pytest.importorskip("mkdocs", reason="MkDocs is in the dev extra: pip install -e '.[dev]'")


def _mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # the theme's notice about MkDocs 2.0 is not about these pages
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
                           "--site-dir", str(site)], capture_output=True, text=True, env=env, timeout=300,
                          check=False)


def _warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.match(r"\s*(WARNING|ERROR)\b", line)]


def test_the_readme_is_short_and_starts_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; the details belong in docs/"
    assert lines[0].startswith("# "), "the title comes first"
    body = [line for line in lines[1:8] if line.strip() and not line.startswith("```")]
    assert body[:2] == FIRST_COMMANDS


def test_the_site_builds_in_strict_mode_with_every_page_in_nav(tmp_path):
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["strict"] is True and config["site_dir"] == "runs/site"
    assert config["validation"]["nav"]["omitted_files"] == "warn"  # strict turns it into a failure
    nav_pages = {next(iter(entry.values())) for entry in config["nav"]}
    assert nav_pages == {p.name for p in DOCS.glob("*.md")}
    result = _mkdocs_build(ROOT / "mkdocs.yml", tmp_path / "site")
    output = result.stdout + result.stderr
    assert result.returncode == 0 and not _warnings(output), output
    for page in nav_pages:
        assert (tmp_path / "site" / page.replace(".md", ".html")).is_file(), page


def test_a_page_left_out_of_nav_or_a_broken_anchor_fails_the_build(tmp_path):
    """The strict settings really bite: a copy of the site with one stray page, then with one broken anchor."""
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "docs" / "stray.md").write_text("# A page nobody listed\n", encoding="utf-8")
    result = _mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0 and "stray.md" in result.stdout + result.stderr
    (tmp_path / "docs" / "stray.md").unlink()
    index = tmp_path / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n[broken](models.md#no-such-heading)\n", encoding="utf-8")
    result = _mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0 and "no-such-heading" in result.stdout + result.stderr


def test_the_pages_speak_of_the_project_only():
    """No tracker numbers, no planning notes, no paths outside the repository, no private names of the tutorials."""
    pattern = re.compile(r"issue [0-9]+|DESIGN\.md|shared/data|this round|this session|\.\./shared|seed 00\d|"
                         r"S00\d-\d|/work/", re.IGNORECASE)
    for path in [README, *sorted(DOCS.glob("*.md"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not pattern.search(line), f"{path.name}:{number}: {line}"


def test_the_readme_model_table_names_every_model_of_the_catalogue():
    rows = {m[1]: line for line in README.read_text(encoding="utf-8").splitlines()
            if (m := re.match(r"\| `(\w+)` \| `zoo\.\w+` \|", line))}
    assert sorted(rows) == zoo.list_models()
    for name, row in rows.items():
        info = zoo.model_info(name)
        assert f"`zoo.{info.class_name}`" in row, name
        if len(info.recipes) <= 5:
            assert all(f"`{recipe}`" in row for recipe in info.recipes), name
        else:
            assert f"| {len(info.recipes)}: " in row, name  # a long list is counted
        assert (info.d2l in row) if info.d2l else row.rstrip().endswith("| none |"), name


def test_the_docs_links_in_the_readme_exist():
    for target in re.findall(r"\]\((docs/[\w./-]+?)(?:#[\w-]+)?\)", README.read_text(encoding="utf-8")):
        assert (ROOT / target).is_file(), target
