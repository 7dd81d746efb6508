"""The retrieval texturer, end to end: prompt regions -> library swatches -> baked UV texture -> rig.

``texture_and_rig`` is what ``pipeline.generate`` calls after mesh extraction: it retrieves
the best library images per region (optionally re-ranked by a conditioning vector in the
embedder's space), projects them onto their regions blended with the field's colours,
bakes the UV atlas and skins the mesh. What it chose is returned for the sidecar.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nerf.artifacts import MeshArtifact
from texture.artifacts import RiggedMesh
from texture.assemble import build_rigged
from texture.library.embedder import ImageEmbedder
from texture.library.retrieval import retrieve_regions
from texture.triplanar import ApplyConfig, swatch_color_fn


@dataclass
class TextureConfig:
    """The retrieval texturer."""

    library: str = ""
    """Image library folder; empty = the shipped default swatch library."""
    top_k: int = 3
    """Images retrieved (and recorded) per body region; the best one is applied."""
    blend: float = 0.5
    """How much of the retrieved swatch shows over the field's colour (0 = field colour only)."""
    min_score: float = 0.0
    """Retrieved images scoring below this are not applied."""
    tile_m: float = 0.18
    """World size in metres of one swatch tile."""

    def check(self) -> None:
        if self.top_k < 1:
            raise ValueError(f"top_k={self.top_k}: at least 1")
        if not 0 <= self.blend <= 1:
            raise ValueError(f"blend={self.blend}: in [0, 1]")
        if self.tile_m <= 0:
            raise ValueError(f"tile_m={self.tile_m}: must be > 0 metres")


def texture_and_rig(mesh: MeshArtifact, prompt: str, library, embedder: ImageEmbedder, config: TextureConfig,
                    export_config, conditioning: np.ndarray | None = None) -> tuple[RiggedMesh, dict]:
    """Texture ``mesh`` from ``library`` (a ``texture.library.TextureLibrary``) and rig it."""
    hits = {}
    if config.blend > 0 and library is not None and len(library.index):
        hits = retrieve_regions(prompt, library.index, embedder, k=config.top_k, conditioning=conditioning)
    chosen = {r: h[0][0] for r, h in hits.items() if h and h[0][1] >= config.min_score}
    color_fn = None
    if chosen:
        color_fn = swatch_color_fn(chosen, ApplyConfig(tile_m=config.tile_m, vertex_blend=1.0 - config.blend),
                                   vertices=mesh.vertices, vertex_colors=mesh.vertex_colors)
    rigged = build_rigged(mesh, export_config, color_fn)
    root = library.index.root if library is not None else None
    info = {"library": str(root) if root else None,
            "regions": {r: [{"file": _rel(p, root), "score": round(s, 4)} for p, s in h] for r, h in hits.items()},
            "applied": {r: _rel(p, root) for r, p in chosen.items()}, "blend": config.blend}
    return rigged, info


def _rel(p, root) -> str:
    try:
        return str(p.relative_to(root)) if root else str(p)
    except ValueError:
        return str(p)
