"""The data layer against a real HTTP server on 127.0.0.1: download, verify, mirror, cache, fallback, archives."""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from datamodules.download import Resource, cache_root, ensure_extracted, extract, fetch
from zoo.errors import ChecksumError, DataError, DataUnavailableError, UnsafeArchiveError

GOOD = b"good bytes of a dataset\n" * 100
GOOD_SHA1 = hashlib.sha1(GOOD).hexdigest()


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)


def resource(*urls: str, name: str = "data.bin") -> Resource:
    return Resource(name, tuple(urls), GOOD_SHA1)


def test_download_and_verify(http_server, tmp_path, online):
    base, served = http_server
    (served / "data.bin").write_bytes(GOOD)
    path = fetch(resource(f"{base}/data.bin"), tmp_path / "cache")
    assert path == tmp_path / "cache" / "data.bin"
    assert path.read_bytes() == GOOD
    assert [p.name for p in path.parent.iterdir()] == ["data.bin"]  # no temporary file left behind


def test_corrupt_download_rejected_and_deleted(http_server, tmp_path, online):
    base, served = http_server
    (served / "data.bin").write_bytes(b"corrupt")
    url = f"{base}/data.bin"
    with pytest.raises(ChecksumError) as err:
        fetch(resource(url), tmp_path / "cache")
    msg = str(err.value)
    assert "data.bin" in msg and GOOD_SHA1 in msg and hashlib.sha1(b"corrupt").hexdigest() in msg and url in msg
    assert list((tmp_path / "cache").iterdir()) == []


def test_fallback_to_next_url(http_server, tmp_path, online):
    base, served = http_server
    (served / "good.bin").write_bytes(GOOD)
    (served / "bad.bin").write_bytes(b"corrupt")
    res = resource(f"{base}/missing.bin", f"{base}/bad.bin", f"{base}/good.bin")
    assert fetch(res, tmp_path / "cache").read_bytes() == GOOD


def test_mirror_folder_used_first(http_server, tmp_path, monkeypatch, online):
    base, served = http_server
    (served / "data.bin").write_bytes(b"the public URL must not be used")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "data.bin").write_bytes(GOOD)
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    assert fetch(resource(f"{base}/data.bin"), tmp_path / "cache").read_bytes() == GOOD


def test_mirror_base_url(http_server, tmp_path, monkeypatch, online):
    base, served = http_server
    (served / "data.bin").write_bytes(GOOD)
    monkeypatch.setenv("ZOO_DATA_MIRROR", base + "/")
    assert fetch(resource("http://127.0.0.1:9/never"), tmp_path / "cache").read_bytes() == GOOD


def test_corrupt_mirror_falls_back_to_url(http_server, tmp_path, monkeypatch, online):
    base, served = http_server
    (served / "data.bin").write_bytes(GOOD)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "data.bin").write_bytes(b"corrupt")
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    assert fetch(resource(f"{base}/data.bin"), tmp_path / "cache").read_bytes() == GOOD
    assert (mirror / "data.bin").read_bytes() == b"corrupt"  # a mirror is read, never modified


def test_cached_file_reused_without_network(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "data.bin").write_bytes(GOOD)
    # ZOO_OFFLINE is set and the URL is unreachable: only the cache can answer
    assert fetch(resource("http://127.0.0.1:9/data.bin"), cache).read_bytes() == GOOD


def test_corrupt_cached_file_replaced(http_server, tmp_path, online):
    base, served = http_server
    (served / "data.bin").write_bytes(GOOD)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "data.bin").write_bytes(b"truncated")
    assert fetch(resource(f"{base}/data.bin"), cache).read_bytes() == GOOD


def test_offline_without_mirror_fails_fast_with_instructions(tmp_path):
    res = Resource("jaychou_lyrics.txt.zip", ("https://example.invalid/jaychou_lyrics.txt.zip",), "ab" * 20)
    start = time.monotonic()
    with pytest.raises(DataUnavailableError) as err:
        fetch(res, tmp_path / "cache")
    assert time.monotonic() - start < 5
    msg = str(err.value)
    for part in ("jaychou_lyrics.txt.zip", "https://example.invalid/jaychou_lyrics.txt.zip", "ab" * 20,
                 str(tmp_path / "cache"), "ZOO_DATA_MIRROR"):
        assert part in msg


def test_unreachable_urls_fail_fast(tmp_path, online):
    res = resource("http://127.0.0.1:9/a.bin", "http://127.0.0.1:9/b.bin")  # port 9: nothing listens
    start = time.monotonic()
    with pytest.raises(DataUnavailableError) as err:
        fetch(res, tmp_path / "cache")
    assert time.monotonic() - start < 10
    assert "127.0.0.1:9/a.bin" in str(err.value) and "127.0.0.1:9/b.bin" in str(err.value)


def test_cache_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "env"))
    assert cache_root(tmp_path / "arg") == tmp_path / "arg"
    assert cache_root() == tmp_path / "env"
    monkeypatch.delenv("ZOO_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "lightning-zoo"


def _zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _tar_with(path: Path, members: dict[str, bytes], symlink: tuple[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink[0])
            info.type, info.linkname = tarfile.SYMTYPE, symlink[1]
            tf.addfile(info)
    return path


def test_extract_zip_and_tar(tmp_path):
    z = _zip_with(tmp_path / "a.zip", {"ds/x.txt": b"x", "ds/sub/y.txt": b"y"})
    t = _tar_with(tmp_path / "a.tar.gz", {"ds/x.txt": b"x"})
    assert (extract(z, tmp_path / "z") / "ds" / "sub" / "y.txt").read_bytes() == b"y"
    assert (extract(t, tmp_path / "t") / "ds" / "x.txt").read_bytes() == b"x"


@pytest.mark.parametrize("evil", ["../evil.txt", "ds/../../evil.txt", "/tmp/evil.txt"])
@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_traversal_archive_refused(tmp_path, evil, kind):
    members = {"ds/ok.txt": b"ok", evil: b"evil"}
    archive = (_zip_with if kind == "zip" else _tar_with)(tmp_path / f"evil.{kind}", members)
    target = tmp_path / "out" / "target"
    with pytest.raises(UnsafeArchiveError) as err:
        extract(archive, target)
    assert evil in str(err.value)
    assert not (tmp_path / "out" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    assert not (target / "ds" / "ok.txt").exists()  # nothing is written before every member is checked


def test_tar_symlink_refused(tmp_path):
    archive = _tar_with(tmp_path / "link.tar.gz", {"ds/ok.txt": b"ok"}, symlink=("ds/link", "/etc/passwd"))
    with pytest.raises(UnsafeArchiveError, match="link"):
        extract(archive, tmp_path / "out")


def test_not_an_archive(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"plain text")
    with pytest.raises(DataError, match="neither a zip nor a tar"):
        extract(path, tmp_path / "out")


def test_ensure_extracted_once_and_checks_content(tmp_path):
    archive = _zip_with(tmp_path / "a.zip", {"ds/x.txt": b"x"})
    target = tmp_path / "data"
    assert ensure_extracted(archive, target, "ds/x.txt").read_bytes() == b"x"
    archive.unlink()  # already extracted: the archive is not needed again
    assert ensure_extracted(archive, target, "ds/x.txt").exists()
    other = _zip_with(tmp_path / "b.zip", {"other/y.txt": b"y"})
    with pytest.raises(DataError, match="does not contain 'ds2/x.txt'"):
        ensure_extracted(other, target, "ds2/x.txt")
    assert not any(p.name.startswith(".b.zip") for p in target.iterdir())  # staging folder cleaned up


def test_network_timeout_skips_remaining_urls(tmp_path, monkeypatch, online):
    import socket

    import datamodules.download as download

    silent = socket.socket()  # accepts connections (kernel backlog) but never answers: a firewalled network
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    monkeypatch.setattr(download, "CONNECT_TIMEOUT_S", 0.5)
    try:
        start = time.monotonic()
        with pytest.raises(DataUnavailableError) as err:
            fetch(resource(f"http://127.0.0.1:{port}/a.bin", f"http://127.0.0.1:{port}/b.bin"), tmp_path / "c")
        assert time.monotonic() - start < 3
    finally:
        silent.close()
    assert "remaining URLs skipped after a network timeout" in str(err.value)
    assert "b.bin" not in str(err.value).split("tried:")[1].split("skipped")[0]


def test_verification_can_be_switched_off_for_a_private_mirror(tmp_path, monkeypatch, caplog):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "data.bin").write_bytes(b"a reduced copy")
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    with pytest.raises(ChecksumError):
        fetch(resource("http://127.0.0.1:9/data.bin"), tmp_path / "cache")
    monkeypatch.setenv("ZOO_VERIFY_CHECKSUMS", "0")
    path = fetch(resource("http://127.0.0.1:9/data.bin"), tmp_path / "cache")
    assert path.read_bytes() == b"a reduced copy"
    assert "ZOO_VERIFY_CHECKSUMS=0: using data.bin" in caplog.text
    assert fetch(resource("http://127.0.0.1:9/data.bin"), tmp_path / "cache") == path  # the cached copy is kept
