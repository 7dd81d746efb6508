"""Atomic file writes: a temp file in the destination folder, then ``os.replace``.

Readers never see a half-written asset, and a failed write leaves nothing behind.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; parent folders are created. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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


@contextmanager
def staged(folder: str | os.PathLike, last: str | None = None) -> Iterator[Path]:
    """A hidden folder inside ``folder`` to write several outputs into; when the block succeeds they
    all move into ``folder`` at once (``last`` last, so its presence means the set is complete),
    and when it fails none of them does. Either way the stage is removed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".avatarforge-stage-", dir=folder))
    try:
        yield stage
        names = sorted((p.name for p in stage.iterdir() if p.is_file()), key=lambda n: n == last)
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
