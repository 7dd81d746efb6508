"""The texture library index: CLIP embeddings of every library image, built incrementally.

On disk an index is two files beside each other::

    <index>.json            manifest: model name + weights hash, dim, dtype, the embeddings
                            file name, and per row: relative path, sha256, size, mtime_ns
    <index>.<digest>.npy    float16/32 [N, D] L2-normalised embeddings, row i = entries[i]

The ``.npy`` is written first under a content-derived name and the manifest last
(both via temp file + rename), so a reader sees either the old index or the new
one, never half of each. A second run re-encodes only new or changed files (size
and mtime first, then the sha256), and forgets removed ones. Vectors from two
models are never mixed: a manifest from another model is rebuilt or refused.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from texture.atomic import atomic_write_bytes, file_kind, open_regular, read_regular
from texture.library.embedder import ImageEmbedder, l2_normalize
from texture.library.scan import SKIP_REASONS, SkipFile, SkippedFile, check_header, open_image, walk_images
from texture.library.search import LibraryIndex

log = logging.getLogger(__name__)
FORMAT = "avatarforge.texture-index/1"
DEFAULT_INDEX_NAME = ".avatarforge-index.json"


class IndexMismatchError(RuntimeError):
    """An existing index was built by another model and ``rebuild_on_mismatch`` is off."""


class NotAnIndexError(ValueError):
    """The index path holds something that is not a texture index (a user's file, a folder, a FIFO):
    it is never overwritten."""


def _check_index_path(index_path: Path) -> None:
    """Refuse an index path whose current content an index must not replace."""
    kind = file_kind(index_path)
    if kind == "missing":
        return
    if kind is not None:
        raise NotAnIndexError(f"index path {str(index_path)!r} is {kind}, not a texture index file")
    try:
        with open_regular(index_path) as fh:
            head = fh.read(4096)
    except OSError as e:
        raise NotAnIndexError(f"index path {str(index_path)!r} cannot be read ({e.strerror or e})") from None
    if FORMAT.encode() not in head:
        raise NotAnIndexError(f"index path {str(index_path)!r} holds a file that is not a texture index; "
                              "it is not overwritten: give another --index")


@dataclass
class IndexConfig:
    """How :func:`index_library` finds, checks, encodes and stores library images."""

    extensions: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp")
    """File name endings (case-insensitive) that are treated as images."""
    max_pixels: int = 8192 * 8192
    """Largest width x height accepted, checked from the header before decoding."""
    batch_size: int = 32
    """Images decoded and encoded per call of ``embedder.encode_images``."""
    dtype: str = "float16"
    """Storage dtype of the embeddings: float16 (half the disk) or float32."""
    rebuild_on_mismatch: bool = True
    """Rebuild (with a warning) an index made by another model; if False, raise instead."""
    progress: bool = True
    """Show a progress bar while encoding."""

    def __post_init__(self) -> None:
        if self.dtype not in ("float16", "float32"):
            raise ValueError(f"IndexConfig.dtype must be 'float16' or 'float32', got {self.dtype!r}")
        if self.batch_size < 1 or self.max_pixels < 1:
            raise ValueError(f"IndexConfig.batch_size and max_pixels must be >= 1, got "
                             f"{self.batch_size} and {self.max_pixels}")


@dataclass
class IndexReport:
    """What one :func:`index_library` run did."""

    index_path: Path
    """The manifest written."""
    index: LibraryIndex
    """The resulting index, ready to search."""
    n_encoded: int = 0
    """Images encoded in this run (new or changed)."""
    n_reused: int = 0
    """Images whose stored embedding was kept (unchanged, or same content hash)."""
    n_removed: int = 0
    """Entries dropped because their file is gone or no longer valid."""
    rebuilt: bool = False
    """True when an index of another model was discarded."""
    skipped: list[SkippedFile] = field(default_factory=list)
    """Every file left out, with its reason."""
    seconds: float = 0.0

    @property
    def n_indexed(self) -> int:
        return len(self.index)

    def skip_counts(self) -> dict[str, int]:
        """Number of skipped files per reason (every reason listed, zeros included)."""
        out = {r: 0 for r in SKIP_REASONS}
        for s in self.skipped:
            out[s.reason] = out.get(s.reason, 0) + 1
        return out


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open_regular(path) as f:  # a FIFO or device is refused, never read forever
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()


def _load_manifest(index_path: Path) -> dict | None:
    if not index_path.exists():
        return None
    try:
        man = json.loads(read_regular(index_path))
        if man.get("format") != FORMAT:
            raise ValueError(f"format {man.get('format')!r}, expected {FORMAT!r}")
        with open_regular(index_path.parent / man["embeddings"]) as fh:
            emb = np.load(fh, allow_pickle=False)
        if emb.shape[0] != len(man["entries"]):
            raise ValueError(f"{emb.shape[0]} vectors for {len(man['entries'])} entries")
        man["_emb"] = emb.astype(np.float32)
        return man
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        log.warning("ignoring unreadable index %s (%s); rebuilding", index_path, e)
        return None


def index_library(dir: str | Path, embedder: ImageEmbedder, index_path: str | Path | None = None,
                  config: IndexConfig | None = None,
                  on_skip: Callable[[SkippedFile], None] | None = None) -> IndexReport:
    """Index (or update the index of) every image under ``dir`` with ``embedder``.

    ``index_path`` is the manifest (default ``<dir>/.avatarforge-index.json``).
    ``on_skip`` receives each skipped file (default: one ``logging`` warning line each).
    Raises :class:`IndexMismatchError` for another model's index when
    ``config.rebuild_on_mismatch`` is False, ``NotADirectoryError`` for a bad ``dir``, and
    :class:`NotAnIndexError` when ``index_path`` holds something else (which is left as it is).
    """
    t0 = time.perf_counter()
    cfg = config or IndexConfig()
    root = Path(dir)
    if not root.is_dir():
        raise NotADirectoryError(f"texture library folder {str(root)!r} does not exist or is not a folder")
    index_path = Path(index_path) if index_path is not None else root / DEFAULT_INDEX_NAME
    _check_index_path(index_path)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    on_skip = on_skip or (lambda s: log.warning(s.line()))
    skipped: list[SkippedFile] = []

    def skip(s: SkippedFile) -> None:
        skipped.append(s)
        on_skip(s)

    old = _load_manifest(index_path)
    rebuilt = False
    if old is not None and ((old["model"]["name"], old["model"]["weights_hash"])
                            != (embedder.name, embedder.weights_hash)):
        msg = (f"index {index_path} was built by model {old['model']['name']!r} (weights "
               f"{old['model']['weights_hash']}), not {embedder.name!r} (weights {embedder.weights_hash})")
        if not cfg.rebuild_on_mismatch:
            raise IndexMismatchError(msg + "; pass rebuild_on_mismatch=True or another index path")
        log.warning("%s; rebuilding it from scratch", msg)
        old, rebuilt = None, True
    by_path = {e["path"]: i for i, e in enumerate(old["entries"])} if old else {}
    by_hash = {e["sha256"]: i for i, e in enumerate(old["entries"])} if old else {}

    entries: list[dict] = []        # final rows, in walk order
    vecs: list[np.ndarray | None] = []  # reused vector, or None = to encode
    todo: list[int] = []
    for item in walk_images(root, cfg.extensions):
        if isinstance(item, SkippedFile):
            skip(item)
            continue
        rel, path = item
        try:
            st = path.stat()
        except OSError as e:
            skip(SkippedFile(rel, "unreadable", str(e)))
            continue
        entry = {"path": rel, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        j = by_path.get(rel)
        if j is not None and (old["entries"][j]["size"], old["entries"][j]["mtime_ns"]) == (st.st_size, st.st_mtime_ns):
            entries.append({**entry, "sha256": old["entries"][j]["sha256"]})
            vecs.append(old["_emb"][j])
            continue
        try:
            check_header(path, cfg.max_pixels)
            entry["sha256"] = sha256_file(path)
        except SkipFile as e:
            skip(SkippedFile(rel, e.reason, e.detail))
            continue
        except OSError as e:
            skip(SkippedFile(rel, "unreadable", str(e)))
            continue
        j = by_hash.get(entry["sha256"])
        entries.append(entry)
        vecs.append(old["_emb"][j] if j is not None else None)
        if j is None:
            todo.append(len(entries) - 1)

    n_encoded, dim = _encode(root, entries, vecs, todo, embedder, cfg, skip)
    keep = [i for i, v in enumerate(vecs) if v is not None]
    dims = {int(vecs[i].shape[0]) for i in keep}
    if len(dims) > 1:
        raise ValueError(f"embedder {embedder.name!r} (weights {embedder.weights_hash}) now returns "
                         f"{sorted(dims)}-dimensional vectors mixed with the stored ones: its weights "
                         f"changed without its weights_hash; delete {index_path} or fix the hash")
    entries = [entries[i] for i in keep]
    if dim is None:
        dim = int(old["_emb"].shape[1]) if old is not None and old["_emb"].ndim == 2 and len(old["entries"]) else 0
    emb = np.stack([vecs[i] for i in keep]).astype(np.float32) if keep else np.zeros((0, dim), np.float32)
    _save(index_path, root, entries, emb, embedder, cfg)
    kept_old = {e["path"] for e in entries}
    n_removed = sum(1 for e in (old["entries"] if old else []) if e["path"] not in kept_old)
    index = LibraryIndex(root=root, paths=[e["path"] for e in entries], embeddings=emb,
                         model_name=embedder.name, weights_hash=embedder.weights_hash)
    return IndexReport(index_path=index_path, index=index, n_encoded=n_encoded,
                       n_reused=len(entries) - n_encoded, n_removed=n_removed, rebuilt=rebuilt,
                       skipped=skipped, seconds=time.perf_counter() - t0)


def _encode(root, entries, vecs, todo, embedder, cfg, skip) -> tuple[int, int | None]:
    """Decode and encode rows ``todo`` in batches, filling ``vecs``; bad files stay None."""
    from tqdm.auto import tqdm

    n, dim = 0, None
    bar = tqdm(total=len(todo), desc="indexing textures", unit="img", disable=not cfg.progress or not todo)
    for s in range(0, len(todo), cfg.batch_size):
        rows, images = [], []
        for i in todo[s:s + cfg.batch_size]:
            try:
                images.append(open_image(root / entries[i]["path"], cfg.max_pixels))
                rows.append(i)
            except SkipFile as e:
                skip(SkippedFile(entries[i]["path"], e.reason, e.detail))
        if images:
            out = np.asarray(embedder.encode_images(images), dtype=np.float32)
            if out.shape[0] != len(images) or not np.isfinite(out).all():
                raise ValueError(f"embedder {embedder.name!r} returned {out.shape} (finite: "
                                 f"{np.isfinite(out).all()}) for {len(images)} images; expected [N, D] finite")
            out = l2_normalize(out)
            dim = out.shape[1]
            for i, v in zip(rows, out):
                vecs[i] = v
            n += len(rows)
        bar.update(len(todo[s:s + cfg.batch_size]))
    bar.close()
    return n, dim


def _save(index_path: Path, root: Path, entries: list[dict], emb: np.ndarray,
          embedder: ImageEmbedder, cfg: IndexConfig) -> None:
    data = emb.astype(cfg.dtype)
    digest = hashlib.sha256(data.tobytes() + json.dumps(entries).encode()).hexdigest()[:12]
    npy = index_path.with_name(f"{index_path.stem}.{digest}.npy")
    old_npy = None
    if index_path.exists():
        try:
            old_npy = json.loads(read_regular(index_path)).get("embeddings")
        except (OSError, ValueError):
            pass

    buf = io.BytesIO()
    np.save(buf, data)
    atomic_write_bytes(npy, buf.getvalue())
    manifest = {"format": FORMAT, "model": {"name": embedder.name, "weights_hash": embedder.weights_hash},
                "dim": int(emb.shape[1]), "dtype": cfg.dtype, "embeddings": npy.name,
                "root": str(root.resolve()), "entries": entries}
    atomic_write_bytes(index_path, json.dumps(manifest, indent=1).encode())
    if (isinstance(old_npy, str) and old_npy != npy.name and Path(old_npy).name == old_npy
            and old_npy.startswith(f"{index_path.stem}.") and old_npy.endswith(".npy")):  # only a file _save made
        (index_path.parent / old_npy).unlink(missing_ok=True)


def load_index(index_path: str | Path, root: str | Path | None = None) -> LibraryIndex:
    """Load a saved index for searching; ``root`` overrides the library folder recorded in it."""
    index_path = Path(index_path)
    if not index_path.is_file():
        raise FileNotFoundError(f"no texture index at {str(index_path)!r}; build one with index_library()")
    man = json.loads(read_regular(index_path))
    if man.get("format") != FORMAT:
        raise ValueError(f"{index_path} is not a texture index (format {man.get('format')!r}, expected {FORMAT!r})")
    with open_regular(index_path.parent / man["embeddings"]) as fh:
        emb = np.load(fh, allow_pickle=False).astype(np.float32)
    return LibraryIndex(root=Path(root or man["root"]), paths=[e["path"] for e in man["entries"]],
                        embeddings=emb, model_name=man["model"]["name"],
                        weights_hash=man["model"]["weights_hash"])
