"""From an extracted mesh to a rigged, textured asset: unwrap -> bake -> skin, and LODs of it.

``build_rigged`` is what a pipeline calls before ``export_glb``; ``make_lod`` re-derives a
coarser level from a finished asset (decimate, re-unwrap, re-bake from the finer texture, re-skin).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from nerf.artifacts import MeshArtifact
from texture.artifacts import RiggedMesh
from texture.bake import BakeConfig, ColorFn, bake
from texture.gltf.config import ExportConfig
from texture.raster import rasterize
from texture.skinning import skin
from texture.uv import UVConfig, unwrap


def _nearest(src: np.ndarray, query: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    return cKDTree(src).query(query, k=1)[1]


def build_rigged(mesh: MeshArtifact, config: ExportConfig | None = None, color_fn: ColorFn | None = None,
                 ) -> RiggedMesh:
    """UV-unwrap, bake (vertex colours or ``color_fn``) and skin ``mesh`` per ``config``.

    A mesh over the triangle budget (by more than 5%) is decimated first; its colours and
    regions are carried over from the nearest original vertex.
    """
    from nerf.mesh_ops import decimate

    cfg = config or ExportConfig()
    cfg.check()
    if mesh.n_faces > 1.05 * cfg.triangles:
        v, f = decimate(mesh.vertices.astype(np.float64), mesh.faces.astype(np.int64), cfg.triangles)
        near = _nearest(mesh.vertices, v)
        mesh = replace(mesh, vertices=v.astype(np.float32), faces=f.astype(np.int32),
                       vertex_colors=mesh.vertex_colors[near], vertex_regions=mesh.vertex_regions[near],
                       meta=dict(mesh.meta, decimated_to=int(len(f))))
    uv = unwrap(mesh, UVConfig(texture_size=cfg.texture_size))
    textured = bake(uv, BakeConfig(texture_size=cfg.texture_size), color_fn)
    return skin(textured, cfg.skin)


def texel_cloud(rigged: RiggedMesh) -> tuple[np.ndarray, np.ndarray]:
    """3D points Float[K, 3] of the texels covered by the UV charts and their colours Float[K, 3]."""
    h, w = rigged.texture.shape[:2]
    tri = rigged.uvs[rigged.faces].astype(np.float64) * np.array([w, h])
    pix, face, bary = rasterize(tri, w, h)
    pts = (bary[..., None] * rigged.vertices[rigged.faces[face]]).sum(1)
    cols = rigged.texture.reshape(-1, rigged.texture.shape[2])[pix, :3].astype(np.float32) / 255.0
    return pts, cols


def make_lod(rigged: RiggedMesh, triangles: int, texture_size: int, config: ExportConfig) -> RiggedMesh:
    """A coarser copy of ``rigged``: ``triangles`` faces, a ``texture_size`` texture baked from the original."""
    from nerf.mesh_ops import decimate

    if rigged.source_vertex is not None:
        _, wid = np.unique(rigged.source_vertex, return_inverse=True)
    else:
        _, wid = np.unique(np.round(rigged.vertices / 1e-7).astype(np.int64), axis=0, return_inverse=True)
    wid = wid.reshape(-1)
    welded = np.zeros((wid.max() + 1, 3))
    welded[wid] = rigged.vertices
    v, f = decimate(welded, wid[rigged.faces], triangles)
    pts, cols = texel_cloud(rigged)
    from scipy.spatial import cKDTree

    tree = cKDTree(pts)

    def lookup(points: np.ndarray, normals: np.ndarray, regions: np.ndarray) -> np.ndarray:
        return cols[tree.query(points, k=1)[1]]

    lod = MeshArtifact(vertices=v.astype(np.float32), faces=f.astype(np.int32),
                       vertex_colors=lookup(v, None, None),
                       vertex_regions=rigged.vertex_regions[_nearest(rigged.vertices, v)],
                       skeleton=rigged.skeleton, meta={"lod_of": rigged.n_faces})
    out = build_rigged(lod, replace(config, triangles=triangles, texture_size=texture_size), lookup)
    if rigged.materials:  # each coarse triangle takes the material of the nearest fine one
        near = _nearest(rigged.vertices[rigged.faces].mean(1), out.vertices[out.faces].mean(1))
        out.materials, out.face_materials = list(rigged.materials), rigged.face_materials[near].astype(np.int32)
    return out
