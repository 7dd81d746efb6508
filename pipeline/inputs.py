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
        if unicodedata.category(ch) == "Cs":  # undecodable bytes (surrogateescape) or a lone surrogate
            raise InputError(f"prompt is not valid UTF-8/Unicode at position {i} (U+{ord(ch):04X}); "
                             "save the text as UTF-8")
        if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":
            raise InputError(f"prompt contains a control character U+{ord(ch):04X} at position {i}; "
                             "remove it and try again")
    return re.sub(r" {2,}", " ", text)


def input_file(path: str | os.PathLike, flag: str) -> Path:
    """An input that must be a regular file (``--image``, ``--config``, a prompt or weights file), checked with
    ``stat`` alone: a FIFO or a device is refused at once (reading one would hang or never end)."""
    from texture.atomic import file_kind

    p = Path(path).expanduser()
    kind = file_kind(p)
    if kind is None:
        return p
    if kind == "missing":
        raise InputError(f"{flag} {str(path)!r} not found")
    if kind == "a broken symbolic link":
        raise InputError(f"{flag} {str(path)!r} is a broken symbolic link (to {os.readlink(p)!r})")
    if kind == "a folder":
        raise InputError(f"{flag} {str(path)!r} is a folder, not a regular file; give a file")
    raise InputError(f"{flag} {str(path)!r} is {kind}, not a regular file")


def read_input_bytes(path: str | os.PathLike, flag: str, max_bytes: int) -> tuple[Path, bytes]:
    """``(path, bytes)`` of an input file (``input_file``'s checks, then at most ``max_bytes``); every problem
    is a one-line ``InputError`` naming ``flag``."""
    from texture.atomic import read_regular

    p = input_file(path, flag)
    try:
        return p, read_regular(p, max_bytes)
    except ValueError:
        raise InputError(f"{flag} {str(path)!r} is larger than {max_bytes >> 20} MiB; split it") from None
    except OSError as e:
        raise InputError(f"cannot read {flag} {str(path)!r}: {e.strerror or e}") from None


OUTPUT_SUFFIXES = (".glb", ".vrm")
"""What ``--out`` may end in: a glTF binary, or a VRM 1.0 humanoid avatar (a GLB with ``VRMC_vrm``)."""


def output_paths(out: str | os.PathLike, lods: int = 0) -> list[Path]:
    """Every file ``generate`` writes for the avatar path ``out``: the GLB or VRM, its sidecar, its preview
    and its LODs (``<stem>_lod1.glb`` ...), in that order."""
    out = Path(out)
    return [out, out.with_suffix(".json"), out.with_suffix(".png"),
            *(out.with_name(f"{out.stem}_lod{i}.glb") for i in range(1, lods + 1))]


def _broken_ancestor(p: Path) -> Path | None:
    for a in [p, *p.parents]:
        if os.path.islink(a) and not os.path.exists(a):
            return a
    return None


def check_output(path: str | os.PathLike, lods: int = 0) -> Path:
    """The avatar's path: must end in .glb or .vrm (VRM 1.0); its folder is created; must be writable; none
    of the files written beside it (``output_paths``) may be a folder."""
    p = Path(path).expanduser()
    if p.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"--out {str(path)!r} must end in .glb or .vrm (e.g. avatars/knight.glb)")
    if p.exists() and p.is_dir():
        raise InputError(f"--out {str(path)!r} is a folder; give a file name ending in .glb or .vrm")
    broken = _broken_ancestor(p.parent)
    if broken is not None:
        raise InputError(f"output folder {str(broken)!r} is a broken symbolic link (to {os.readlink(broken)!r}); "
                         "create its target or give another --out")
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
    from texture.atomic import file_kind

    for o in output_paths(p, lods)[1:]:
        kind = file_kind(o)
        if kind not in (None, "missing", "a broken symbolic link"):
            raise InputError(f"--out {str(path)!r} writes {o.name} beside it, but {str(o)!r} is {kind}; "
                             "move it or give another --out")
    return p


_ROLE = {0: "the GLB", 1: "the sidecar", 2: "the preview"}


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _inside(p: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(p)).relative_to(os.path.realpath(folder))
        return True
    except ValueError:
        return False


def check_outputs_spare_inputs(outputs: list[Path], inputs: list[tuple[str, str | os.PathLike | None]],
                               out_flag: str = "--out") -> None:
    """Refuse (before anything is written) when any of ``outputs`` would replace one of the run's inputs:
    a file given as ``(flag, path)`` (the same file, through links too), or an existing file inside an
    input folder (the texture library). The message names the input and the output."""
    for flag, given in inputs:
        if not given:
            continue
        src = Path(given).expanduser()
        if not os.path.exists(src):
            continue
        for i, o in enumerate(outputs):
            if not os.path.lexists(o):
                continue
            role = _ROLE.get(i, f"LOD file {o.name}") if out_flag == "--out" else f"its output {o.name}"
            if src.is_dir():
                if o.is_file() and _inside(o, src):
                    raise InputError(f"{out_flag} would overwrite {str(o)!r} inside the {flag} folder "
                                     f"{str(given)!r} with {role}; give an {out_flag} outside it")
            elif _same_file(o, src):
                raise InputError(f"{out_flag} would overwrite the {flag} file {str(given)!r} with {role} "
                                 f"({o.name}); give another {out_flag} (nothing was written)")


def generate_inputs(config, image: str | os.PathLike | None = None,
                    config_file: str | os.PathLike | None = None) -> list[tuple[str, str | os.PathLike | None]]:
    """The files and folders one ``generate`` reads, as ``(flag, path)``."""
    return [("--image", image), ("--config", config_file), ("--clip-pretrained", config.model.clip_pretrained),
            ("--texture-library", config.texture.library), ("--sd-model", config.guidance.sd_model)]


def check_generate_outputs(out: str | os.PathLike, config, image: str | os.PathLike | None = None,
                           config_file: str | os.PathLike | None = None) -> None:
    """No file ``generate`` writes for ``out`` (GLB, sidecar, preview, LODs) may replace one of its inputs:
    ``generate --image hero.png --out hero.glb`` would turn the reference into the preview."""
    check_outputs_spare_inputs(output_paths(Path(out).expanduser(), config.export.lods),
                               generate_inputs(config, image, config_file))


def default_output(prompt: str, folder: str | os.PathLike = "avatars", lods: int = 0,
                   limit: int = 10_000) -> tuple[Path, bool]:
    """``(path, renamed)``: ``folder/<safe_name(prompt)>.glb``, or ``_2``, ``_3``, ... when any file that name
    writes (``output_paths``) exists already, so a run without ``--out`` never replaces an earlier avatar
    ("a red knight" and "A RED KNIGHT!!" both make ``a_red_knight``)."""
    base = safe_name(prompt)
    for k in range(1, limit + 1):
        p = Path(folder) / (f"{base}.glb" if k == 1 else f"{base}_{k}.glb")
        if not any(os.path.lexists(o) for o in output_paths(p, lods)):
            return p, k > 1
    raise InputError(f"{folder}/ already holds {limit} avatars named {base}; give --out")


def load_image(path: str | os.PathLike, max_pixels: int = 40_000_000, label: str | None = None):
    """Open a reference image safely: exists, is an image, not truncated, not absurdly large. Errors name it
    as ``label`` (default ``--image 'PATH'``; the web app says "the uploaded image")."""
    from texture.library.scan import SkipFile, open_image

    p = Path(path).expanduser()
    label = label or f"--image {str(path)!r}"
    if p.is_dir():
        raise InputError(f"{label} is a folder; give an image file (png, jpg or webp)")
    input_file(p, "--image")  # /dev/zero or a FIFO: said as such, and never opened
    try:
        return open_image(p, max_pixels)
    except SkipFile as e:
        what = {"oversized": "is absurdly large (decompression-bomb guard; raise reference.max_pixels to allow)",
                "not-an-image": "is not an image (png, jpg or webp expected)",
                "unsupported-format": "is not a png, jpg or webp image",
                "truncated": "is truncated"}.get(e.reason, "is unreadable or corrupt")
        raise InputError(f"{label} {what}: {e.detail}") from None


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
