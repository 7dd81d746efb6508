"""The textured mesh seen through the orbit cameras (``nerf.cameras``), as the evaluator sees avatars.

``avatarforge eval --render mesh`` scores what a user gets -- the exported mesh with its baked
texture -- instead of the refined field. Perspective projection with the same eye, target and field
of view as ``nerf.cameras.rays`` (pixel centres at +0.5, row 0 at the top), one sample per pixel
(like the surface renderer the corpus comes from), a z-buffer, perspective-correct texture
coordinates, nearest texel, and the surface renderer's shading (``nerf.synthetic.surface_render.Lighting``:
ambient plus Lambertian, with the camera-facing fill it uses; no specular, the texture carries no
metalness).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from nerf.cameras import TARGET, View
from nerf.synthetic.surface_render import Lighting
from texture.artifacts import TexturedMesh
from texture.preview import fragment_albedo, fragment_normals
from texture.raster import nearest_fragments, rasterize

_NEAR = 1e-3
"""Triangles with a corner closer to the camera plane than this (metres) are dropped."""


def camera_frame(view: View) -> tuple[np.ndarray, np.ndarray]:
    """(eye Float[3], rows Float[3, 3] = right, up, forward), as ``nerf.cameras.rays`` builds them."""
    eye = view.eye().double().numpy()
    fwd = np.asarray(TARGET, np.float64) - eye
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    return eye, np.stack([right, up, fwd])


def render_mesh_view(mesh: TexturedMesh, view: View, size: int, background: np.ndarray,
                     lighting: Lighting) -> np.ndarray:
    """One Float[size, size, 3] image in [0, 1] of ``mesh`` from ``view`` over ``background`` [size, size, 3]."""
    eye, frame = camera_frame(view)
    cam = (mesh.vertices.astype(np.float64) - eye) @ frame.T  # x right, y up, z along the view
    t = math.tan(math.radians(view.fov_y_deg) / 2)
    z = cam[:, 2]
    zs = np.maximum(z, _NEAR)
    xy = np.stack([(1 + cam[:, 0] / (zs * t)) * size / 2, (1 - cam[:, 1] / (zs * t)) * size / 2], 1)
    faces = np.asarray(mesh.faces, np.int64)
    keep = np.flatnonzero((z[faces] > _NEAR).all(1))
    img = np.array(background, np.float64, copy=True).reshape(size * size, 3)
    if not len(keep):
        return img.reshape(size, size, 3)
    pix, face, bary = rasterize(xy[faces[keep]], size, size)
    corners = faces[keep[face]]
    w = bary / z[corners]  # perspective-correct weights
    depth = 1.0 / w.sum(1)
    w *= depth[:, None]
    sel = nearest_fragments(pix, depth)
    pix, corners, w = pix[sel], corners[sel], w[sel]
    albedo = fragment_albedo(mesh, corners, w)
    if lighting.ambient < 1.0:
        nrm = fragment_normals(mesh.normals, corners, w)
        ldir = np.asarray(lighting.direction, np.float64)
        ldir /= np.linalg.norm(ldir)
        pts = (w[..., None] * mesh.vertices[corners].astype(np.float64)).sum(1)
        to_eye = eye - pts
        to_eye /= np.maximum(np.linalg.norm(to_eye, axis=1, keepdims=True), 1e-12)
        lam = np.maximum(np.clip(nrm @ ldir, 0, None), 0.5 * np.clip((nrm * to_eye).sum(1), 0, None))
        albedo = albedo * (lighting.ambient + (1 - lighting.ambient) * lam)[:, None]
    img[pix] = np.clip(albedo, 0, 1)
    return img.reshape(size, size, 3)


def render_mesh(mesh: TexturedMesh, views: list[View], size: int = 64, backgrounds: torch.Tensor | None = None,
                lighting: Lighting | None = None) -> torch.Tensor:
    """Float[V, size, size, 3] in [0, 1]: ``mesh`` from each of ``views`` (white background by default),
    the same signature and conventions as ``nerf.synthetic.surface_render.render_template``."""
    lighting = lighting or Lighting()
    bg = np.ones((len(views), size, size, 3)) if backgrounds is None else backgrounds.double().cpu().numpy()
    out = [render_mesh_view(mesh, v, size, bg[i], lighting) for i, v in enumerate(views)]
    return torch.from_numpy(np.stack(out)).float()
