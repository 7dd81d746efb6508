"""``avatarforge index-textures DIR [--index PATH]``: index a texture library with the CLIP model that
``generate`` uses, at the same default location ``generate`` looks in. One warning line per skipped file,
then a summary."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TextIO

from pipeline.cli.common import EXIT_FAIL, EXIT_INPUT, EXIT_OK, add_model_args, fail


def add_parser(sub) -> argparse.ArgumentParser:
    ix = sub.add_parser("index-textures", help="index an image library with CLIP (incremental)")
    ix.add_argument("dir", help="folder of images (png, jpg, webp; recursive)")
    ix.add_argument("--index", default=None, metavar="PATH",
                    help="index manifest (default: DIR/.avatarforge-index-<model>.json, or the cache folder when "
                         "DIR is read-only: where generate looks)")
    ix.add_argument("--quiet", action="store_true")
    add_model_args(ix)
    return ix


def run(args) -> int:
    from pipeline.encoders.clip_encoder import ClipEncoder
    from pipeline.inputs import InputError, resolve_device
    from texture.library import default_index_path

    root = Path(args.dir)
    if not root.is_dir():
        raise InputError(f"texture library {args.dir!r} is not a folder")
    enc = ClipEncoder.load(args.clip_model, args.clip_pretrained, resolve_device(args.device or "auto"))
    return index_and_report(root, args.index or default_index_path(root, enc), enc, quiet=args.quiet)


def index_and_report(root: str | Path, index_path: str | Path | None, embedder, quiet: bool = False,
                     config=None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Index ``root`` with ``embedder`` into ``index_path`` and report: the exit code (0 ok, files may have
    been skipped; 1 the index belongs to another model and may not be rebuilt; 2 not a folder)."""
    from texture.library.index import IndexConfig, IndexMismatchError, index_library

    out, err = out or sys.stdout, err or sys.stderr
    cfg = config or IndexConfig()
    cfg = dataclasses.replace(cfg, progress=cfg.progress and not quiet)
    try:
        rep = index_library(root, embedder, index_path, cfg,
                            on_skip=lambda s: print(f"avatarforge: warning: {s.line()}", file=err))
    except NotADirectoryError as e:
        return fail(str(e), EXIT_INPUT, err)
    except IndexMismatchError as e:
        return fail(str(e), EXIT_FAIL, err)
    if not quiet:
        counts = ", ".join(f"{n} {r}" for r, n in rep.skip_counts().items() if n)
        print(f"indexed {rep.n_indexed} images in {rep.seconds:.1f} s ({rep.n_encoded} encoded, "
              f"{rep.n_reused} unchanged, {rep.n_removed} removed"
              f"{', rebuilt for a new model' if rep.rebuilt else ''}) -> {rep.index_path}", file=out)
        if counts:
            print(f"skipped {len(rep.skipped)}: {counts}", file=out)
    if not rep.n_indexed:
        print(f"avatarforge: warning: {root} holds no usable images (png, jpg, webp); generate will apply no "
              "textures from it", file=err)
    return EXIT_OK
