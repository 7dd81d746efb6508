"""CPU preview: the textured mesh seen from the front, right, back and left in one PNG strip, and, for a
face with morph targets, a fifth panel with the face neutral, happy and saying "aa".

Orthographic views rendered by the numpy z-buffer rasteriser (``texture.raster``) with the
baseColor texture (nearest texel) under a key light, a fill light and ambient light.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

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


FACE_EXPRESSIONS: tuple[str, ...] = ("neutral", "happy", "aa")
"""The VRM expressions the face panel shows (``texture.gltf.vrm.PRESETS``)."""


def posed_face(mesh, expression: str) -> np.ndarray:
    """Float[V, 3] the vertices of ``mesh`` (a RiggedMesh with morph targets) under VRM preset ``expression``."""
    from texture.gltf.vrm import PRESETS, resolve

    v = mesh.vertices.astype(np.float64).copy()
    for i, w in resolve(PRESETS[expression], list(mesh.morph_names)).items():
        v += w * mesh.morphs[i]
    return v


def face_panel(mesh, size: int, background=(236, 238, 242)) -> np.ndarray | None:
    """uint8 [size, size, 3]: the head in ``FACE_EXPRESSIONS`` (neutral and happy above, aa below), or None
    when ``mesh`` has no morph targets or no Head joint."""
    names = list(getattr(mesh, "morph_names", []) or [])
    if not names or mesh.skeleton is None or "Head" not in mesh.skeleton.names:
        return None
    moving = np.abs(mesh.morphs).max((0, 2)) > 1e-6
    face = mesh.vertices[moving].astype(np.float64)
    center = 0.5 * (face.min(0) + face.max(0))
    half = size // 2
    scale = half * 0.85 / max(float(np.ptp(face[:, :2], 0).max()) * 1.35, 1e-3)
    out = np.empty((size, size, 3), np.uint8)
    out[:] = background
    cells = [(0, 0), (0, half), (half, half // 2)]
    for (r, c), expr in zip(cells, FACE_EXPRESSIONS):
        posed = replace(mesh, vertices=posed_face(mesh, expr).astype(np.float32))
        out[r:r + half, c:c + half] = render_view(posed, 0.0, half, scale, center, background)
    return out


def thumbnail_png(mesh: TexturedMesh, size: int = 1024) -> bytes:
    """A square PNG of the front view, the whole avatar (VRM's ``meta.thumbnailImage``)."""
    return png_bytes(preview_image(mesh, PreviewConfig(size=size, views=("front",))))


def render_preview(mesh: TexturedMesh, config: PreviewConfig | None = None) -> bytes:
    """The preview strip (see ``preview_image``), with the face panel when the mesh has morph targets,
    encoded as PNG bytes."""
    cfg = config or PreviewConfig()
    img = preview_image(mesh, cfg)
    panel = face_panel(mesh, cfg.size, cfg.background)
    return png_bytes(img if panel is None else np.concatenate([img, panel], axis=1))
