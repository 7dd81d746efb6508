"""``avatarforge index-textures DIR [--index PATH]``: index a texture library with the CLIP
model that ``generate`` uses, at the same default location ``generate`` looks in."""
from __future__ import annotations

from pathlib import Path


def cmd_index(args) -> int:
    from pipeline.clip_encoder import ClipEncoder
    from pipeline.inputs import InputError, resolve_device
    from texture.index_cli import run_index_textures
    from texture.library import default_index_path

    root = Path(args.dir)
    if not root.is_dir():
        raise InputError(f"texture library {args.dir!r} is not a folder")
    enc = ClipEncoder.load(args.clip_model, args.clip_pretrained, resolve_device(args.device or "auto"))
    index = args.index or default_index_path(root, enc)
    return run_index_textures(root, index, enc, quiet=args.quiet)
