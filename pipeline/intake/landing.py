"""The landing zone as a boundary: list and open files without ever leaving it.

Layout: ``<landing>/<HOSPITAL_CODE>/<file>`` (sub-folders allowed). Nothing here follows a
symbolic link: a hospital folder that is a link (``symlinked_folder``), a link anywhere below
it (``symlink``) and anything that is not an ordinary file (a pipe, a socket, a device:
``not_a_regular_file``, which could also block a reader forever) are *refused*: listed with
their rule, never opened, so they get a receipt that says why. Names starting with ``.`` are
skipped (uploads in progress are written under a dot-name and renamed into place).

Files are opened component by component from the landing directory with ``O_NOFOLLOW``
(``openat``), and the opened file must still be the one that was listed (same device, inode,
size and modification time): a file swapped for a link, or changed, between listing and
reading is never read from outside the zone.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.config import IntakeLimits
from pipeline.intake.bounds import Bounds, FileRejected

REFUSALS = ("symlinked_folder", "symlink", "not_a_regular_file", "bad_file_name")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
CHUNK = 1 << 20


@dataclass(frozen=True)
class Entry:
    """One thing found in a hospital folder: a regular file, or a refusal with its rule."""

    hospital_code: str
    relpath: str  # relative to the landing directory, POSIX style
    refusal: str | None  # None: a regular file
    identity: str  # "dev:ino:size:mtime_ns" of a file; for a refusal, what was there
    size_bytes: int


def _identity(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def _refusal(hospital: str, relpath: str, rule: str, path: Path) -> Entry:
    try:
        what = printable(os.readlink(path)) if rule in ("symlink", "symlinked_folder") else ""
    except OSError:
        what = ""
    st = os.lstat(path)
    return Entry(
        printable(hospital), printable(relpath), rule, f"{rule}:{what}:{st.st_dev}:{st.st_ino}", 0
    )


def _bad_name(name: str) -> bool:
    """A name that is not valid UTF-8 (os.scandir hands its bytes over as lone surrogates)."""
    return any("\udc80" <= ch <= "\udcff" for ch in name)


def printable(name: str) -> str:
    """A file name as storable text: bytes that are not UTF-8 shown as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def scan(landing: Path, hospitals: set[str] | None = None) -> list[Entry]:
    """Every file and refusal under ``landing``, sorted by hospital and path."""
    root = Path(landing)
    if not root.is_dir():
        raise FileNotFoundError(f"landing directory {root} does not exist")
    found: list[Entry] = []
    with os.scandir(root) as entries:
        folders = sorted(entries, key=lambda e: e.name)
    for folder in folders:
        if folder.name.startswith(".") or (hospitals and folder.name not in hospitals):
            continue
        if _bad_name(folder.name):
            found.append(_refusal(folder.name, folder.name, "bad_file_name", Path(folder.path)))
        elif folder.is_symlink():
            found.append(_refusal(folder.name, folder.name, "symlinked_folder", Path(folder.path)))
        elif folder.is_dir(follow_symlinks=False):
            found.extend(_walk(folder.name, Path(folder.path), folder.name))
    return sorted(found, key=lambda e: (e.hospital_code, e.relpath))


def _walk(hospital: str, directory: Path, relative: str) -> list[Entry]:
    out: list[Entry] = []
    with os.scandir(directory) as entries:
        items = sorted(entries, key=lambda e: e.name)
    for item in items:
        if item.name.startswith("."):
            continue
        relpath = f"{relative}/{item.name}"
        path = Path(item.path)
        if _bad_name(relpath):
            out.append(_refusal(hospital, relpath, "bad_file_name", path))
        elif item.is_symlink():
            out.append(_refusal(hospital, relpath, "symlink", path))
        elif item.is_dir(follow_symlinks=False):
            out.extend(_walk(hospital, path, relpath))
        elif item.is_file(follow_symlinks=False):
            st = item.stat(follow_symlinks=False)
            out.append(Entry(hospital, relpath, None, _identity(st), st.st_size))
        else:
            out.append(_refusal(hospital, relpath, "not_a_regular_file", path))
    return out


def _refused(exc: OSError) -> FileRejected:
    """ELOOP / ENOTDIR: a link where a folder or the file should be (O_NOFOLLOW refused it);
    anything else (gone, renamed): the listing is out of date."""
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return FileRejected("symlink")
    return FileRejected("file_changed")


def _open(root: Path, relpath: str) -> int:
    """A file descriptor for ``relpath`` under ``root``, no link followed on the way."""
    parts = PurePosixPath(relpath).parts
    if not parts or any(p in ("", ".", "..") for p in parts):
        raise FileRejected("not_a_regular_file")
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise _refused(exc) from exc
            os.close(fd)
            fd = nxt
        try:
            return os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
        except OSError as exc:
            raise _refused(exc) from exc
    finally:
        os.close(fd)


def read_bytes(
    root: Path, relpath: str, identity: str | None, limits: IntakeLimits | None = None
) -> bytes:
    """The bytes of a listed file, read through a descriptor opened inside the landing zone.

    ``identity``: what the listing saw (a different file now: ``file_changed``). Over the file
    size limit: FileRejected("file_too_large") before anything is read."""
    fd = _open(root, relpath)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRejected("not_a_regular_file")
        if identity is not None and _identity(st) != identity:
            raise FileRejected("file_changed")
        Bounds(limits).file_size(st.st_size)
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > st.st_size:  # grew while being read
                raise FileRejected("file_changed")
            chunks.append(chunk)
        if size != st.st_size:
            raise FileRejected("file_changed")
        return b"".join(chunks)
    finally:
        os.close(fd)


def sha256_of(root: Path, relpath: str, identity: str | None = None) -> str:
    """SHA-256 of a listed file, read the same safe way (streamed, any size)."""
    fd = _open(root, relpath)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRejected("not_a_regular_file")
        if identity is not None and _identity(st) != identity:
            raise FileRejected("file_changed")
        digest = hashlib.sha256()
        while chunk := os.read(fd, CHUNK):
            digest.update(chunk)
        return digest.hexdigest()
    finally:
        os.close(fd)


def refusal_digest(entry: Entry) -> str:
    """A stable stand-in for the SHA-256 of something that is never read."""
    text = f"refused\0{entry.identity}".encode("utf-8", "surrogateescape")
    return hashlib.sha256(text).hexdigest()
