"""A dressed body (``nerf.body.dress``) to a rigged, textured asset: its atlas baked, its face painted, its
pieces grouped into materials, its skin weights cut to four influences.

Unlike ``texture.assemble.build_rigged`` nothing is unwrapped or re-skinned: the body keeps anny's UVs and
skin weights, the garments the ones they were cut or built with.
"""
from __future__ import annotations

import numpy as np
import torch

from nerf.artifacts import REGIONS
from nerf.body.dress import TILE_INSET, DressedBody
from nerf.body.face import morph_targets
from nerf.template import pattern_mask, secondary_color
from texture.artifacts import Material, RiggedMesh, TextureReport, UVMesh
from texture.bake import BakeConfig, bake
from texture.face_paint import face_color_fn, paint_eyes
from texture.gltf.config import ExportConfig
from texture.skinning import inverse_bind_matrices, top_k_normalised
from texture.triplanar import ProjectionConfig, swatch_color_fn

SKIN_ROUGHNESS, HAIR_ROUGHNESS, METAL_ROUGHNESS, METALLIC = 0.6, 0.7, 0.35, 0.9


def materials_of(dressed: DressedBody, metal: tuple[bool, ...], config: ExportConfig
                 ) -> tuple[list[Material], np.ndarray]:
    """One material per (region, sidedness) the pieces use, and Int[F] each triangle's."""
    keys, per_piece = [], []
    for p in dressed.pieces:
        key = (p.region, p.double_sided)
        if key not in keys:
            keys.append(key)
        per_piece.append(keys.index(key))
    mats = []
    for region, sheet in keys:
        r = REGIONS.index(region)
        shiny = bool(metal[r]) if r < len(metal) else False
        rough = (METAL_ROUGHNESS if shiny else SKIN_ROUGHNESS if region == "skin" else
                 HAIR_ROUGHNESS if region == "hair" else config.roughness)
        mats.append(Material(region + ("-sheet" if sheet else ""), METALLIC if shiny else config.metallic, rough,
                             sheet))
    return mats, np.asarray(per_piece, np.int32)[dressed.face_pieces]


def patterned(points: np.ndarray, regions: np.ndarray, colors: np.ndarray, patterns: tuple[int, ...]) -> np.ndarray:
    """Float[N, 3]: the region colours with each region's pattern (``nerf.template.pattern_mask``: stripes,
    plaid, checks in its secondary colour) painted over them; NaN where a region has no pattern."""
    out = np.full((len(points), 3), np.nan, np.float32)
    x = torch.as_tensor(np.asarray(points, np.float32))
    for r, pat in enumerate(patterns):
        sel = np.flatnonzero(regions == r)
        if not pat or not len(sel):
            continue
        c = torch.as_tensor(colors[r])
        m = pattern_mask(x[sel], int(pat))[:, None]
        out[sel] = (c * (1 - m) + secondary_color(c)[None] * m).numpy()
    return out


def rig_dressed(dressed: DressedBody, colors: np.ndarray, metal: tuple[bool, ...], report: TextureReport,
                projection: ProjectionConfig, config: ExportConfig, patterns: tuple[int, ...] = ()) -> RiggedMesh:
    """Bake ``dressed``'s atlas (region ``colors`` Float[R, 3] with the region ``patterns`` of
    ``nerf.template.Layout``, the swatches ``report`` applies, the painted face) and bind it with its own
    skin weights; its face's morph targets are the ones ``config.morph_targets`` asks for."""
    config.check()
    colors = np.asarray(colors, np.float32)
    regions = dressed.vertex_regions
    vcol = colors[regions]
    uv = UVMesh(vertices=dressed.vertices, faces=dressed.faces, normals=dressed.normals, uvs=dressed.uvs,
                vertex_colors=vcol, vertex_regions=regions, source_vertex=dressed.source_vertex,
                skeleton=dressed.skeleton, meta=dict(dressed.meta))
    face = face_color_fn(dressed.landmarks, colors[REGIONS.index("skin")], colors[REGIONS.index("hair")])
    swatch = (swatch_color_fn(report.applied, projection, vertices=dressed.vertices, vertex_colors=vcol)
              if report.applied else None)

    def color_fn(points, normals, reg):
        out = patterned(points, reg, colors, patterns) if any(patterns) else \
            np.full((len(points), 3), np.nan, np.float32)
        if swatch is not None:
            sw = swatch(points, normals, reg)
            out = np.where(np.isnan(sw), out, sw)
        painted = face(points, normals, reg)
        return np.where(np.isnan(painted), out, painted)

    textured = bake(uv, BakeConfig(texture_size=config.texture_size), color_fn)
    for p in dressed.pieces:
        if p.name == "eyes":
            paint_eyes(textured.texture, p.tile, TILE_INSET)
    joints, weights = top_k_normalised(dressed.weights.astype(np.float64), config.skin.max_influences)
    mats, face_mats = materials_of(dressed, metal, config)
    rigged = RiggedMesh.from_textured(textured, joints, weights, inverse_bind_matrices(dressed.skeleton))
    rigged.materials, rigged.face_materials = mats, face_mats
    rigged.meta["pieces"] = [p.name for p in dressed.pieces]
    if len(dressed.morphs):
        rigged.morph_names, rigged.morphs = morph_targets(dressed.morphs, config.morph_targets)
    return rigged
