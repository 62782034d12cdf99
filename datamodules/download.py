"""Finding, downloading, verifying and unpacking dataset files.

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
import gzip
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
from zoo.files import new_temp_file

__all__ = ["Resource", "cache_root", "checksum_note", "checksums_verified", "ensure_extracted", "extract", "fetch",
           "file_hash", "new_temp_file", "read_member", "remove_stale_staging", "storage_error"]

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
        urls: public URLs, tried in order after the cache, the mirror and the system copies.
        checksum: hex digest of the file's bytes.
        algorithm: ``hashlib`` name of the digest (``sha1``, ``md5``, ``sha256``).
        system_folders: folders where an operating-system package installs the file under ``filename`` (Debian's
            ``dataset-fashion-mnist``: ``/usr/share/datasets/fashion-mnist``); a copy there is read in place, never
            modified, and tried after the mirror and before the network.
        gunzipped_sha256: for a ``.gz`` file, the SHA-256 of its unpacked bytes: a system copy that was recompressed
            (other archive bytes, the same content) is accepted when its content has this digest.
        package_hint: how to install the system package, said when nothing is found.
    """

    filename: str
    urls: tuple[str, ...]
    checksum: str
    algorithm: str = "sha1"
    system_folders: tuple[str, ...] = ()
    gunzipped_sha256: str | None = None
    package_hint: str | None = None

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


def _mirror_sources(resource: Resource) -> Iterator[str]:
    """The mirror's copy, if a mirror is set."""
    mirror = os.environ.get(ENV_MIRROR, "").strip()
    if mirror:
        if urllib.parse.urlparse(mirror).scheme in ("http", "https", "ftp", "file"):
            yield mirror.rstrip("/") + "/" + urllib.parse.quote(resource.filename)
        else:
            yield str(Path(mirror).expanduser() / resource.filename)


def _network_sources(resource: Resource) -> Iterator[str]:
    """The public URLs, unless offline."""
    if os.environ.get(ENV_OFFLINE, "") not in ("", "0"):
        return
    yield from resource.urls


def _gunzipped_sha256(path: Path) -> str | None:
    """SHA-256 of a gzip file's unpacked bytes, or None when it is not a readable gzip file."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest()


def system_copy(resource: Resource, problems: list[str] | None = None) -> Path | None:
    """A verified copy of ``resource`` in one of its ``system_folders`` (read in place), or None.

    A copy is verified by its bytes (the published checksum) or, when it was recompressed, by the SHA-256 of its
    unpacked content (``gunzipped_sha256``). A copy that matches neither is refused and said in ``problems``.
    """
    for folder in resource.system_folders:
        path = Path(folder) / resource.filename
        if not path.is_file():
            continue
        try:
            if file_hash(path, resource.algorithm) == resource.checksum:
                return path
            content = _gunzipped_sha256(path) if resource.gunzipped_sha256 else None
        except OSError as exc:
            (problems if problems is not None else []).append(f"{path}: cannot be read ({exc})")
            continue
        if content is not None and content == resource.gunzipped_sha256:
            log.info("using %s (recompressed; its unpacked content has the published sha256)", path)
            return path
        if os.environ.get(ENV_VERIFY, "1").strip().lower() in ("0", "false", "no"):
            log.warning("%s=0: using %s although it matches neither the published %s nor the published content "
                        "digest", ENV_VERIFY, path, resource.algorithm)
            return path
        if problems is not None:
            problems.append(f"the system copy {path} matches neither the published {resource.algorithm} "
                            f"{resource.checksum} nor the sha256 of the published content; it was not used")
    return None


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


def checksums_verified() -> bool:
    """False when ``$ZOO_VERIFY_CHECKSUMS=0`` lets files through whatever their checksum."""
    return os.environ.get(ENV_VERIFY, "1").strip().lower() not in ("0", "false", "no")


def checksum_note(path: Path, resource: Resource) -> str:
    """What can be said of ``path`` against ``resource``'s checksum, for a message that goes on "..., but": "passed
    its md5 check" only when its bytes have the published digest; under ``$ZOO_VERIFY_CHECKSUMS=0`` a file that
    does not is said to have been used unchecked, with both digests."""
    try:
        actual = file_hash(path, resource.algorithm)
    except OSError:
        actual = None
    if actual == resource.checksum:
        return f"passed its {resource.algorithm} check"
    if resource.gunzipped_sha256 and _gunzipped_sha256(path) == resource.gunzipped_sha256:
        return "has the published content (a recompressed copy)"
    if checksums_verified():  # cannot happen for a file fetch returned; said plainly if it does
        return f"does not have the published {resource.algorithm} ({actual or 'unreadable'}, not {resource.checksum})"
    return (f"was used without a checksum check ({ENV_VERIFY}=0; its {resource.algorithm} is {actual or 'unreadable'}, "
            f"the published one {resource.checksum})")


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


def _copy_verified(source: str, resource: Resource, root: Path, dest: Path, failures: list[str],
                   mismatches: list[str]) -> bool:
    """Copy ``source`` to ``dest`` through a temporary file if its bytes match the checksum; True when done. A
    failure is appended to ``failures`` (unreachable) or ``mismatches`` (wrong bytes)."""
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
            return False
        os.replace(tmp, dest)
        for line in mismatches:  # said once, here, when a later source served the right bytes
            log.warning("%s (using %s instead)", line, source)
        return True
    except _WriteError as exc:
        raise storage_error(exc.error, root, resource.filename, exc.size) or DataError(
            f"cannot write {resource.filename} to {root} ({exc.error})") from None
    except (OSError, urllib.error.URLError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        failures.append(f"{source}: {reason}")
        if isinstance(reason, TimeoutError):  # a firewalled network: every further URL would hang as long
            failures.append("remaining URLs skipped after a network timeout")
        return False
    finally:
        tmp.unlink(missing_ok=True)


def fetch(resource: Resource, root: Path) -> Path:
    """Return the verified path of ``resource`` in ``root``, copying or downloading it if needed.

    Sources, in order: the cache, ``$ZOO_DATA_MIRROR``, the resource's system folders (a verified copy there is
    returned where it is, read in place and never modified), then the public URLs. A cached file is re-verified on
    every call; a cached file whose hash is wrong is deleted (it is no download worth keeping) and fetched again.
    Each mirror or network source is copied to a temporary file beside the destination; a copy whose bytes do not
    match the checksum is discarded and the next source is tried; if none works the raised error lists every
    attempt. Nothing else in ``root`` is touched, and the destination only by a verified copy.

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
    for source in _mirror_sources(resource):
        if _copy_verified(source, resource, root, dest, failures, mismatches):
            return dest
    found = system_copy(resource, mismatches)
    if found is not None:
        return found
    for source in _network_sources(resource):
        if _copy_verified(source, resource, root, dest, failures, mismatches):
            return dest
        if failures and failures[-1].startswith("remaining URLs skipped"):
            break

    if mismatches:
        raise ChecksumError("\n".join(mismatches + failures))
    if resource.package_hint and not failures:  # offline, no mirror, no system copy: one line that says what to do
        where = f"no system copy in {', '.join(resource.system_folders)}" if resource.system_folders else \
            "no system copy"
        url = resource.urls[0] if resource.urls else "no public URL"
        raise DataUnavailableError(f"{resource.filename} ({resource.algorithm} {resource.checksum}, {url}) is not in "
                                   f"the cache ({root}), there is no {ENV_MIRROR} and {where}, and "
                                   f"the network is not used. {resource.package_hint}; or put the file in {root}/ or "
                                   "a mirror folder.")
    tried = "\n".join(f"  - {f}" for f in failures) or "  - nothing (offline and no mirror)"
    package = f"\n{resource.package_hint}" if resource.package_hint else ""
    raise DataUnavailableError(
        f"cannot obtain {resource.describe()}\n"
        f"tried:\n{tried}\n"
        f"Put the file in {root}/ (or point {ENV_MIRROR} at a folder or URL that holds it) and run again.{package}"
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


#: the end of a staging folder's name: ``.<archive name>.<pid>@<host>.<random>.unpacking``
_STAGING = ".unpacking"
_MKDTEMP_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def _host() -> str:
    import socket

    return "".join(c if c.isalnum() or c in "-_" else "_" for c in socket.gethostname())[:64] or "host"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, under another user
        return True
    return True


def _stale_staging(entry: Path, archive_name: str) -> bool:
    """Whether ``entry`` is a staging folder of ``ensure_extracted`` for this archive that no running process uses:
    one named by this version whose process (on this machine) has ended, or one of an older version (``.<archive
    name>.`` and mkdtemp's eight characters; no running process of this version makes those)."""
    prefix = f".{archive_name}."
    name = entry.name
    if not name.startswith(prefix) or entry.is_symlink() or not entry.is_dir():
        return False
    rest = name[len(prefix):]
    if rest.endswith(_STAGING):
        owner = rest[: -len(_STAGING)].rsplit(".", 1)[0]  # "<pid>@<host>"
        pid, _, host = owner.partition("@")
        return pid.isdigit() and host == _host() and int(pid) != os.getpid() and not _pid_alive(int(pid))
    return len(rest) == 8 and set(rest) <= _MKDTEMP_CHARS  # the staging folders of earlier versions


def remove_stale_staging(archive: Path, target: Path) -> list[Path]:
    """Remove the staging folders an interrupted extraction of ``archive`` left in ``target`` (a killed process, a
    power cut); a staging folder of an extraction still running, and anything that is not a staging folder of this
    archive, is left alone. Returns the folders removed."""
    removed = []
    try:
        entries = list(target.iterdir()) if target.is_dir() else []
    except OSError:
        return removed
    for entry in entries:
        if _stale_staging(entry, archive.name):
            shutil.rmtree(entry, ignore_errors=True)
            if not entry.exists():
                removed.append(entry)
                log.info("removed %s, left by an interrupted extraction of %s", entry, archive.name)
    return removed


def ensure_extracted(archive: Path, target: Path, expect: str, force: bool = False) -> Path:
    """Extract ``archive`` into ``target`` unless ``target/expect`` already holds it; return ``target/expect``.

    The archive is unpacked into a temporary folder beside ``target`` and its top-level entries are renamed into
    place, so an interrupted or failed extraction (a corrupt member, a full disk) is redone on the next call instead of
    leaving half a dataset, and what was there before stays until the new copy is complete. The temporary folder
    (``.<archive name>.<pid>@<host>.<random>.unpacking``) of an extraction that was killed is removed by the next call
    (`remove_stale_staging`); one whose process still runs is not. A marker beside the result
    (``.<name>.extracted``) records the archive's name, size and modification time; when the archive changes (a new
    download), it is unpacked again. A folder without a marker (unpacked by an older version or by hand), or whose
    archive is gone, is used as it is, unless ``force`` (a folder known to be incomplete or corrupt).
    """
    wanted = target / expect
    marker = target / f".{Path(expect).parts[0]}.extracted"
    remove_stale_staging(archive, target)
    if not force and wanted.exists() and (not marker.is_file() or not archive.is_file()
                                          or marker.read_text(encoding="utf-8") == _archive_stamp(archive)):
        return wanted
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{archive.name}.{os.getpid()}@{_host()}.", suffix=_STAGING,
                                        dir=target))
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
