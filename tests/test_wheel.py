"""A complete wheel: the recipes ship inside it and are found by name from any directory; a project's
own ``recipes/`` folder is used only when asked for.

`test_the_wheel_installs_and_trains_from_another_directory` builds the wheel offline from a copy of the checkout,
installs it into a fresh virtual environment outside the tree and runs ``zoo list`` and a ``fast_dev_run`` recipe
there. The heavy dependencies (torch, Lightning, ...) are not installed again: a ``.pth`` file makes this
environment's site-packages importable after the fresh one's own, and the test checks that ``zoo`` itself is
imported from the wheel, not from the checkout.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.regression_fakes import airfoil_rows, write_airfoil
from zoo.cli import main

recipes_module = importlib.import_module("zoo.io.recipe_files")  # `zoo.io.recipe_files` the attribute is the function
CHECKOUT_RECIPES = sorted(p.stem for p in (REPO / "recipes").glob("*.yaml") if not p.stem.startswith("_"))
DECOY = "# decoy_fake: a recipe in the current directory that the zoo must not pick up\nmodel: {}\n"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ZOO_RECIPES_PATH", "VIRTUAL_ENV")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", **extra)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _decoy_folder(root: Path) -> Path:
    (root / "recipes").mkdir(parents=True)
    (root / "recipes" / "decoy_fake.yaml").write_text(DECOY, encoding="utf-8")
    return root


def _build_wheel(tmp_path: Path) -> Path:
    """``pip wheel`` offline (this environment's setuptools, no index) from a copy, so the checkout gets no build/."""
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("zoo", "datamodules", "recipes"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    out = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                "--no-cache-dir", "-q", "-w", str(tmp_path / "dist"), str(src)], tmp_path, _env(), timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("lightning_zoo-*.whl")
    return wheel


def _fresh_venv(root: Path) -> Path:
    """A virtual environment without pip; this one's site-packages appended to its path by a .pth file."""
    out = _run([sys.executable, "-m", "venv", "--without-pip", str(root)], root.parent, _env())
    assert out.returncode == 0, out.stderr
    python = root / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root.parent,
                   _env()).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "zz_heavy_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    return python


def test_the_wheel_installs_and_trains_from_another_directory(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [str(p.relative_to(REPO)) for d in ("zoo", "datamodules") for p in (REPO / d).rglob("*.py")
               if "__pycache__" not in p.parts and str(p.relative_to(REPO)) not in names]
    assert missing == [], f"not in the wheel (add their package to [tool.setuptools] packages): {missing}"
    assert {f"zoo/recipes/{n}.yaml" for n in CHECKOUT_RECIPES} <= names
    assert not any(n.startswith(("tests/", "bench/", "recipes/")) for n in names)

    python = _fresh_venv(tmp_path / "venv")
    out = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                "--no-cache-dir", "-q", str(wheel)], tmp_path, _env(), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]

    elsewhere = _decoy_folder(tmp_path / "elsewhere")
    env = _env(ZOO_DATA_DIR=str(tmp_path / "cache"), ZOO_OFFLINE="1", ZOO_VERIFY_CHECKSUMS="0",
               WANDB_MODE="disabled", TORCH_HOME=str(tmp_path / "torch_home"))
    where = _run([str(python), "-c", "import zoo, lightning; print(zoo.__file__)"], elsewhere, env)
    assert where.returncode == 0, where.stderr[-2000:]
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv"), where.stdout  # the wheel's, not the checkout

    zoo_script = tmp_path / "venv" / "bin" / "zoo"
    listed = _run([str(zoo_script), "list", "--paths"], elsewhere, env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    shown = {line.split()[0]: Path(line.split()[1]) for line in listed.stdout.splitlines()}
    assert sorted(shown) == CHECKOUT_RECIPES  # every recipe of the checkout, and not the decoy
    assert all(p.is_relative_to(tmp_path / "venv") for p in shown.values())

    write_airfoil(tmp_path / "cache" / "airfoil_self_noise.dat", airfoil_rows(1503))
    trained = _run([str(zoo_script), "recipe", "linreg_adam_torch_airfoil", "--trainer.enable_progress_bar", "false"],
                   elsewhere, env, timeout=300)  # the whole recipe: 2 epochs on 1,503 rows in the real format
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-3000:]
    assert "Traceback" not in trained.stderr
    assert "epochs run: 2" in trained.stdout
    assert list((elsewhere / "runs" / "linreg_adam_torch_airfoil").rglob("*.ckpt"))


# ------------------------------------------------------------------------------ finding recipes (checkout too)
def test_a_recipes_folder_in_the_current_directory_is_not_used(tmp_path):
    elsewhere = _decoy_folder(tmp_path)
    out = _run([sys.executable, "-m", "zoo", "list"], elsewhere, _env(PYTHONPATH=str(REPO)), timeout=60)
    assert out.returncode == 0, out.stderr
    assert "decoy_fake" not in out.stdout and "gru_lyrics " in out.stdout


def test_a_projects_own_recipes_by_path_or_by_the_variable(tmp_path, monkeypatch, capsys):
    own = _decoy_folder(tmp_path)
    monkeypatch.chdir(own)
    assert recipes_module.recipe_path("recipes/decoy_fake.yaml") == Path("recipes/decoy_fake.yaml")
    assert "decoy_fake" not in recipes_module.recipes()
    monkeypatch.setenv("ZOO_RECIPES_PATH", str(own / "recipes"))
    assert recipes_module.recipe_path("decoy_fake") == own / "recipes" / "decoy_fake.yaml"
    with pytest.raises(SystemExit) as info:
        main(["list"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "decoy_fake" in out and "gru_lyrics" in out


def test_a_missing_recipe_file_or_a_bad_variable_is_one_line(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit) as info:
        main(["recipe", str(tmp_path / "none.yaml")])
    assert info.value.code == 1 and "none.yaml does not exist" in capsys.readouterr().err
    monkeypatch.setenv("ZOO_RECIPES_PATH", str(tmp_path / "nowhere"))
    with pytest.raises(SystemExit) as info:
        main(["list"])
    assert info.value.code == 1 and "ZOO_RECIPES_PATH names" in capsys.readouterr().err


def test_list_without_any_recipe_fails_with_a_message(tmp_path, monkeypatch, capsys):
    """A broken install (no zoo/recipes, no checkout around the package) says so instead of printing nothing."""
    monkeypatch.setattr(recipes_module, "_PACKAGE", tmp_path / "site-packages" / "zoo")
    with pytest.raises(SystemExit) as info:
        main(["list"])
    err = capsys.readouterr().err
    assert info.value.code == 1 and err.startswith("error: no recipes found") and len(err.splitlines()) == 1
