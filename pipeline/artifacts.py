"""Typed artifacts passed between the pipeline's stages."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from torch import Tensor

if TYPE_CHECKING:
    from nerf.template import TemplateParams


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


@dataclass
class ImageFeatures:
    """CLIP image-tower (ViT/16) embedding of the reference image."""

    embedding: Tensor | None
    """Float[D] L2-normalised, or None when no reference was used."""
    source: str = "none"
    """Where the reference came from: a user file, a library match, or none."""
    score: float | None = None
    """Text-image similarity of a library match."""


class AmortisedAvatar(NamedTuple):
    """What ``--steps 0`` decodes from a prompt, before any field is built."""

    text: TextFeatures
    image: ImageFeatures
    """The reference the generator was conditioned on."""
    params: "TemplateParams"
    """The generator's template: proportions, joints, parts and colours."""


@dataclass
class Conditioning:
    """The fused code that conditions the shape generator."""

    z: Tensor
    """Float[Z] output of the FusionMLP."""


@dataclass
class AvatarResult:
    """What ``generate`` wrote, and the figures recorded in the sidecar."""

    glb: Path
    sidecar: Path
    preview: Path
    sidecar_data: dict = field(default_factory=dict)
