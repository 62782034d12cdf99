"""What the download layer says and leaves behind: an extraction killed half-way leaves a staging folder that the next
run removes (only the zoo's own staging folders of that archive, and only when no running process uses them), and a
CIFAR-10 archive let through with checksums off (``ZOO_VERIFY_CHECKSUMS=0``) is never said to have passed its md5
check."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from torchvision.datasets import CIFAR10

import datamodules.imdb as imdb
from datamodules.cifar10 import CIFAR10DataModule
from datamodules.download import ensure_extracted
from tests import text_fakes, vision_fakes
from tests.conftest import REPO
from tests.fakes import point_resource_at
from zoo.errors import DataError

KILLED_EXTRACTION = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    import datamodules.download as download

    real = download.extract

    def extract_then_die(archive, target):
        real(archive, target)  # the whole archive unpacked into the staging folder ...
        os._exit(9)  # ... and the process killed before it is moved into place

    download.extract = extract_then_die
    download.ensure_extracted(Path(sys.argv[1]), Path(sys.argv[2]), "aclImdb")
""")


def staging_folders(root: Path, archive: str) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(f".{archive}.") and p.is_dir())


@pytest.fixture
def imdb_archive(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "data"
    path = text_fakes.write_imdb_tar(root / imdb.IMDB.filename, {"train": text_fakes.imdb_reviews(24),
                                                                 "test": text_fakes.imdb_reviews(8, 1)})
    point_resource_at(monkeypatch, imdb, "IMDB", path)
    return path


def test_a_killed_imdb_extraction_leaves_nothing_behind_after_the_next_run(imdb_archive):
    root = imdb_archive.parent
    killed = subprocess.run([sys.executable, "-c", KILLED_EXTRACTION, str(imdb_archive), str(root)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120)
    assert killed.returncode == 9, killed.stderr[-2000:]
    left = staging_folders(root, imdb_archive.name)
    assert len(left) == 1 and any((root / left[0]).rglob("*.txt"))  # what the kill left: a full staging folder
    ours = root / f".{imdb_archive.name}.mine"  # not a staging folder (a user's, or another tool's)
    ours.mkdir()
    (ours / "notes.txt").write_text("keep")

    imdb.IMDbDataModule(data_dir=str(root)).prepare_data()  # the next run
    assert (root / "aclImdb" / "train" / "pos").is_dir()
    assert staging_folders(root, imdb_archive.name) == [ours.name]
    assert (ours / "notes.txt").read_text() == "keep"


def test_a_staging_folder_in_use_is_left_alone(imdb_archive, tmp_path):
    from datamodules.download import _host, remove_stale_staging

    root = imdb_archive.parent
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = root / f".{imdb_archive.name}.{alive.pid}@{_host()}.abcd1234.unpacking"  # a live extraction's
        busy.mkdir()
        dead = root / f".{imdb_archive.name}.{2 ** 22 + 12345}@{_host()}.efgh5678.unpacking"  # no such process
        dead.mkdir()
        elsewhere = root / f".{imdb_archive.name}.{2 ** 22 + 12345}@another-machine.ijkl9012.unpacking"
        elsewhere.mkdir()
        a_file = root / f".{imdb_archive.name}.abcdefgh"  # the old name, but a file
        a_file.write_text("x")
        assert remove_stale_staging(imdb_archive, root) == [dead]
        ensure_extracted(imdb_archive, root, "aclImdb")
        assert staging_folders(root, imdb_archive.name) == sorted([busy.name, elsewhere.name])
        assert a_file.read_text() == "x"
    finally:
        alive.kill()
        alive.wait()


def test_cifar10_with_checksums_off_never_says_a_bad_archive_passed_its_md5_check(tmp_path, monkeypatch):
    """The archive's batch files do not have torchvision's md5s (a repackaged copy); with checksums off it is used, and
    the error says so rather than that it passed its md5 check."""
    root = tmp_path / "data"
    files = vision_fakes.cifar10_files(vision_fakes.cifar10_arrays())
    archive = vision_fakes.cifar10_tar_gz(files)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / CIFAR10.filename).write_bytes(archive)
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ZOO_VERIFY_CHECKSUMS", "0")
    with pytest.raises(DataError) as info:
        CIFAR10DataModule(data_dir=str(root)).prepare_data()
    message = str(info.value)
    assert "passed its md5 check" not in message
    assert "was used without a checksum check (ZOO_VERIFY_CHECKSUMS=0; its md5 is " in message
    assert CIFAR10.tgz_md5 in message and "data_batch_1" in message


def test_cifar10_that_matches_its_md5_still_says_so(tmp_path, monkeypatch):
    """A verified archive whose batch files are wrong (the md5 lists patched for the archive only)."""
    root = tmp_path / "data"
    files = vision_fakes.cifar10_files(vision_fakes.cifar10_arrays())
    archive = vision_fakes.cifar10_tar_gz(files)
    root.mkdir(parents=True)
    (root / CIFAR10.filename).write_bytes(archive)
    monkeypatch.setattr(CIFAR10, "tgz_md5", vision_fakes.md5(archive))
    with pytest.raises(DataError, match="passed its md5 check, but data_batch_1"):
        CIFAR10DataModule(data_dir=str(root)).prepare_data()
