"""Validation of user input: prompts, output paths, reference images, devices.

Every failure is an :class:`InputError` whose message names the bad input and what
would be accepted; the CLI prints it on one line and exits 2.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import torch


class InputError(ValueError):
    """Bad user input (exit code 2)."""


_WS = re.compile(r"[\t\n\r\f\v]+")


def clean_prompt(prompt: str) -> str:
    """Strip and normalise whitespace; refuse empty prompts and control characters."""
    if prompt is None or not isinstance(prompt, str):
        raise InputError("prompt must be a string")
    text = _WS.sub(" ", prompt).strip()
    if not text:
        raise InputError("prompt is empty; describe the avatar, e.g. \"a tall knight in a red tunic\"")
    for i, ch in enumerate(text):
        if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":
            raise InputError(f"prompt contains a control character U+{ord(ch):04X} at position {i}; "
                             "remove it and try again")
    return re.sub(r" {2,}", " ", text)


def check_output(path: str | os.PathLike) -> Path:
    """The GLB path: must end in .glb; its folder is created; must be writable."""
    p = Path(path).expanduser()
    if p.suffix.lower() != ".glb":
        raise InputError(f"--out {str(path)!r} must end in .glb (e.g. avatars/knight.glb)")
    if p.exists() and p.is_dir():
        raise InputError(f"--out {str(path)!r} is a folder; give a file name ending in .glb")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create output folder {str(p.parent)!r}: {e.strerror or e}") from e
    try:  # a real write: os.access says yes to root on folders such as /sys or /proc that refuse files
        fd, probe = tempfile.mkstemp(prefix=".avatarforge-probe-", dir=p.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise InputError(f"output folder {str(p.parent)!r} is not writable ({e.strerror or e})") from None
    return p


def load_image(path: str | os.PathLike, max_pixels: int = 40_000_000):
    """Open a reference image safely: exists, is an image, not truncated, not absurdly large."""
    from texture.library.scan import SkipFile, open_image

    p = Path(path).expanduser()
    if p.is_dir():
        raise InputError(f"--image {str(path)!r} is a folder; give an image file (png, jpg or webp)")
    if not p.is_file():
        raise InputError(f"--image {str(path)!r} not found")
    try:
        return open_image(p, max_pixels)
    except SkipFile as e:
        what = {"oversized": "is absurdly large (decompression-bomb guard; raise reference.max_pixels to allow)",
                "not-an-image": "is not an image (png, jpg or webp expected)",
                "unsupported-format": "is not a png, jpg or webp image",
                "truncated": "is truncated"}.get(e.reason, "is unreadable or corrupt")
        raise InputError(f"--image {str(path)!r} {what}: {e.detail}") from None


def resolve_device(device: str) -> torch.device:
    """auto -> cuda when available else cpu; cuda without CUDA is an error."""
    d = (device or "auto").lower()
    if d == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if d == "cpu":
        return torch.device("cpu")
    if d.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"--device {device}: CUDA is not available on this machine; use --device cpu or auto")
        return torch.device(d)
    raise InputError(f"unknown device {device!r}; use auto, cpu or cuda")


# names Windows cannot create, with any extension ("con.glb" too)
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_name(text: str, max_len: int = 60) -> str:
    """A filesystem-safe, lower-case file stem derived from free text (never a path).

    Text with nothing ASCII to keep ("日本の侍", an emoji) gets ``avatar_`` and a short hash of
    itself, so two such prompts do not overwrite each other's files.
    """
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()[:max_len].strip("_")
    if not s:
        return "avatar_" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return s + "_" if s in _RESERVED else s
