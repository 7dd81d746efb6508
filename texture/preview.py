"""CPU preview: the textured mesh seen from the front, right, back and left in one PNG strip.

Orthographic views rendered by the numpy z-buffer rasteriser (``texture.raster``) with the
baseColor texture (nearest texel) under a key light, a fill light and ambient light.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from texture.artifacts import TexturedMesh
from texture.atomic import png_bytes
from texture.raster import nearest_fragments, rasterize

#: View name -> rotation of the avatar about +Y (degrees) so the camera on +Z sees that side.
VIEWS: dict[str, float] = {"front": 0.0, "right": 90.0, "back": 180.0, "left": 270.0}


@dataclass
class PreviewConfig:
    """How the preview strip is rendered."""

    size: int = 256
    """Height and width of each view in pixels."""
    views: tuple[str, ...] = ("front", "right", "back", "left")
    """Views left to right, names from ``VIEWS``."""
    background: tuple[int, int, int] = (236, 238, 242)
    """Background colour (sRGB, 0..255)."""
    margin: float = 0.06
    """Empty border as a fraction of the view size."""


def _rot_y(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def fragment_albedo(mesh: TexturedMesh, corners: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Float[K, 3] in [0, 1]: the nearest texel at each fragment, whose triangle ``corners`` Long[K, 3]
    are weighted by ``weights`` Float[K, 3] (barycentric)."""
    uv = (weights[..., None] * mesh.uvs[corners]).sum(1)
    h, w = mesh.texture.shape[:2]
    col = np.clip((uv[:, 0] * w).astype(np.int64), 0, w - 1)
    row = np.clip((uv[:, 1] * h).astype(np.int64), 0, h - 1)
    return mesh.texture[row, col, :3].astype(np.float64) / 255.0


def fragment_normals(normals: np.ndarray, corners: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Float[K, 3] unit normals interpolated from the vertex ``normals`` at each fragment."""
    nrm = (weights[..., None] * normals[corners].astype(np.float64)).sum(1)
    return nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)


def render_view(mesh: TexturedMesh, yaw_deg: float, size: int, scale: float, center: np.ndarray,
                background=(236, 238, 242)) -> np.ndarray:
    """One uint8 [size, size, 3] orthographic view of ``mesh`` rotated by ``yaw_deg`` about +Y."""
    rot = _rot_y(yaw_deg)
    v = (mesh.vertices.astype(np.float64) - center) @ rot.T
    n = mesh.normals.astype(np.float64) @ rot.T
    xy = np.stack([size / 2 + v[:, 0] * scale, size / 2 - v[:, 1] * scale], 1)
    faces = np.asarray(mesh.faces, np.int64)
    tri = xy[faces]
    # back-face culling: keep triangles wound counter-clockwise on screen (y points down: area < 0)
    area = (tri[:, 1, 0] - tri[:, 0, 0]) * (tri[:, 2, 1] - tri[:, 0, 1]) - \
           (tri[:, 1, 1] - tri[:, 0, 1]) * (tri[:, 2, 0] - tri[:, 0, 0])
    keep = np.flatnonzero(area < 0)
    pix, face, bary = rasterize(tri[keep], size, size)
    face = keep[face]
    corners = faces[face]
    depth = -(bary * v[corners, 2]).sum(1)  # camera on +Z looking down -Z: nearer = larger z
    sel = nearest_fragments(pix, depth)
    pix, corners, bary = pix[sel], corners[sel], bary[sel]
    albedo = fragment_albedo(mesh, corners, bary)
    nrm = fragment_normals(n, corners, bary)
    key = np.array([-0.45, 0.6, 0.66])
    fill = np.array([0.6, 0.2, 0.5])
    light = 0.35 + 0.6 * np.clip(nrm @ (key / np.linalg.norm(key)), 0, 1) \
        + 0.2 * np.clip(nrm @ (fill / np.linalg.norm(fill)), 0, 1)
    img = np.empty((size * size, 3), np.float64)
    img[:] = np.asarray(background, np.float64) / 255.0
    img[pix] = np.clip(albedo * light[:, None], 0, 1)
    return np.round(img.reshape(size, size, 3) * 255).astype(np.uint8)


def preview_image(mesh: TexturedMesh, config: PreviewConfig | None = None) -> np.ndarray:
    """uint8 [size, size * n_views, 3]: the views of ``config`` side by side at a common scale."""
    cfg = config or PreviewConfig()
    unknown = [v for v in cfg.views if v not in VIEWS]
    if unknown:
        raise ValueError(f"unknown preview views {unknown}; choose from {', '.join(VIEWS)}")
    lo, hi = mesh.vertices.min(0).astype(np.float64), mesh.vertices.max(0).astype(np.float64)
    center = 0.5 * (lo + hi)
    extent = max(hi[1] - lo[1], np.linalg.norm((hi - lo)[[0, 2]]))
    scale = cfg.size * (1 - 2 * cfg.margin) / max(extent, 1e-6)
    return np.concatenate([render_view(mesh, VIEWS[v], cfg.size, scale, center, cfg.background)
                           for v in cfg.views], axis=1)


def render_preview(mesh: TexturedMesh, config: PreviewConfig | None = None) -> bytes:
    """The preview strip (see ``preview_image``) encoded as PNG bytes."""
    return png_bytes(preview_image(mesh, config))
