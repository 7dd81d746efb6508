"""Logic of ``avatarforge index-textures DIR [--index PATH]`` (wired into the CLI by ``pipeline``).

The pipeline builds its CLIP embedder and calls :func:`run_index_textures`; this module
prints one warning line per skipped file, a summary, and returns the exit code.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TextIO

from texture.embedder import ImageEmbedder
from texture.library_index import IndexConfig, IndexMismatchError, index_library
from texture.library_scan import SkippedFile

#: Exit codes: 0 ok (files may have been skipped), 1 refused (model mismatch), 2 bad input.
EXIT_OK, EXIT_MISMATCH, EXIT_BAD_INPUT = 0, 1, 2


def run_index_textures(dir: str | Path, index_path: str | Path | None, embedder: ImageEmbedder,
                       quiet: bool = False, config: IndexConfig | None = None,
                       out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Index ``dir`` with ``embedder`` into ``index_path`` (``None``: the library's ``DEFAULT_INDEX_NAME``).

    ``quiet`` hides the progress bar and the summary (warnings still go to ``err``).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    cfg = config or IndexConfig()
    cfg = dataclasses.replace(cfg, progress=cfg.progress and not quiet)

    def warn(s: SkippedFile) -> None:
        print(f"warning: {s.line()}", file=err)

    try:
        rep = index_library(dir, embedder, index_path, cfg, on_skip=warn)
    except NotADirectoryError as e:
        print(f"error: {e}", file=err)
        return EXIT_BAD_INPUT
    except IndexMismatchError as e:
        print(f"error: {e}", file=err)
        return EXIT_MISMATCH
    if not quiet:
        counts = ", ".join(f"{n} {r}" for r, n in rep.skip_counts().items() if n)
        print(f"indexed {rep.n_indexed} images in {rep.seconds:.1f} s ({rep.n_encoded} encoded, "
              f"{rep.n_reused} unchanged, {rep.n_removed} removed"
              f"{', rebuilt for a new model' if rep.rebuilt else ''}) -> {rep.index_path}", file=out)
        if counts:
            print(f"skipped {len(rep.skipped)}: {counts}", file=out)
    if not rep.n_indexed:
        print(f"warning: {dir} holds no usable images (png, jpg, webp); generate will apply no textures from it",
              file=err)
    return EXIT_OK
