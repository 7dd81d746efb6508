"""Find the image files of a texture library and open them safely.

The walk stays inside the library folder: a symlink (file or folder) whose target
lies outside it is reported, never followed, and folder loops are cut. Opening
checks the header before decoding, so a decompression bomb costs a few bytes of
reading, and classifies every failure as one :data:`SkipReason`.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

from PIL import Image, UnidentifiedImageError

from texture.atomic import NotARegularFile, file_kind, open_regular

#: Why a file was left out of the index.
SkipReason = Literal["outside-root", "unreadable", "truncated", "not-an-image", "oversized",
                     "unsupported-format"]
SKIP_REASONS: tuple[str, ...] = ("outside-root", "unreadable", "truncated", "not-an-image",
                                 "oversized", "unsupported-format")

#: PIL format names accepted for each extension family.
_FORMATS = {"PNG", "JPEG", "MPO", "WEBP"}


@dataclass(frozen=True)
class SkippedFile:
    """A library file that was not indexed, and why."""

    path: str
    """Path relative to the library root (POSIX separators)."""
    reason: str
    """One of :data:`SKIP_REASONS`."""
    detail: str = ""
    """Human-readable specifics (the exception text, the claimed size, the link target)."""

    def line(self) -> str:
        return f"skipped {self.path}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


class SkipFile(Exception):
    """Raised by :func:`open_image` with the reason a file cannot be indexed."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def walk_images(root: Path, extensions: tuple[str, ...]) -> Iterator[tuple[str, Path] | SkippedFile]:
    """Yield ``(relative posix path, absolute path)`` of candidate files under ``root``.

    Files are matched by extension (case-insensitive). Symlinks are followed only
    while their resolved target stays inside ``root``; others are yielded as
    :class:`SkippedFile` with reason ``outside-root``. Order is sorted, so runs are
    reproducible.
    """
    root_real = Path(os.path.realpath(root))
    exts = tuple(e.lower() for e in extensions)
    seen_dirs: set[str] = set()

    def inside(p: str) -> bool:
        return p == str(root_real) or p.startswith(str(root_real) + os.sep)

    def rec(d: Path, rel: str) -> Iterator[tuple[str, Path] | SkippedFile]:
        real = os.path.realpath(d)
        if real in seen_dirs:
            return
        seen_dirs.add(real)
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as e:  # unreadable folder
            yield SkippedFile(rel or ".", "unreadable", str(e))
            return
        for e in entries:
            r = f"{rel}/{e.name}" if rel else e.name
            is_link = e.is_symlink()
            target = os.path.realpath(e.path) if is_link else None
            if e.is_dir(follow_symlinks=True):
                if is_link and not inside(target):
                    yield SkippedFile(r, "outside-root", f"symlink to {target}")
                    continue
                yield from rec(Path(e.path), r)
            elif e.name.lower().endswith(exts):
                if is_link and not inside(target):
                    yield SkippedFile(r, "outside-root", f"symlink to {target}")
                    continue
                kind = file_kind(e.path)  # a FIFO named pipe.png would hang whoever opens it
                if kind is not None:
                    yield SkippedFile(r, "unreadable", f"{kind}, not a regular file")
                    continue
                yield r, Path(e.path)

    yield from rec(Path(root), "")


def check_header(path: Path, max_pixels: int) -> tuple[int, int]:
    """Read only the header of ``path``; return (width, height) or raise :class:`SkipFile`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with open_regular(path) as fh, Image.open(fh) as im:
                w, h, fmt = im.width, im.height, im.format
    except Image.DecompressionBombError as e:  # PIL refuses > 2 * MAX_IMAGE_PIXELS before we can ask
        m = re.search(r"\((\d+) pixels\)", str(e))
        claimed = m.group(1) if m else "too many"
        raise SkipFile("oversized", f"header claims {claimed} px > limit {max_pixels}") from None
    except UnidentifiedImageError:
        raise SkipFile("not-an-image", "no known image header") from None
    except NotARegularFile as e:
        raise SkipFile("unreadable", f"{e.kind}, not a regular file") from None
    except PermissionError as e:
        raise SkipFile("unreadable", str(e)) from None
    except (OSError, SyntaxError, ValueError) as e:
        raise SkipFile("unreadable", f"{type(e).__name__}: {e}") from None
    if fmt not in _FORMATS:
        raise SkipFile("unsupported-format", f"{fmt} data; accepted: PNG, JPEG, WEBP")
    if w * h > max_pixels:
        raise SkipFile("oversized", f"header claims {w}x{h} = {w * h} px > limit {max_pixels}")
    return w, h


def open_image(path: Path, max_pixels: int) -> Image.Image:
    """Decode ``path`` fully into an RGB image, or raise :class:`SkipFile` with the reason."""
    check_header(path, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with open_regular(path) as fh, Image.open(fh) as im:
                im.load()
                return to_rgb(im)
    except NotARegularFile as e:
        raise SkipFile("unreadable", f"{e.kind}, not a regular file") from None
    except Image.DecompressionBombError as e:
        raise SkipFile("oversized", str(e)) from None
    except OSError as e:
        msg = str(e)
        if "truncated" in msg.lower() or isinstance(e, EOFError):
            raise SkipFile("truncated", msg) from None
        raise SkipFile("unreadable", f"{type(e).__name__}: {msg}") from None
    except (SyntaxError, ValueError, EOFError) as e:  # PIL raises these for corrupt data
        reason = "truncated" if isinstance(e, EOFError) else "unreadable"
        raise SkipFile(reason, f"{type(e).__name__}: {e}") from None


def to_rgb(im: Image.Image) -> Image.Image:
    """8-bit RGB of any mode. PIL's ``convert("RGB")`` clips 16- and 32-bit greyscale ("I;16", "I") at 255,
    which turns a 16-bit PNG white; those are scaled to 8 bits first (by their bit depth), and float
    greyscale ("F") is read as 0..1 when it lies there."""
    import numpy as np

    mode = im.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16"):
            a = a / 257.0
        elif mode == "I":
            top = float(a.max()) if a.size else 0.0
            a = a / 257.0 if top > 255 else a  # 16-bit data in PIL's 32-bit mode (how PNGs often open)
        elif a.size and float(np.nanmax(a)) <= 1.0:
            a = a * 255.0
        g = np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8)
        return Image.fromarray(g, "L").convert("RGB")
    return im.convert("RGB")
