"""The retrieval texturer: prompt regions -> library swatches -> baked UV texture -> rig.

Two stages, both called by ``pipeline.generate`` after mesh extraction: ``choose_textures`` retrieves
the best library images per region (optionally re-ranked by a conditioning vector in the embedder's
space) and reports what it chose; ``texture_and_rig`` projects them onto their regions, blended with
the field's colours, bakes the UV atlas and skins the mesh.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nerf.artifacts import MeshArtifact
from texture.artifacts import RiggedMesh, TextureHit, TextureReport
from texture.assemble import build_rigged
from texture.gltf.config import ExportConfig
from texture.library.embedder import ImageEmbedder
from texture.library.retrieval import retrieve_regions
from texture.triplanar import ProjectionConfig, swatch_color_fn


@dataclass
class TextureConfig(ProjectionConfig):
    """The retrieval texturer (and, inherited, how its swatches are projected)."""

    library: str = ""
    """Image library folder; empty = the shipped default swatch library."""
    top_k: int = 3
    """Images retrieved (and recorded) per body region; the best one is applied (1 to 64)."""
    min_score: float = 0.0
    """Retrieved images scoring below this are not applied."""

    def check(self) -> None:
        super().check()
        if self.top_k < 1:
            raise ValueError(f"top_k={self.top_k}: at least 1")


def choose_textures(prompt: str, library, embedder: ImageEmbedder, config: TextureConfig,
                    conditioning: np.ndarray | None = None) -> TextureReport:
    """The library images (``library``: a ``texture.library.TextureLibrary``, or None) for ``prompt``'s regions."""
    root = library.index.root if library is not None else None
    if config.blend <= 0 or library is None or not len(library.index):
        return TextureReport(root, blend=config.blend)
    found = retrieve_regions(prompt, library.index, embedder, k=config.top_k, conditioning=conditioning)
    hits = {r: [TextureHit(p, float(s)) for p, s in h] for r, h in found.items()}
    applied = {r: h[0].path for r, h in hits.items() if h and h[0].score >= config.min_score}
    return TextureReport(root, hits, applied, config.blend)


def texture_and_rig(mesh: MeshArtifact, report: TextureReport, config: TextureConfig,
                    export_config: ExportConfig) -> RiggedMesh:
    """Texture ``mesh`` with the images ``report`` applies (the field's colours elsewhere) and rig it."""
    color_fn = None
    if report.applied:
        color_fn = swatch_color_fn(report.applied, config, vertices=mesh.vertices, vertex_colors=mesh.vertex_colors)
    return build_rigged(mesh, export_config, color_fn)
