"""Typed artifacts produced by the ``texture`` package: UV-mapped, textured and rigged meshes.

Same conventions as ``nerf.artifacts``: metres, Y up, facing +Z, feet on y = 0. UVs follow
glTF: (0, 0) is the top-left corner of the texture image, u to the right, v downwards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nerf.artifacts import Counted, Skeleton


@dataclass
class UVMesh:
    """A mesh cut along UV seams (seam vertices are duplicated), before baking."""

    vertices: np.ndarray
    """float32 [V, 3] positions."""
    faces: np.ndarray
    """int32 [F, 3] counter-clockwise seen from outside."""
    normals: np.ndarray
    """float32 [V, 3] unit vertex normals (area-weighted, identical on both sides of a seam)."""
    uvs: np.ndarray
    """float32 [V, 2] texture coordinates in [0, 1]."""
    vertex_colors: np.ndarray
    """float32 [V, 3] albedo carried from the source mesh."""
    vertex_regions: np.ndarray
    """int32 [V] region id (``nerf.artifacts.REGIONS``)."""
    source_vertex: np.ndarray
    """int64 [V] index of each vertex in the un-cut source mesh."""
    skeleton: Skeleton
    meta: dict = field(default_factory=dict)


@dataclass
class TexturedMesh(Counted):
    """A UV-mapped mesh with a baked baseColor texture."""

    vertices: np.ndarray
    """float32 [V, 3] positions."""
    faces: np.ndarray
    """int32 [F, 3] counter-clockwise seen from outside."""
    normals: np.ndarray
    """float32 [V, 3] unit vertex normals."""
    uvs: np.ndarray
    """float32 [V, 2] texture coordinates in [0, 1] (glTF orientation, see module doc)."""
    texture: np.ndarray
    """uint8 [H, W, 3] sRGB baseColor image."""
    vertex_regions: np.ndarray
    """int32 [V] region id (``nerf.artifacts.REGIONS``)."""
    skeleton: Skeleton
    source_vertex: np.ndarray | None = None
    """int64 [V] index in the un-cut source mesh (seam copies share it), if known."""
    meta: dict = field(default_factory=dict)


@dataclass
class Material:
    """One glTF material of an avatar: every material samples the same baseColor atlas."""

    name: str
    metallic: float = 0.0
    roughness: float = 0.85
    double_sided: bool = False
    """Drawn from both sides (sheets: capes, skirts, brims)."""


@dataclass
class RiggedMesh(TexturedMesh):
    """A textured mesh bound to its skeleton with linear-blend-skinning weights."""

    joints: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int64))
    """int64 [V, 4] joint indices (into ``skeleton.names``); unused slots have weight 0."""
    weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    """float32 [V, 4] non-negative weights summing to 1 per vertex."""
    inverse_bind: np.ndarray = field(default_factory=lambda: np.zeros((0, 4, 4), np.float32))
    """float32 [J, 4, 4] inverse bind matrices (row-major; inverse world rest transform per joint)."""
    materials: list[Material] = field(default_factory=list)
    """The avatar's materials, one glTF primitive each (empty: one material from the export config)."""
    face_materials: np.ndarray | None = None
    """int32 [F] index into ``materials`` of each triangle (None with no ``materials``)."""
    morph_names: list[str] = field(default_factory=list)
    """Names of the morph targets (``nerf.body.face``: ARKit shapes, then visemes); empty: none."""
    morphs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), np.float32))
    """float32 [T, V, 3] each morph target's vertex displacements at weight 1 (metres, rest pose)."""

    @classmethod
    def from_textured(cls, tm: TexturedMesh, joints: np.ndarray, weights: np.ndarray,
                      inverse_bind: np.ndarray) -> "RiggedMesh":
        return cls(vertices=tm.vertices, faces=tm.faces, normals=tm.normals, uvs=tm.uvs, texture=tm.texture,
                   vertex_regions=tm.vertex_regions, skeleton=tm.skeleton, source_vertex=tm.source_vertex,
                   meta=dict(tm.meta), joints=joints, weights=weights, inverse_bind=inverse_bind)


@dataclass
class TextureHit:
    """One library image retrieved for a texture region."""

    path: Path
    """The image file."""
    score: float
    """CLIP similarity of the image to the region's phrase (re-ranked by the conditioning, if any)."""


@dataclass
class TextureReport:
    """What the retrieval texturer chose (``texture.texturer.choose_textures``); the sidecar's ``texture``."""

    library: Path | None
    """Root of the library searched (None when no library was searched)."""
    hits: dict[str, list[TextureHit]] = field(default_factory=dict)
    """Texture region -> the top-k images retrieved for it, best first."""
    applied: dict[str, Path] = field(default_factory=dict)
    """Texture region -> the image projected onto it (the best hit scoring at least ``min_score``)."""
    blend: float = 0.0
    """How much of the swatches shows over the field's colours."""

    def to_dict(self) -> dict:
        """JSON form, paths relative to the library."""
        return {"library": str(self.library) if self.library else None,
                "regions": {r: [{"file": self._rel(h.path), "score": round(h.score, 4)} for h in hs]
                            for r, hs in self.hits.items()},
                "applied": {r: self._rel(p) for r, p in self.applied.items()}, "blend": self.blend}

    def _rel(self, p: Path) -> str:
        try:
            return str(p.relative_to(self.library)) if self.library else str(p)
        except ValueError:
            return str(p)
