"""Retrieved swatches as a ``color_fn`` for ``texture.bake``: tri-planar projection per region.

Each texel's 3D point is projected on the three axis planes; the tiled swatch is
sampled in each plane and the three samples are blended by the normal's components
(raised to ``sharpness``), so there is no UV stretching and no seam follows the UV
charts. Tiles repeat mirrored, so a swatch that is not seamless still tiles without
visible edges. Optionally the mesh's own vertex colour (from the NeRF) is mixed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from nerf.artifacts import REGIONS
from texture.library.regions import MESH_REGIONS, TEXTURE_REGIONS

ColorFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
#: Texture regions in order of precedence when several cover one mesh region.
_PRECEDENCE = ("upper", "lower", "head", "feet", "outfit")


@dataclass
class ProjectionConfig:
    """How retrieved swatches are projected onto the avatar (``TextureConfig`` extends it)."""

    blend: float = 0.5
    """How much of the retrieved swatch shows over the mesh's own colour (0 = the mesh colour only)."""
    tile_m: float = 0.18
    """World size in metres of one swatch tile (one period of the pattern)."""
    sharpness: float = 4.0
    """Exponent on |normal| components in the tri-planar weights (higher = crisper planes)."""
    texels: int = 256
    """Swatches are resized to this many pixels per side before sampling; at most 4096."""

    def check(self) -> None:
        if not 0 <= self.blend <= 1:
            raise ValueError(f"blend={self.blend}: in [0, 1]")
        if self.tile_m <= 0 or self.sharpness <= 0:
            raise ValueError(f"tile_m={self.tile_m} (metres), sharpness={self.sharpness}: each must be > 0")
        if not 4 <= self.texels <= 4096:
            raise ValueError(f"texels={self.texels}: 4..4096")


def _load(img: Image.Image | str | Path, texels: int) -> np.ndarray:
    from texture.library.scan import SkipFile, open_image, to_rgb

    if isinstance(img, Image.Image):
        im = to_rgb(img)
    else:  # a regular file only (never a FIFO), 16-bit greyscale scaled rather than clipped white
        try:
            im = open_image(Path(img), 8192 * 8192)
        except SkipFile as e:
            raise OSError(f"texture {img}: {e}") from None
    return np.asarray(im.resize((texels, texels), Image.BILINEAR), np.float32) / 255.0


def _sample(tex: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear sample of ``tex`` [T, T, 3] at tile coordinates (u, v) with mirrored repeat."""
    t = tex.shape[0]

    def mirror(x):
        x = np.mod(x, 2.0)
        return np.where(x > 1.0, 2.0 - x, x) * (t - 1)

    x, y = mirror(u), mirror(v)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, t - 1), np.minimum(y0 + 1, t - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    top = tex[y0, x0] * (1 - fx) + tex[y0, x1] * fx
    bot = tex[y1, x0] * (1 - fx) + tex[y1, x1] * fx
    return top * (1 - fy) + bot * fy


def region_ids(swatch_regions: list[str], head_is_hair: bool = False) -> dict[int, str]:
    """Mesh region id -> the texture region whose swatch paints it (more specific regions win)."""
    out: dict[int, str] = {}
    for r in sorted(swatch_regions, key=_PRECEDENCE.index):
        targets = MESH_REGIONS[r]
        if r == "head":
            targets = ("hair",) if head_is_hair else ("headwear",)
        for name in targets:
            out.setdefault(REGIONS.index(name), r)
    return out


def swatch_color_fn(swatches: dict[str, Image.Image | str | Path], config: ProjectionConfig | None = None,
                    vertices: np.ndarray | None = None, vertex_colors: np.ndarray | None = None,
                    head_is_hair: bool = False) -> ColorFn:
    """A ``color_fn(points [K,3], normals [K,3], regions int[K]) -> rgb [K,3]`` for ``bake``.

    ``swatches`` maps texture regions (``upper``, ``lower``, ``head``, ``feet``,
    ``outfit``) to an image or image path, e.g. the first hit of ``retrieve_regions``.
    Texels of mesh regions with no swatch come back NaN (the baker keeps the vertex
    colour there). With ``vertices`` [V,3] and ``vertex_colors`` [V,3], the nearest
    vertex's colour is mixed in with weight ``1 - config.blend``.
    """
    cfg = config or ProjectionConfig()
    cfg.check()
    vertex_blend = 1.0 - cfg.blend
    bad = [r for r in swatches if r not in TEXTURE_REGIONS]
    if bad:
        raise ValueError(f"unknown texture regions {bad}; expected some of {TEXTURE_REGIONS}")
    tex = {r: _load(img, cfg.texels) for r, img in swatches.items()}
    owner = region_ids(list(swatches), head_is_hair)
    tree = None
    if vertices is not None and vertex_colors is not None and vertex_blend > 0:
        from scipy.spatial import cKDTree

        tree, vcol = cKDTree(np.asarray(vertices, np.float64)), np.asarray(vertex_colors, np.float32)

    def color_fn(points: np.ndarray, normals: np.ndarray, regions: np.ndarray) -> np.ndarray:
        p = np.asarray(points, np.float32) / cfg.tile_m
        w = np.abs(np.asarray(normals, np.float32)) ** cfg.sharpness
        w /= np.maximum(w.sum(1, keepdims=True), 1e-8)
        out = np.full((len(p), 3), np.nan, np.float32)
        regions = np.asarray(regions)
        for rid, r in owner.items():
            m = regions == rid
            if not m.any():
                continue
            q, wm = p[m], w[m]
            rgb = (wm[:, :1] * _sample(tex[r], q[:, 2], -q[:, 1])      # x-facing: (z, y) plane
                   + wm[:, 1:2] * _sample(tex[r], q[:, 0], q[:, 2])    # y-facing: (x, z) plane
                   + wm[:, 2:] * _sample(tex[r], q[:, 0], -q[:, 1]))   # z-facing: (x, y) plane
            if tree is not None:
                _, nearest = tree.query(np.asarray(points, np.float64)[m])
                rgb = cfg.blend * rgb + vertex_blend * vcol[nearest]
            out[m] = rgb
        return out

    return color_fn
