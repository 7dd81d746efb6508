"""The guidance protocol: rendered views in, a scalar loss (and a score to log) out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import torch
from torch import Tensor


@dataclass
class SDSSettings:
    """Score distillation details (DreamFusion's choices); used when ``guidance.kind=sds``."""

    guidance_scale: float = 100.0
    """Classifier-free guidance scale (DreamFusion uses 100)."""
    latent_size: int = 64
    """Latent side; the renders are resized to latent_size x the VAE's downsampling factor (512 for SD)."""
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
    """Random crops/shifts of each rendered view per step."""
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
    contrast_weight: float = 0.0
    """Weight of an InfoNCE term (at the CLIP model's own logit scale) that scores each view against the
    prompt and its counterfactuals, the prompt with its height and build words swapped
    (``pipeline.guidance.contrast``), so refinement sharpens what tells "thin" from "stout" rather than
    what both share. 0, or a prompt naming neither, = DreamFields' plain cosine."""
    sd_model: str = ""
    """Local Stable Diffusion folder for sds guidance (diffusers layout); ``--sd-model DIR``."""
    sds: SDSSettings = field(default_factory=SDSSettings)
    """Score distillation settings (``--set guidance.sds.guidance_scale=7.5``)."""

    def check(self) -> None:
        if self.augmentations < 1:
            raise ValueError(f"augmentations={self.augmentations}: at least 1")
        if not 0 < self.transmittance_target < 1:
            raise ValueError(f"transmittance_target={self.transmittance_target}: in (0, 1)")
        if min(self.transmittance_weight, self.image_weight, self.contrast_weight) < 0:
            raise ValueError(f"transmittance_weight={self.transmittance_weight}, image_weight={self.image_weight}, "
                             f"contrast_weight={self.contrast_weight}: must be >= 0")


class TransmittanceRegulariser:
    """DreamFields' sparsity term, ``-weight * min(transmittance, target)``, with the target capped
    at the transmittance of the first views it sees (the avatar refinement starts from) minus
    ``transmittance_slack``. One instance per refinement run."""

    def __init__(self, config: GuidanceConfig):
        self.config = config
        self.target: float | None = None

    def __call__(self, acc: Tensor) -> tuple[Tensor, Tensor]:
        """acc Float[V,S,S] -> (loss term, mean transmittance)."""
        trans = 1 - acc.mean()
        c = self.config
        if self.target is None:
            self.target = c.transmittance_target if c.transmittance_slack < 0 else \
                min(c.transmittance_target, float(trans.detach()) - c.transmittance_slack)
        return -c.transmittance_weight * torch.clamp(trans, max=self.target), trans


class Guidance(Protocol):
    def loss(self, images: Tensor, acc: Tensor) -> tuple[Tensor, dict]:
        """images Float[V,S,S,3] in [0,1], acc Float[V,S,S] -> (loss, {"clip_score": ...})."""
        ...
