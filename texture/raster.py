"""A small vectorised numpy triangle rasteriser shared by texture baking and CPU previews.

Pixel (row r, column c) has its centre at (x = c + 0.5, y = r + 0.5); a pixel is covered by a
triangle when its centre lies inside it (edges included). Both windings are accepted.
"""
from __future__ import annotations

import numpy as np

_MAX_CANDIDATES = 1 << 22
"""Pixel candidates per batch of triangles (bounds memory to a few hundred MB)."""


def _batch(tri: np.ndarray, fid: np.ndarray, width: int, height: int):
    x0 = np.clip(np.ceil(tri[:, :, 0].min(1) - 0.5), 0, width).astype(np.int64)
    x1 = np.clip(np.floor(tri[:, :, 0].max(1) - 0.5), -1, width - 1).astype(np.int64)
    y0 = np.clip(np.ceil(tri[:, :, 1].min(1) - 0.5), 0, height).astype(np.int64)
    y1 = np.clip(np.floor(tri[:, :, 1].max(1) - 0.5), -1, height - 1).astype(np.int64)
    nw = np.maximum(x1 - x0 + 1, 0)
    nh = np.maximum(y1 - y0 + 1, 0)
    n = nw * nh
    total = int(n.sum())
    if total == 0:
        return None
    t = np.repeat(np.arange(len(tri)), n)
    k = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
    px = x0[t] + k % nw[t] + 0.5
    py = y0[t] + k // nw[t] + 0.5
    a, b, c = tri[t, 0], tri[t, 1], tri[t, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    w0 = (b[:, 0] - px) * (c[:, 1] - py) - (b[:, 1] - py) * (c[:, 0] - px)
    w1 = (c[:, 0] - px) * (a[:, 1] - py) - (c[:, 1] - py) * (a[:, 0] - px)
    w2 = area - w0 - w1
    s = np.sign(area)
    eps = -1e-9 * np.abs(area)
    inside = (np.abs(area) > 1e-12) & (w0 * s >= eps) & (w1 * s >= eps) & (w2 * s >= eps)
    safe = np.where(inside, area, 1.0)
    bary = np.stack([w0, w1, w2], 1)[inside] / safe[inside, None]
    pix = (py[inside] - 0.5).astype(np.int64) * width + (px[inside] - 0.5).astype(np.int64)
    return pix, fid[t[inside]], bary


def rasterize(tri_xy: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (pixel, triangle) pairs where a pixel centre lies inside a triangle.

    ``tri_xy``: Float[F, 3, 2] triangle corners in pixel units (x right, y down).
    Returns ``pix`` Long[K] flat pixel index (row * width + col), ``face`` Long[K] and
    ``bary`` Float[K, 3] barycentric weights of the pixel centre.
    """
    tri = np.asarray(tri_xy, np.float64)
    if tri.ndim != 3 or tri.shape[1:] != (3, 2):
        raise ValueError(f"tri_xy must have shape [F, 3, 2], got {tri.shape}")
    csum = np.cumsum((tri.max(1) - tri.min(1) + 1.0).prod(1))  # bounding-box pixels per triangle
    out, start = [], 0
    while start < len(tri):
        prev = csum[start - 1] if start else 0.0
        stop = max(int(np.searchsorted(csum, prev + _MAX_CANDIDATES, side="right")), start + 1)
        res = _batch(tri[start:stop], np.arange(start, stop), width, height)
        if res is not None:
            out.append(res)
        start = stop
    if not out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3))
    return tuple(np.concatenate(parts) for parts in zip(*out))  # type: ignore[return-value]


def nearest_fragments(pix: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Indices of the fragment with the smallest ``depth`` for every covered pixel (a z-buffer)."""
    order = np.lexsort((depth, pix))
    first = np.ones(len(order), bool)
    first[1:] = pix[order][1:] != pix[order][:-1]
    return order[first]
