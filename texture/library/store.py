"""TextureLibrary: an image library opened for one CLIP embedder (indexed on first use).

The shipped default library (procedural swatches in ``texture/assets/library``) and a
user's ``--texture-library DIR`` are handled alike; indexes live beside the library when
that folder is writable, else in the user cache (``texture.cache``), one per embedder so models never mix.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from texture.cache import cache_dir
from texture.library.embedder import ImageEmbedder
from texture.library.index import IndexConfig, IndexReport, index_library, load_index
from texture.library.search import LibraryIndex

DEFAULT_LIBRARY = Path(__file__).resolve().parents[1] / "assets" / "library"


def default_index_path(folder: Path, embedder: ImageEmbedder) -> Path:
    """Per-embedder index path: beside the library when writable, else in the cache."""
    tag = hashlib.sha256(f"{embedder.name}|{embedder.weights_hash}".encode()).hexdigest()[:12]
    if os.access(folder, os.W_OK) and folder != DEFAULT_LIBRARY:
        return folder / f".avatarforge-index-{tag}.json"
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    return cache_dir() / "texture-index" / f"{key}-{tag}.json"


@dataclass
class TextureLibrary:
    index: LibraryIndex
    embedder: ImageEmbedder
    report: IndexReport | None = None

    def best_match(self, text_vec: np.ndarray) -> tuple[str, float, np.ndarray] | None:
        """(path, score, embedding) of the library image closest to a text embedding."""
        if len(self.index) == 0:
            return None
        scores, ids = self.index.search(np.asarray(text_vec, np.float32)[None], 1)
        i = int(ids[0, 0])
        return str(self.index.abspath(i)), float(scores[0, 0]), self.index.embeddings[i].copy()


def open_library(folder: str | os.PathLike | None, embedder: ImageEmbedder, index_path: str | None = None,
                 quiet: bool = False) -> TextureLibrary:
    """Index ``folder`` (default: the shipped swatches) incrementally and open it for search."""
    root = Path(folder) if folder else DEFAULT_LIBRARY
    if not root.is_dir():
        raise NotADirectoryError(f"texture library {str(root)!r} is not a folder")
    path = Path(index_path) if index_path else default_index_path(root, embedder)
    report = index_library(root, embedder, path, IndexConfig(progress=not quiet))
    return TextureLibrary(load_index(path, root), embedder, report)
