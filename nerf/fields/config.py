"""FieldConfig: the NeRF field's settings, and the registry of residual kinds (``setup``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from nerf.fields.base import TemplateField
    from nerf.prior import BakedPrior

FIELDS = ("grid", "hash")
"""Residual kinds: grid (dense grids through grid_sample, the CPU default), hash (nerfstudio's HashEncoding)."""


@dataclass
class FieldConfig:
    """The NeRF field: template prior + residual."""

    kind: Literal["grid", "hash"] = "grid"
    """Residual representation: grid (dense, CPU default) or hash (nerfstudio HashEncoding, CUDA)."""
    grid_resolution: int = 32
    """Residual grid resolution along the avatar's height (other axes scale with the box)."""
    beta: float = 0.008
    """Sharpness of the SDF-to-density mapping in metres (smaller = harder surface)."""
    max_offset: float = 0.05
    """Largest outward surface displacement the residual may add, metres."""
    max_inset: float = 0.01
    """Largest inward surface displacement (erosion), metres: less than half the thickness of the
    template's thinnest part, so refinement reshapes brims, capes and arms but cannot delete them."""
    max_color_shift: float = 0.0
    """Largest change refinement may make to a colour's logit (the albedo is its sigmoid): 0 keeps the
    trained generator's colours (refinement reshapes only), 1 lets a mid-grey channel move by 0.23,
    negative leaves colours unbounded. ``generate`` ignores it when refinement starts from the neutral
    template (no trained generator for the CLIP model): there the colours must come from guidance."""
    hash_levels: int = 12
    """Hash grid: number of levels."""
    hash_log2_size: int = 17
    """Hash grid: log2 of the table size per level."""
    hash_max_res: int = 256
    """Hash grid: finest resolution."""

    def setup(self, prior: "BakedPrior", device="cpu") -> "TemplateField":
        """The field this config names (``kind``: the registry) around the baked ``prior``, on ``device``."""
        from nerf.fields.base import TemplateField

        if self.kind == "grid":
            from nerf.fields.grid_field import GridResidual as Residual
        else:
            from nerf.fields.hash_field import HashResidual as Residual
        return TemplateField(self, prior, Residual(self)).to(device)

    def check(self) -> None:
        if self.grid_resolution < 4:
            raise ValueError(f"grid_resolution={self.grid_resolution}: at least 4")
        if self.beta <= 0:
            raise ValueError(f"beta={self.beta}: must be > 0 metres")
        if self.max_offset < 0 or self.max_inset < 0:
            raise ValueError(f"max_offset={self.max_offset}, max_inset={self.max_inset}: must be >= 0 metres")
        if self.hash_levels < 1 or not 10 <= self.hash_log2_size <= 24 or self.hash_max_res < 16:
            raise ValueError(f"hash_levels={self.hash_levels} (>= 1), hash_log2_size={self.hash_log2_size} "
                             f"(10..24), hash_max_res={self.hash_max_res} (>= 16)")
