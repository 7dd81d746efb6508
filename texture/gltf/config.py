"""ExportConfig: how a rigged avatar is prepared (triangle and texture budgets, skin) and written as GLB."""
from __future__ import annotations

from dataclasses import dataclass, field

from texture.animation import ANIMATIONS
from texture.skinning import SkinConfig

MAX_TRIANGLES = 500_000
"""Largest triangle budget: 2.5 GB peak and 2 minutes on a 2-core CPU (docs/LIMITS.md); the budget also
drives subdivision, so 10**8 took a 24 GB machine down."""
MAX_TEXTURE_SIZE = 4096
"""Largest texture side: 3.1 GB peak at 4096; 8192 needs more than 8 GB (docs/LIMITS.md)."""
MAX_LODS = 6
MAX_ANIMATION_SECONDS = 60.0


@dataclass
class ExportConfig:
    """How a rigged avatar is written as GLB (and prepared for it by ``build_rigged``)."""

    triangles: int = 20000
    """Triangle budget of the exported mesh, 100 to 500000 (2.5 GB peak at 500000); LOD i has
    triangles / 2**i. The dressed body (``mesh.source=body``) keeps its own topology (~30000) at LOD 0."""
    texture_size: int = 1024
    """Side of the square baseColor texture in pixels, a power of two from 16 to 4096 (3.1 GB peak at 4096);
    LOD i uses texture_size / 2**i (>= 128)."""
    rest_pose: str = "t"
    """Rest pose of the dressed body: "t" (arms along +-X, as VRM and Unity's Humanoid expect) or "a"
    (anny's A-pose, arms 48 degrees down)."""
    lods: int = 0
    """Extra levels of detail written as ``<name>_lod1.glb`` ... (0: none; at most 6)."""
    animation: str = "wave"
    """Procedural clip: "wave" (idle breathing + right-arm wave), "idle" or "none"."""
    animation_seconds: float = 2.0
    """Length of the clip in seconds (it loops); at most 60."""
    metallic: float = 0.0
    """metallicFactor of the PBR material."""
    roughness: float = 0.85
    """roughnessFactor of the PBR material."""
    skin: SkinConfig = field(default_factory=SkinConfig)
    """Skin-weight settings used by ``build_rigged`` (and LODs)."""

    def check(self) -> None:
        if self.animation not in ANIMATIONS:
            raise ValueError(f"animation={self.animation!r}: choose one of {', '.join(ANIMATIONS)}")
        if not 100 <= self.triangles <= MAX_TRIANGLES:
            raise ValueError(f"triangles={self.triangles}: from 100 to {MAX_TRIANGLES} (the pipeline's memory and time "
                             "limit; docs/LIMITS.md)")
        size = self.texture_size
        if not 16 <= size <= MAX_TEXTURE_SIZE or size & (size - 1):
            raise ValueError(f"texture_size={size}: a power of two from 16 to {MAX_TEXTURE_SIZE} (engines mipmap only "
                             f"powers of two; {MAX_TEXTURE_SIZE * 2} needs more than 8 GB)")
        if self.rest_pose not in ("t", "a"):
            raise ValueError(f"rest_pose={self.rest_pose!r}: t or a")
        if not 0 <= self.lods <= MAX_LODS:
            raise ValueError(f"lods={self.lods}: 0..{MAX_LODS}")
        if not 0 < self.animation_seconds <= MAX_ANIMATION_SECONDS:
            raise ValueError(f"animation_seconds={self.animation_seconds}: more than 0, at most "
                             f"{MAX_ANIMATION_SECONDS:g}")
        if not (0 <= self.metallic <= 1 and 0 <= self.roughness <= 1):
            raise ValueError(f"metallic={self.metallic}, roughness={self.roughness}: each in [0, 1]")
