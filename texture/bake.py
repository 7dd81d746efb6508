"""Texture baking: per-vertex colours (or a colour function) become a baseColor image.

Every UV triangle is rasterised into the texture (``texture.raster``); each covered texel gets
the barycentric interpolation of its triangle's vertex colours, or what ``color_fn`` returns
for the texel's 3D point, normal and region. Charts are then dilated by a few pixels so that
bilinear filtering and mip-maps do not pull background colour across seams.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from texture.artifacts import TexturedMesh, UVMesh
from texture.raster import rasterize

ColorFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""``color_fn(points Float[K, 3], normals Float[K, 3], regions Int[K]) -> rgb Float[K, 3]`` in [0, 1].
Rows returned as NaN keep the interpolated vertex colour (so a texturer may handle some regions only)."""


@dataclass
class BakeConfig:
    """How colours are baked into the baseColor texture."""

    texture_size: int = 1024
    """Width and height of the square texture in pixels."""
    dilation: int = 8
    """Pixels each chart is grown by (seam padding); the rest of the background gets the mean colour."""


def dilate(image: np.ndarray, mask: np.ndarray, iterations: int) -> np.ndarray:
    """Grow the ``mask``ed pixels of float ``image`` [H, W, C] outward by ``iterations`` pixels.

    Each empty pixel within ``iterations`` pixels (chessboard distance) of a chart takes the
    colour of its nearest filled pixel (the "extend" margin of Blender's baker), found in one
    distance transform; pixels farther away get the mean of all filled pixels. 7x faster than
    growing ring by ring at 1024 px.
    """
    from scipy import ndimage

    img = np.where(mask[..., None], image, 0.0).astype(np.float32)
    if not mask.any() or mask.all():
        return img
    dist, (iy, ix) = ndimage.distance_transform_cdt(~mask, metric="chessboard", return_indices=True)
    out = img[iy, ix]
    out[dist > iterations] = img[mask].mean(0)
    return out


def bake(mesh: UVMesh, config: BakeConfig | None = None, color_fn: ColorFn | None = None) -> TexturedMesh:
    """Bake ``mesh``'s vertex colours (or ``color_fn``) into a uint8 texture; returns a TexturedMesh."""
    cfg = config or BakeConfig()
    size = int(cfg.texture_size)
    if size < 8 or size > 16384:
        raise ValueError(f"BakeConfig.texture_size={size} must be within 8..16384")
    faces = np.asarray(mesh.faces, np.int64)
    tri_xy = mesh.uvs[faces].astype(np.float64) * size  # u -> column, v -> row (glTF: v points down)
    pix, face, bary = rasterize(tri_xy, size, size)
    corners = faces[face]  # [K, 3]
    rgb = (bary[..., None] * mesh.vertex_colors[corners]).sum(1)
    if color_fn is not None and len(pix):
        pts = (bary[..., None] * mesh.vertices[corners]).sum(1).astype(np.float32)
        nrm = (bary[..., None] * mesh.normals[corners]).sum(1)
        nrm = (nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)).astype(np.float32)
        reg = mesh.vertex_regions[corners[np.arange(len(face)), bary.argmax(1)]]
        out = np.asarray(color_fn(pts, nrm, reg), np.float64)
        if out.shape != rgb.shape:
            raise ValueError(f"color_fn returned shape {out.shape}; expected {rgb.shape} (one rgb per texel)")
        rgb = np.where(np.isnan(out), rgb, out)
    image = np.zeros((size * size, 3), np.float32)
    image[pix] = rgb
    mask = np.zeros(size * size, bool)
    mask[pix] = True
    image = dilate(image.reshape(size, size, 3), mask.reshape(size, size), cfg.dilation)
    texture = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
    meta = dict(mesh.meta, texture_size=size, texel_coverage=float(mask.mean()))
    return TexturedMesh(vertices=mesh.vertices, faces=mesh.faces, normals=mesh.normals, uvs=mesh.uvs,
                        texture=texture, vertex_regions=mesh.vertex_regions, skeleton=mesh.skeleton,
                        source_vertex=mesh.source_vertex, meta=meta)
