"""Finding, downloading, verifying and unpacking dataset files (the data rules of DESIGN.md).

Where a file comes from, in order:

1. the cache folder (the datamodule's ``data_dir``, else ``$ZOO_DATA_DIR``, else ``~/.cache/lightning-zoo``);
2. the mirror ``$ZOO_DATA_MIRROR``: a local folder or a base URL that holds files under their download names;
3. each public URL of the resource, in order (skipped when ``$ZOO_OFFLINE=1``).

``$ZOO_VERIFY_CHECKSUMS=0`` accepts a file whose checksum differs, with a warning each time: for a private mirror
that holds a repackaged or reduced copy (a small ``hotdog.zip`` for a smoke test, say). Never set it for real runs.

Every copy is written under a temporary name, checked against the published hash and only then renamed into place,
so an interrupted or corrupt download never poses as a good file, and a failed one changes nothing else in the
cache. Files get the user's normal permissions (``0o666`` less the umask), so a shared cache folder can be read by
others. When no source works the error names the file, its URLs, its checksum and the folder to put it in; a full
disk, a folder that cannot be written, or a cache path that runs through a file says so in one line
(`storage_error`). Archives are unpacked only if no member can land outside the target folder, and a member that
cannot be decompressed is a `DataError`, not a ``zlib.error``.

A cache that already holds every file is only read, never written, so a read-only shared cache works.
"""

from __future__ import annotations

import contextlib
import errno
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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from zoo.errors import ChecksumError, ConfigError, DataError, DataUnavailableError, UnsafeArchiveError

__all__ = ["Resource", "cache_root", "ensure_extracted", "extract", "fetch", "file_hash", "new_temp_file",
           "read_member", "storage_error"]

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

    Never relative to the working directory unless the caller passes a relative path on purpose. Nothing is created
    here; a path that names a file, or runs through one, is refused at once (`ConfigError`), before any model is built.
    """
    if data_dir:
        root, origin = Path(data_dir).expanduser().resolve(), f"data_dir={data_dir}"
    elif os.environ.get(ENV_DATA_DIR):
        value = os.environ[ENV_DATA_DIR]
        root, origin = Path(value).expanduser().resolve(), f"{ENV_DATA_DIR}={value}"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
        root, origin = (base / "lightning-zoo").resolve(), "the default cache folder"
    blocking = _file_in_the_way(root)
    if blocking is not None:
        what = "names a file" if blocking == root else f"runs through the file {blocking}"
        raise ConfigError(f"{origin} {what}, not a folder: point {ENV_DATA_DIR} (or the datamodule's data_dir) at "
                          "a folder; it is created if missing")
    return root


def _file_in_the_way(path: Path) -> Path | None:
    """``path`` or the first of its parents that exists and is not a folder, if any."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (a thread-safe read)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_temp_file(folder: Path, name: str) -> Path:
    """An empty file ``folder/.<name>.<random>.part`` with the permissions a plain ``open(path, "w")`` would give
    (``0o666`` less the umask), not ``mkstemp``'s owner-only ``0o600``: renamed into place, it can be read by everyone
    a shared cache is meant for. `OSError` when the folder cannot be written."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(fd)
    os.chmod(tmp_name, 0o666 & ~_umask())
    return Path(tmp_name)


_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)
_NOT_A_FOLDER = (errno.ENOTDIR, errno.EEXIST)


def _megabytes(n: int) -> str:
    """``n`` bytes in MB: no decimals from 10 MB on, one from 100 kB, three below."""
    mb = max(n, 0) / 1e6
    return f"{mb:,.0f}" if mb >= 10 else f"{mb:.1f}" if mb >= 0.1 else f"{mb:.3f}"


def storage_error(exc: BaseException, folder: Path, what: str, needed: int | None = None) -> DataError | None:
    """One-line `DataError` when ``exc`` is the cache's fault (a full disk, a folder that cannot be written, a path
    through a file), else ``None``. ``what`` names what was being written; ``needed`` is its size in bytes, if known.
    """
    if not isinstance(exc, OSError) or exc.errno is None:
        return None
    reason = exc.strerror or str(exc)
    if exc.errno in _NO_SPACE:
        try:
            free = f"{_megabytes(shutil.disk_usage(_existing(folder)).free)} MB are free"
        except OSError:
            free = "free space unknown"
        need = f"{_megabytes(needed)} MB needed" if needed else "more space needed"
        return DataError(f"no space left on device at {folder} while writing {what}: free {need} ({free}), or set "
                         f"{ENV_DATA_DIR} (or the datamodule's data_dir) to a folder on a disk with room")
    if exc.errno in _NOT_WRITABLE:
        return DataError(f"cannot write {what} to {folder} ({reason}): make the folder writable or set {ENV_DATA_DIR} "
                         "(or the datamodule's data_dir) to a folder you can write to; a read-only cache works only "
                         "once it holds every file")
    if exc.errno in _NOT_A_FOLDER:
        blocking = _file_in_the_way(folder)
        if blocking is not None:
            return DataError(f"{folder} cannot be the data folder: {blocking} is a file, not a folder; set "
                             f"{ENV_DATA_DIR} (or the datamodule's data_dir) to a folder")
    return None


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (what ``disk_usage`` can measure)."""
    return next((p for p in (path, *path.parents) if p.exists()), Path("/"))


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


class _WriteError(Exception):
    """An `OSError` raised while writing the temporary copy (the cache's fault, not the source's)."""

    def __init__(self, error: OSError, size: int | None) -> None:
        super().__init__(str(error))
        self.error, self.size = error, size


def _write_all(reader: BinaryIO, tmp: Path) -> None:
    """Copy ``reader`` into ``tmp`` in 1 MiB chunks (the one place a download writes to the cache)."""
    with open(tmp, "wb") as out:
        shutil.copyfileobj(reader, out, _CHUNK)


def _copy_to(source: str, tmp: Path) -> None:
    """Copy a local path or download a URL into ``tmp``. Reading or connecting fails with OSError/URLError; writing
    fails with `_WriteError`, carrying the source's size when known."""
    if urllib.parse.urlparse(source).scheme in ("http", "https", "ftp", "file"):
        request = urllib.request.Request(source, headers={"User-Agent": "lightning-zoo"})
        with urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT_S) as response:
            length = response.headers.get("Content-Length") if response.headers else None
            size = int(length) if length and length.isdigit() else None
            _write_or_wrap(response, tmp, size)
    else:
        if not Path(source).is_file():
            raise FileNotFoundError(f"not in the mirror folder ({source})")
        with open(source, "rb") as reader:
            _write_or_wrap(reader, tmp, os.fstat(reader.fileno()).st_size)


def _write_or_wrap(reader: BinaryIO, tmp: Path, size: int | None) -> None:
    try:
        _write_all(reader, tmp)
    except OSError as exc:
        if exc.errno in (*_NO_SPACE, *_NOT_WRITABLE):
            raise _WriteError(exc, size) from exc
        raise


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

    A cached file is re-verified on every call; a cached file whose hash is wrong is deleted (it is no download
    worth keeping) and fetched again. Each source is copied to a temporary file beside the destination; a copy whose
    bytes do not match the checksum is discarded and the next source is tried; if none works the raised error lists
    every attempt. Nothing else in ``root`` is touched, and the destination only by a verified copy.

    Raises:
        ChecksumError: every source that answered served wrong bytes.
        DataUnavailableError: no source could be reached (offline, no mirror, nothing cached).
        DataError: the cache cannot take the file (full disk, read-only folder, a file in the way), in one line.
    """
    dest = root / resource.filename
    if dest.is_file():
        actual = _mismatch(dest, resource, "the cache")
        if actual is None:
            return dest
        log.warning("cached %s has %s %s, expected %s; fetching it again", dest, resource.algorithm, actual,
                    resource.checksum)
        with contextlib.suppress(OSError):  # a read-only cache: the copy below fails and says why
            dest.unlink()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, root, resource.filename) or DataError(
            f"cannot create the data folder {root} ({exc}); set {ENV_DATA_DIR} to a folder you can write to") from None

    failures: list[str] = []
    mismatches: list[str] = []
    for source in _sources(resource):
        try:
            tmp = new_temp_file(root, resource.filename)
        except OSError as exc:
            raise storage_error(exc, root, resource.filename) or DataError(
                f"cannot write {resource.filename} to {root} ({exc})") from None
        try:
            log.info("fetching %s from %s", resource.filename, source)
            _copy_to(source, tmp)
            actual = _mismatch(tmp, resource, source)
            if actual is not None:
                mismatches.append(f"checksum mismatch for {resource.filename} from {source}: expected "
                                  f"{resource.algorithm} {resource.checksum}, got {actual}; that copy was not kept")
                continue
            os.replace(tmp, dest)
            for line in mismatches:  # said once, here, when a later source served the right bytes
                log.warning("%s (using %s instead)", line, source)
            return dest
        except _WriteError as exc:
            raise storage_error(exc.error, root, resource.filename, exc.size) or DataError(
                f"cannot write {resource.filename} to {root} ({exc.error})") from None
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


def read_member(archive: Path, member: str, what: str = "the right file") -> bytes:
    """The bytes of one member of a zip archive; `DataError` when the archive lacks it (``what`` names the archive
    expected) or cannot be read: not a zip, a bad CRC (``BadZipFile``) or a corrupt deflate stream (``zlib.error``,
    which only an unverified file can have, ``ZOO_VERIFY_CHECKSUMS=0``)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    except KeyError as exc:
        raise DataError(f"{archive} has no member {member!r}; is it {what}?") from exc
    except zlib.error as exc:
        raise DataError(f"{archive} is unreadable: the compressed data of {member} is corrupt (zlib: {exc}); delete it "
                        "and run again") from exc
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise DataError(f"{archive} is unreadable ({type(exc).__name__}: {exc}); delete it and run again") from exc


def extract(archive: Path, target: Path) -> Path:
    """Unpack a ``.zip``, ``.tar``, ``.tar.gz``/``.tgz`` archive into ``target``, refusing unsafe members.

    Every member is checked before anything is written; links, devices and paths that escape ``target`` are refused.
    A member that cannot be decompressed is a `DataError`; a full disk or a folder that cannot be written says so.
    On failure, what this call wrote is removed again.
    """
    target = target.resolve()
    target.mkdir(parents=True, exist_ok=True)
    before = set(target.iterdir())
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
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        for partial in set(target.iterdir()) - before:  # what this call wrote before it failed
            if partial.is_dir():
                shutil.rmtree(partial, ignore_errors=True)
            else:
                partial.unlink(missing_ok=True)
        problem = storage_error(exc, target, f"the contents of {archive.name}")
        if problem is not None:
            raise problem from None
        kind = "zlib" if isinstance(exc, zlib.error) else type(exc).__name__
        raise DataError(f"{archive} is not a readable archive ({kind}: {exc}); delete it and run again") from exc
    raise DataError(f"{archive} is neither a zip nor a tar archive; delete it and run again")


def _archive_stamp(archive: Path) -> str:
    st = archive.stat()
    return f"{archive.name} {st.st_size} {st.st_mtime_ns}\n"


def ensure_extracted(archive: Path, target: Path, expect: str, force: bool = False) -> Path:
    """Extract ``archive`` into ``target`` unless ``target/expect`` already holds it; return ``target/expect``.

    The archive is unpacked into a temporary folder beside ``target`` and its top-level entries are renamed into
    place, so an interrupted or failed extraction (a corrupt member, a full disk) is redone on the next call instead of
    leaving half a dataset, and what was there before stays until the new copy is complete. A marker beside the result
    (``.<name>.extracted``) records the archive's name, size and modification time; when the archive changes (a new
    download), it is unpacked again. A folder without a marker (unpacked by an older version or by hand), or whose
    archive is gone, is used as it is, unless ``force`` (a folder known to be incomplete or corrupt).
    """
    wanted = target / expect
    marker = target / f".{Path(expect).parts[0]}.extracted"
    if not force and wanted.exists() and (not marker.is_file() or not archive.is_file()
                                          or marker.read_text(encoding="utf-8") == _archive_stamp(archive)):
        return wanted
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{archive.name}.", dir=target))
    except OSError as exc:
        raise storage_error(exc, target, f"the contents of {archive.name}") or DataError(
            f"cannot unpack {archive} into {target} ({exc})") from None
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
    try:
        marker.write_text(_archive_stamp(archive), encoding="utf-8")
    except OSError as exc:
        raise storage_error(exc, target, marker.name) or DataError(f"cannot write {marker} ({exc})") from None
    return wanted
