"""Safe file I/O: atomic writes (a temp file in the destination folder, then ``os.replace``), several
outputs moved into place together, and inputs opened only when they are regular files.

Readers never see a half-written asset, a failed write leaves nothing behind, and a FIFO or a device
given where a file is expected is refused at once instead of hanging the reader (``open_regular``).
"""
from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

STAGE_PREFIX = ".avatarforge-stage-"
"""Hidden folders ``staged`` writes into: ``.avatarforge-stage-<host>-<pid>-<random>``."""
STALE_LEGACY_STAGE_S = 24 * 3600
"""A stage folder without an owner in its name (written before it carried one) is stale after a day."""


class NotARegularFile(OSError):
    """A path that exists but is not a regular file (a folder, FIFO, device or socket), or is missing."""

    def __init__(self, path: str | os.PathLike, kind: str):
        super().__init__(f"{os.fspath(path)} is {kind}")
        self.path, self.kind = os.fspath(path), kind


def file_kind(path: str | os.PathLike) -> str | None:
    """None for a regular file (symlinks followed); else what the path is, in words: "missing",
    "a broken symbolic link", "a folder", "a FIFO (named pipe)", "a character device", "a block device",
    "a socket". Decided with ``stat`` alone, so nothing is opened."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "a broken symbolic link" if os.path.islink(path) else "missing"
    except NotADirectoryError:
        return "missing"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: str | os.PathLike) -> Path:
    """``path`` as a Path when it is a regular file; else :class:`NotARegularFile` (nothing is opened)."""
    kind = file_kind(path)
    if kind is not None:
        raise NotARegularFile(path, kind)
    return Path(path)


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """Open a regular file for binary reading, never blocking: ``stat`` first, then ``O_NONBLOCK`` (a FIFO
    swapped in between cannot hang the open) and ``fstat`` of what was opened; then blocking reads."""
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile(path, "not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file; ``ValueError`` when it is larger than ``max_bytes``."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if max_bytes is not None and size > max_bytes:
            raise ValueError(f"{os.fspath(path)} is {size} bytes, more than the {max_bytes} accepted")
        data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:  # it grew while being read
        raise ValueError(f"{os.fspath(path)} is more than the {max_bytes} bytes accepted")
    return data


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; parent folders are created. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():  # os.replace would fail only after the data was written
        raise IsADirectoryError(f"cannot write {path}: a folder of that name is in the way")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; assets are ordinary files
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _host_tag() -> str:
    return f"{zlib.crc32(socket.gethostname().encode()) & 0xFFFFFFFF:08x}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def stale_stages(folder: str | os.PathLike) -> list[Path]:
    """Stage folders in ``folder`` whose writer is gone: made on this host by a process that no longer
    runs (a SIGKILL mid-write leaves one), or older than a day without an owner in their name."""
    out = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return out
    host = _host_tag()
    for e in entries:
        if not e.name.startswith(STAGE_PREFIX) or not e.is_dir(follow_symlinks=False):
            continue
        parts = e.name[len(STAGE_PREFIX):].split("-")
        if len(parts) >= 3 and parts[1].isdigit():
            if parts[0] == host and not _pid_alive(int(parts[1])):
                out.append(Path(e.path))
        else:
            try:
                if time.time() - e.stat(follow_symlinks=False).st_mtime > STALE_LEGACY_STAGE_S:
                    out.append(Path(e.path))
            except OSError:
                pass
    return out


def check_destinations(folder: str | os.PathLike, names) -> None:
    """Raise ``IsADirectoryError`` (naming it) when any of ``folder/name`` is a folder or other non-file that
    ``os.replace`` cannot put a file over: checked for all of them before any is moved."""
    folder = Path(folder)
    for n in names:
        kind = file_kind(folder / n)
        if kind not in (None, "missing", "a broken symbolic link"):
            raise IsADirectoryError(f"cannot write {folder / n}: {kind} of that name is in the way; "
                                    "nothing was written")


@contextmanager
def staged(folder: str | os.PathLike, last: str | None = None) -> Iterator[Path]:
    """A hidden folder inside ``folder`` to write several outputs into; when the block succeeds they
    all move into ``folder`` at once (``last`` last, so its presence means the set is complete),
    and when it fails none of them does. Either way the stage is removed, and stage folders that
    killed runs left in ``folder`` are removed on the way in. Every destination is checked before any
    file moves, so a folder in the way of one output leaves the others where they were too."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in stale_stages(folder):
        shutil.rmtree(old, ignore_errors=True)
    stage = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{_host_tag()}-{os.getpid()}-", dir=folder))
    try:
        yield stage
        names = sorted((p.name for p in stage.iterdir() if p.is_file()), key=lambda n: n == last)
        check_destinations(folder, names)
        for n in names:
            os.replace(stage / n, folder / n)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def png_bytes(image) -> bytes:
    """PNG encoding of a uint8 [H, W, 3] (or [H, W, 4]) array."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=False)
    return buf.getvalue()
