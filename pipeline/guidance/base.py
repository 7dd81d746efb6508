"""The guidance protocol: rendered views in, a scalar loss (and a score to log) out."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from torch import Tensor


@dataclass
class GuidanceConfig:
    """How rendered views are scored against the prompt."""

    kind: str = "clip"
    """clip (DreamFields CLIP loss) or sds (score distillation; needs --sd-model)."""
    augmentations: int = 1
    """Random crops/shifts of each rendered view per step."""
    transmittance_target: float = 0.85
    """DreamFields sparsity: mean transmittance is pushed up to this value and no further."""
    transmittance_weight: float = 0.5
    """Weight of the transmittance regulariser."""
    image_weight: float = 0.3
    """Weight of similarity to the reference image's features (when a reference exists)."""
    sd_model: str = ""
    """Local Stable Diffusion folder for sds guidance (diffusers layout)."""
    sds_guidance_scale: float = 100.0
    """Classifier-free guidance scale for sds."""


class Guidance(Protocol):
    def loss(self, images: Tensor, acc: Tensor) -> tuple[Tensor, dict]:
        """images Float[V,S,S,3] in [0,1], acc Float[V,S,S] -> (loss, {"clip_score": ...})."""
        ...
