"""Which files the web app may hand out: regular files inside its output folder, reached without ``..``,
absolute paths or symbolic links."""
from __future__ import annotations

import os
import stat
from pathlib import Path

MEDIA_TYPES = {".glb": "model/gltf-binary", ".vrm": "model/gltf-binary", ".json": "application/json",
               ".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".html": "text/html; charset=utf-8",
               ".zip": "application/zip", ".jsonl": "application/x-ndjson"}
"""What may be downloaded, by suffix; any other file is refused."""


class Refused(Exception):
    """A download path that must not be served: ``status`` (400 or 404) and a one-line reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def safe_file(root: str | os.PathLike, rel: str) -> Path:
    """The regular file ``root/rel``, or :class:`Refused`.

    ``rel`` is a URL path relative to ``root``: no empty, ``.`` or ``..`` parts, no backslashes, NULs or
    drive letters, no hidden names (temp files, staging folders), and no symbolic link anywhere on the way."""
    if not isinstance(rel, str) or not rel or len(rel) > 1024:
        raise Refused(400, "bad file path")
    if rel.startswith(("/", "\\")) or "\\" in rel or "\x00" in rel or ":" in rel:
        raise Refused(400, "file paths are relative to the output folder")
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise Refused(400, "'..' and empty path parts are not allowed")
    if any(p.startswith(".") for p in parts):
        raise Refused(404, "no such file")
    if Path(parts[-1]).suffix.lower() not in MEDIA_TYPES:
        raise Refused(404, "no such file")
    here = Path(root)
    for p in parts:
        here = here / p
        try:
            st = os.lstat(here)
        except OSError:
            raise Refused(404, "no such file") from None
        if stat.S_ISLNK(st.st_mode):
            raise Refused(404, "no such file")  # a link could lead out of the folder
    if not stat.S_ISREG(st.st_mode):
        raise Refused(404, "no such file")
    real_root, real = os.path.realpath(root), os.path.realpath(here)
    if os.path.commonpath([real_root, real]) != real_root:
        raise Refused(404, "no such file")
    return here


def media_type(path: Path) -> str:
    return MEDIA_TYPES[path.suffix.lower()]
