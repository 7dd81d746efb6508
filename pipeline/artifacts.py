"""Typed artifacts passed between the pipeline's stages."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from torch import Tensor

if TYPE_CHECKING:
    from nerf.body.dress import DressedBody
    from nerf.body.phenotypes import BodyParameters
    from nerf.fields import TemplateField
    from nerf.prior import BakedPrior
    from nerf.template import TemplateParams
    from pipeline.understood import Understood


@dataclass
class TextFeatures:
    """The prompt's CLIP text embedding."""

    prompt: str
    embedding: Tensor
    """Float[D] L2-normalised."""
    truncated: bool = False
    """True when the prompt was longer than the text encoder's context and got cut."""
    unknown: list[str] = field(default_factory=list)
    """Parts of the prompt the text encoder has no token for (emoji, most symbols): they say nothing."""
    clauses: list[str] = field(default_factory=list)
    """The prompt's clauses (``nerf.synthetic.clauses.split_clauses``)."""
    clause_embeddings: Tensor | None = None
    """Float[C, D] L2-normalised embeddings of ``clauses``."""
    warnings: list[str] = field(default_factory=list)
    """What the user should hear about how the text encoder read the prompt (truncation, unreadable parts)."""
    tower: str = "minilm"
    """The text tower that read the prompt: ``minilm`` (the CLIP model's own) or ``e5`` (multilingual)."""


@dataclass
class ImageFeatures:
    """CLIP image-tower (ViT/16) embedding of the reference image."""

    embedding: Tensor | None
    """Float[D] L2-normalised, or None when no reference was used."""
    source: str = "none"
    """Where the reference came from: a user file, a library match, or none."""
    score: float | None = None
    """Text-image similarity of a library match."""


@dataclass
class AmortisedAvatar:
    """What ``--steps 0`` decodes from a prompt, before any field is built."""

    text: TextFeatures
    image: ImageFeatures
    """The reference the generator was conditioned on."""
    params: "TemplateParams"
    """The generator's template: proportions, joints, parts and colours."""
    understood: "Understood | None" = None
    """What the prompt was understood as (``pipeline.understood``)."""


@dataclass
class Conditioning:
    """The fused code that conditions the shape generator."""

    z: Tensor
    """Float[Z] output of the FusionMLP."""


@dataclass
class RefineStats:
    """What CLIP-guided refinement did (``pipeline.refine.refine``); the sidecar's ``optimization``."""

    initial_clip_score: float
    """Guidance score of the start on the fixed evaluation views."""
    final_clip_score: float
    """Score of the field handed back (the start's when refinement was reverted)."""
    steps_run: int = 0
    early_stopped: bool = False
    bad_steps: int = 0
    """NaN/inf losses met (each restored the last good state and halved the learning rate)."""
    reverted: bool = False
    """True when the refined field scored below the start and the start was handed back."""
    reverted_from_clip_score: float | None = None
    """What the discarded field scored, when reverted."""
    optimize_seconds: float | None = None
    step_seconds: float | None = None
    max_color_shift: float | None = None
    """The colour bound in effect (``FieldConfig.max_color_shift``; -1 when refinement paints colours)."""

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class NerfState:
    """The refined field and everything it was built from: the stages' output before mesh extraction."""

    text: TextFeatures
    image: ImageFeatures
    """The reference the generator was conditioned on (``ImageFeatures(None)`` when none)."""
    params: "TemplateParams"
    """The avatar refinement started from (the generator's, the neutral template, or a given one)."""
    field: "TemplateField"
    """Prior + refined residual (a ``torch.nn.Module``)."""
    stats: RefineStats
    dressed: "DressedBody | None" = None
    """The dressed anny body whose surface is the prior (``mesh.source=body``); None for the template path."""
    body: "BodyParameters | None" = None
    """The anny parameters of ``dressed``."""
    understood: "Understood | None" = None
    """What the prompt was understood as, when the generator's avatar is the start (``pipeline.understood``)."""

    @property
    def prior(self) -> "BakedPrior":
        """The baked template prior inside the field."""
        return self.field.prior


@dataclass
class AvatarResult:
    """What ``generate`` wrote, and the figures recorded in the sidecar."""

    glb: Path
    sidecar: Path
    preview: Path
    sidecar_data: dict = field(default_factory=dict)
