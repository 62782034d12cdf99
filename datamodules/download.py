"""Finding, downloading, verifying and unpacking dataset files (the data rules of DESIGN.md).

Where a file comes from, in order:

1. the cache folder (the datamodule's ``data_dir``, else ``$ZOO_DATA_DIR``, else ``~/.cache/lightning-zoo``);
2. the mirror ``$ZOO_DATA_MIRROR``: a local folder or a base URL that holds files under their download names;
3. each public URL of the resource, in order (skipped when ``$ZOO_OFFLINE=1``).

``$ZOO_VERIFY_CHECKSUMS=0`` accepts a file whose checksum differs, with a warning each time: for a private mirror
that holds a repackaged or reduced copy (a small ``hotdog.zip`` for a smoke test, say). Never set it for real runs.

Every copy is written under a temporary name, checked against the published hash and only then renamed into place,
so an interrupted or corrupt download never poses as a good file. When no source works the error names the file,
its URLs, its checksum and the folder to put it in. Archives are unpacked only if no member can land outside the
target folder.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from zoo.errors import ChecksumError, DataError, DataUnavailableError, UnsafeArchiveError

__all__ = ["Resource", "cache_root", "ensure_extracted", "extract", "fetch", "file_hash"]

log = logging.getLogger(__name__)

ENV_DATA_DIR = "ZOO_DATA_DIR"
ENV_MIRROR = "ZOO_DATA_MIRROR"
ENV_OFFLINE = "ZOO_OFFLINE"
ENV_VERIFY = "ZOO_VERIFY_CHECKSUMS"
CONNECT_TIMEOUT_S = 8.0  # per socket operation; a stalled network fails fast
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Resource:
    """One downloadable file: its name on disk, where it is published and its checksum.

    Args:
        filename: the file's name in the cache, the mirror and the last path part of most URLs.
        urls: public URLs, tried in order after the cache and the mirror.
        checksum: hex digest of the file's bytes.
        algorithm: ``hashlib`` name of the digest (``sha1``, ``md5``, ``sha256``).
    """

    filename: str
    urls: tuple[str, ...]
    checksum: str
    algorithm: str = "sha1"

    def describe(self) -> str:
        urls = "\n".join(f"    {u}" for u in self.urls) or "    (no public URL)"
        return f"{self.filename} ({self.algorithm} {self.checksum})\n  published at:\n{urls}"


def cache_root(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder datasets are cached in: ``data_dir``, else ``$ZOO_DATA_DIR``, else the per-user cache.

    Never relative to the working directory unless the caller passes a relative path on purpose.
    """
    if data_dir:
        return Path(data_dir).expanduser().resolve()
    if os.environ.get(ENV_DATA_DIR):
        return Path(os.environ[ENV_DATA_DIR]).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "lightning-zoo").resolve()


def file_hash(path: Path, algorithm: str = "sha1") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sources(resource: Resource) -> Iterator[str]:
    """Mirror first, then the public URLs (unless offline)."""
    mirror = os.environ.get(ENV_MIRROR, "").strip()
    if mirror:
        if urllib.parse.urlparse(mirror).scheme in ("http", "https", "ftp", "file"):
            yield mirror.rstrip("/") + "/" + urllib.parse.quote(resource.filename)
        else:
            yield str(Path(mirror).expanduser() / resource.filename)
    if os.environ.get(ENV_OFFLINE, "") not in ("", "0"):
        return
    yield from resource.urls


def _copy_to(source: str, tmp: Path) -> None:
    """Copy a local path or download a URL into ``tmp``; raises OSError/URLError on failure."""
    if urllib.parse.urlparse(source).scheme in ("http", "https", "ftp", "file"):
        request = urllib.request.Request(source, headers={"User-Agent": "lightning-zoo"})
        with urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT_S) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out, _CHUNK)
    else:
        if not Path(source).is_file():
            raise FileNotFoundError(f"not in the mirror folder ({source})")
        shutil.copyfile(source, tmp)


def _mismatch(path: Path, resource: Resource, origin: str) -> str | None:
    """The file's digest if it differs from the published one (and verification is on), else ``None``."""
    actual = file_hash(path, resource.algorithm)
    if actual == resource.checksum:
        return None
    if os.environ.get(ENV_VERIFY, "1").strip().lower() in ("0", "false", "no"):
        log.warning("%s=0: using %s from %s although its %s is %s, not the published %s", ENV_VERIFY,
                    resource.filename, origin, resource.algorithm, actual, resource.checksum)
        return None
    return actual


def fetch(resource: Resource, root: Path) -> Path:
    """Return the verified path of ``resource`` in ``root``, copying or downloading it if needed.

    A cached file is re-verified on every call; a cached file whose hash is wrong is replaced. A source whose bytes
    do not match the checksum is deleted and the next source is tried; if none works the raised error lists every
    attempt.

    Raises:
        ChecksumError: every source that answered served wrong bytes.
        DataUnavailableError: no source could be reached (offline, no mirror, nothing cached).
    """
    root.mkdir(parents=True, exist_ok=True)
    dest = root / resource.filename
    if dest.is_file():
        actual = _mismatch(dest, resource, "the cache")
        if actual is None:
            return dest
        log.warning("cached %s has %s %s, expected %s; fetching it again", dest, resource.algorithm, actual,
                    resource.checksum)
        dest.unlink()

    failures: list[str] = []
    mismatches: list[str] = []
    for source in _sources(resource):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{resource.filename}.", suffix=".part", dir=root)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            log.info("fetching %s from %s", resource.filename, source)
            _copy_to(source, tmp)
            actual = _mismatch(tmp, resource, source)
            if actual is not None:
                msg = (f"checksum mismatch for {resource.filename} from {source}: expected {resource.algorithm} "
                       f"{resource.checksum}, got {actual}; the bad copy was deleted")
                log.warning(msg)
                mismatches.append(msg)
                continue
            os.replace(tmp, dest)
            return dest
        except (OSError, urllib.error.URLError, http.client.HTTPException, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            failures.append(f"{source}: {reason}")
            if isinstance(reason, TimeoutError):  # a firewalled network: every further URL would hang as long
                failures.append("remaining URLs skipped after a network timeout")
                break
        finally:
            tmp.unlink(missing_ok=True)

    if mismatches:
        raise ChecksumError("\n".join(mismatches + failures))
    tried = "\n".join(f"  - {f}" for f in failures) or "  - nothing (offline and no mirror)"
    raise DataUnavailableError(
        f"cannot obtain {resource.describe()}\n"
        f"tried:\n{tried}\n"
        f"Put the file in {root}/ (or point {ENV_MIRROR} at a folder or URL that holds it) and run again."
    )


def _check_member(name: str, target: Path, archive: Path) -> Path:
    """The resolved destination of an archive member, refusing absolute paths and ``..`` escapes."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"{archive} has a member with an absolute path ({name!r}); refusing to extract it")
    dest = (target / pure).resolve()
    if dest != target and target not in dest.parents:
        raise UnsafeArchiveError(f"{archive} has a member that would land outside {target} ({name!r}); "
                                 "refusing to extract it")
    return dest


def extract(archive: Path, target: Path) -> Path:
    """Unpack a ``.zip``, ``.tar``, ``.tar.gz``/``.tgz`` archive into ``target``, refusing unsafe members.

    Every member is checked before anything is written; links, devices and paths that escape ``target`` are refused.
    """
    target = target.resolve()
    target.mkdir(parents=True, exist_ok=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _check_member(info.filename, target, archive)
                zf.extractall(target)
            return target
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members = tf.getmembers()
                for member in members:
                    _check_member(member.name, target, archive)
                    if not (member.isfile() or member.isdir()):
                        raise UnsafeArchiveError(f"{archive} has a link or special file ({member.name!r}); "
                                                 "refusing to extract it")
                tf.extractall(target, members=members)
            return target
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise DataError(f"{archive} is not a readable archive ({exc}); delete it and run again") from exc
    raise DataError(f"{archive} is neither a zip nor a tar archive; delete it and run again")


def _archive_stamp(archive: Path) -> str:
    st = archive.stat()
    return f"{archive.name} {st.st_size} {st.st_mtime_ns}\n"


def ensure_extracted(archive: Path, target: Path, expect: str) -> Path:
    """Extract ``archive`` into ``target`` unless ``target/expect`` already holds it; return ``target/expect``.

    The archive is unpacked into a temporary folder beside ``target`` and its top-level entries are renamed into
    place, so an interrupted extraction is redone on the next call instead of leaving half a dataset. A marker
    beside the result (``.<name>.extracted``) records the archive's name, size and modification time; when the
    archive changes (a new download), it is unpacked again. A folder without a marker (unpacked by an older version or
    by hand), or whose archive is gone, is used as it is.
    """
    wanted = target / expect
    marker = target / f".{Path(expect).parts[0]}.extracted"
    if wanted.exists() and (not marker.is_file() or not archive.is_file()
                            or marker.read_text(encoding="utf-8") == _archive_stamp(archive)):
        return wanted
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{archive.name}.", dir=target))
    try:
        extract(archive, staging)
        for entry in staging.iterdir():
            final = target / entry.name
            if final.exists():
                shutil.rmtree(final) if final.is_dir() else final.unlink()
            os.replace(entry, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not wanted.exists():
        raise DataError(f"{archive} does not contain {expect!r}; is it the right file?")
    marker.write_text(_archive_stamp(archive), encoding="utf-8")
    return wanted
