"""GuidanceConfig: how rendered views are scored against the prompt, and the registry of guidance kinds."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pipeline.guidance.base import Guidance

GUIDANCES = ("clip", "sds")
"""clip (DreamFields-style CLIP loss, the default) and sds (score distillation with local Stable Diffusion weights)."""


@dataclass
class SDSSettings:
    """Score distillation details (DreamFusion's choices); used when ``guidance.kind=sds``."""

    guidance_scale: float = 100.0
    """Classifier-free guidance scale (DreamFusion uses 100)."""
    latent_size: int = 64
    """Latent side; the renders are resized to latent_size x the VAE's downsampling factor (512 for SD);
    8 to 128."""
    t_min: float = 0.02
    """Smallest diffusion timestep, as a fraction of the scheduler's training steps."""
    t_max: float = 0.98
    """Largest diffusion timestep, as a fraction."""
    half_on_cuda: bool = True
    """Run the frozen diffusion models in float16 on CUDA."""

    def check(self) -> None:
        if not 0 <= self.t_min < self.t_max <= 1:
            raise ValueError(f"t_min={self.t_min}, t_max={self.t_max}: need 0 <= t_min < t_max <= 1")
        if self.latent_size < 8 or self.guidance_scale < 0:
            raise ValueError(f"latent_size={self.latent_size} (>= 8), guidance_scale={self.guidance_scale} (>= 0)")


@dataclass
class GuidanceConfig:
    """How rendered views are scored against the prompt."""

    kind: Literal["clip", "sds"] = "clip"
    """clip (DreamFields CLIP loss) or sds (score distillation; needs --sd-model)."""
    augmentations: int = 1
    """Random crops/shifts of each rendered view per step (1 to 16)."""
    transmittance_target: float = 0.85
    """DreamFields sparsity: mean transmittance is pushed up to this value and no further."""
    transmittance_weight: float = 0.5
    """Weight of the transmittance regulariser."""
    transmittance_slack: float = 0.02
    """The target is at most the starting avatar's own transmittance minus this, so the regulariser
    stops the avatar from growing or sprouting floaters without eroding it (a fixed 0.85 thins
    arms to spikes once the avatar covers more than 15% of a view); negative = the fixed target only."""
    image_weight: float = 0.3
    """Weight of similarity to the reference image's features (when a reference exists)."""
    sd_model: str = ""
    """Local Stable Diffusion folder for sds guidance (diffusers layout); ``--sd-model DIR``."""
    sds: SDSSettings = field(default_factory=SDSSettings)
    """Score distillation settings (``--set guidance.sds.guidance_scale=7.5``)."""

    def setup(self, **runtime) -> "Guidance":
        """The guidance this config names (``kind``: the registry); ``runtime``: encoder, text, image, prompt,
        generator (and device for sds)."""
        if self.kind == "clip":
            from pipeline.guidance.clip_guidance import ClipGuidance

            return ClipGuidance(self, **runtime)
        from pipeline.guidance.sds_guidance import SDSGuidance

        return SDSGuidance(self, **runtime)

    def check(self) -> None:
        if self.augmentations < 1:
            raise ValueError(f"augmentations={self.augmentations}: at least 1")
        if not 0 < self.transmittance_target < 1:
            raise ValueError(f"transmittance_target={self.transmittance_target}: in (0, 1)")
        if min(self.transmittance_weight, self.image_weight) < 0:
            raise ValueError(f"transmittance_weight={self.transmittance_weight}, image_weight={self.image_weight}: "
                             "must be >= 0")
