"""ExportConfig: how a rigged avatar is prepared (triangle and texture budgets, skin) and written as GLB."""
from __future__ import annotations

from dataclasses import dataclass, field

from texture.animation import ANIMATIONS
from texture.skinning import SkinConfig


@dataclass
class ExportConfig:
    """How a rigged avatar is written as GLB (and prepared for it by ``build_rigged``)."""

    triangles: int = 20000
    """Triangle budget of the exported mesh; LOD i has triangles / 2**i."""
    texture_size: int = 1024
    """Side of the square baseColor texture in pixels; LOD i uses texture_size / 2**i (>= 128)."""
    lods: int = 0
    """Extra levels of detail written as ``<name>_lod1.glb`` ... (0: none)."""
    animation: str = "wave"
    """Procedural clip: "wave" (idle breathing + right-arm wave), "idle" or "none"."""
    animation_seconds: float = 2.0
    """Length of the clip in seconds (it loops)."""
    metallic: float = 0.0
    """metallicFactor of the PBR material."""
    roughness: float = 0.85
    """roughnessFactor of the PBR material."""
    skin: SkinConfig = field(default_factory=SkinConfig)
    """Skin-weight settings used by ``build_rigged`` (and LODs)."""

    def check(self) -> None:
        if self.animation not in ANIMATIONS:
            raise ValueError(f"animation={self.animation!r}: choose one of {', '.join(ANIMATIONS)}")
        if self.triangles < 100:
            raise ValueError(f"triangles={self.triangles}: at least 100")
        size = self.texture_size
        if not 16 <= size <= 8192 or size & (size - 1):
            raise ValueError(f"texture_size={size}: a power of two from 16 to 8192 (engines mipmap only those)")
        if not 0 <= self.lods <= 6:
            raise ValueError(f"lods={self.lods}: 0..6")
        if self.animation_seconds <= 0:
            raise ValueError(f"animation_seconds={self.animation_seconds}: must be > 0")
        if not (0 <= self.metallic <= 1 and 0 <= self.roughness <= 1):
            raise ValueError(f"metallic={self.metallic}, roughness={self.roughness}: each in [0, 1]")
