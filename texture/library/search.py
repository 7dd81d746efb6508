"""Searching an indexed texture library: exact inner-product top-k, faiss or numpy.

Embeddings are L2-normalised, so inner product is cosine similarity. faiss-cpu's
``IndexFlatIP`` is used when importable; otherwise (or with ``backend="numpy"``) a
matrix product plus ``argpartition`` gives the same answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

try:  # optional: the numpy path gives identical results, only slower on big libraries
    import faiss  # type: ignore
except ImportError:  # pragma: no cover - exercised by monkeypatching in tests
    faiss = None

Backend = Literal["auto", "faiss", "numpy"]


@dataclass
class LibraryIndex:
    """Embeddings of a texture library, searchable by inner product."""

    root: Path
    """Library folder the paths are relative to."""
    paths: list[str]
    """Relative POSIX path of each row."""
    embeddings: np.ndarray
    """float32 [N, D] L2-normalised image embeddings; row i is ``paths[i]``."""
    model_name: str = ""
    """Name of the embedder that made the vectors."""
    weights_hash: str = ""
    """Weights hash of that embedder."""
    single_thread_below: int = 8
    """faiss searches of at most this many queries run on one thread (measured faster)."""
    _faiss: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.embeddings = np.ascontiguousarray(self.embeddings, dtype=np.float32)
        if self.embeddings.ndim != 2 or self.embeddings.shape[0] != len(self.paths):
            raise ValueError(f"LibraryIndex needs embeddings [N, D] with N = {len(self.paths)} paths, "
                             f"got shape {self.embeddings.shape}")

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def abspath(self, i: int) -> Path:
        return Path(self.root) / self.paths[i]

    def search(self, query_vecs: np.ndarray, k: int, backend: Backend = "auto") -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` rows for each query.

        ``query_vecs``: float32 [Q, D] (or [D]). Returns ``(scores, ids)``, both [Q, k']
        with k' = min(k, N), best first; scores are inner products.
        """
        q = np.atleast_2d(np.asarray(query_vecs, dtype=np.float32))
        if q.shape[1] != self.dim:
            raise ValueError(f"query vectors have dimension {q.shape[1]}, index {self.model_name!r} "
                             f"has {self.dim}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        k = min(k, len(self))
        if k == 0:
            return np.zeros((q.shape[0], 0), np.float32), np.zeros((q.shape[0], 0), np.int64)
        if backend == "faiss" and faiss is None:
            raise ImportError("backend='faiss' needs faiss-cpu: pip install faiss-cpu")
        if backend in ("auto", "faiss") and faiss is not None:
            if self._faiss is None:
                self._faiss = faiss.IndexFlatIP(self.dim)
                self._faiss.add(self.embeddings)
            # a handful of queries is memory-bound: OpenMP threads only contend (3x slower on 2 cores)
            prev = faiss.omp_get_max_threads()
            if q.shape[0] <= self.single_thread_below:
                faiss.omp_set_num_threads(1)
            try:
                scores, ids = self._faiss.search(np.ascontiguousarray(q), k)
            finally:
                faiss.omp_set_num_threads(prev)
            return scores, ids.astype(np.int64)
        if backend not in ("auto", "numpy", "faiss"):
            raise ValueError(f"unknown search backend {backend!r}; use 'auto', 'faiss' or 'numpy'")
        return topk_numpy(q @ self.embeddings.T, k)


def topk_numpy(sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` columns per row of ``sims`` [Q, N], sorted descending: (scores, ids)."""
    n = sims.shape[1]
    if k < n:
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n), sims.shape).copy()
    sub = np.take_along_axis(sims, part, axis=1)
    order = np.argsort(-sub, axis=1, kind="stable")
    scores = np.take_along_axis(sub, order, axis=1).astype(np.float32)
    return scores, np.take_along_axis(part, order, axis=1).astype(np.int64)
