"""ExportConfig: how a rigged avatar is prepared (triangle and texture budgets, skin) and written as GLB or VRM."""
from __future__ import annotations

from dataclasses import dataclass, field

from nerf.body.face import MORPH_TARGETS
from texture.animation import ANIMATIONS
from texture.skinning import SkinConfig

MAX_TRIANGLES = 500_000
"""Largest triangle budget: 2.5 GB peak and 2 minutes on a 2-core CPU (docs/LIMITS.md); the budget also
drives subdivision, so 10**8 took a 24 GB machine down."""
MAX_TEXTURE_SIZE = 4096
"""Largest texture side: 3.1 GB peak at 4096; 8192 needs more than 8 GB (docs/LIMITS.md)."""
MAX_LODS = 6
MAX_ANIMATION_SECONDS = 60.0


AVATAR_PERMISSIONS = ("onlyAuthor", "onlySeparatelyLicensedPerson", "everyone")
COMMERCIAL_USAGES = ("personalNonProfit", "personalProfit", "corporation")
CREDIT_NOTATIONS = ("required", "unnecessary")
MODIFICATIONS = ("prohibited", "allowModification", "allowModificationRedistribution")


@dataclass
class VrmConfig:
    """The VRM 1.0 licence and credits of ``.vrm`` files (``VRMC_vrm.meta``, https://vrm.dev/licenses/1.0/):
    who made the avatar and what others may do with it. The defaults let a studio ship the avatar."""

    authors: tuple[str, ...] = ("avatarforge",)
    """The avatar's authors (VRM requires at least one); put your studio here."""
    version: str = ""
    """The avatar's own version string (empty: the avatarforge version that made it)."""
    copyright: str = ""
    """Copyright notice (``copyrightInformation``)."""
    contact: str = ""
    """How to reach the authors (``contactInformation``)."""
    avatar_permission: str = "everyone"
    """Who may act as the avatar: onlyAuthor, onlySeparatelyLicensedPerson or everyone."""
    commercial_usage: str = "corporation"
    """personalNonProfit, personalProfit or corporation (companies may use it commercially)."""
    credit_notation: str = "unnecessary"
    """Whether users must credit the authors: required or unnecessary."""
    allow_redistribution: bool = True
    """Whether others may redistribute the avatar file."""
    modification: str = "allowModification"
    """prohibited, allowModification (edit, not redistribute edits) or allowModificationRedistribution."""
    allow_violent: bool = False
    """``allowExcessivelyViolentUsage``."""
    allow_sexual: bool = False
    """``allowExcessivelySexualUsage``."""
    allow_political_or_religious: bool = False
    """``allowPoliticalOrReligiousUsage``."""
    allow_antisocial_or_hate: bool = False
    """``allowAntisocialOrHateUsage``."""
    other_license_url: str = ""
    """A further licence document, if any (``otherLicenseUrl``)."""

    def check(self) -> None:
        for key, value, allowed in (("avatar_permission", self.avatar_permission, AVATAR_PERMISSIONS),
                                    ("commercial_usage", self.commercial_usage, COMMERCIAL_USAGES),
                                    ("credit_notation", self.credit_notation, CREDIT_NOTATIONS),
                                    ("modification", self.modification, MODIFICATIONS)):
            if value not in allowed:
                raise ValueError(f"vrm.{key}={value!r}: choose one of {', '.join(allowed)}")
        if not self.authors or not all(isinstance(a, str) and a.strip() for a in self.authors):
            raise ValueError("vrm.authors: at least one non-empty name (VRM 1.0 requires an author)")


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
    morph_targets: str = "both"
    """Face morph targets of the dressed body: "both" (the 52 ARKit blendshapes and the 15 Oculus visemes),
    "arkit", "visemes" or "none". LOD files carry none."""
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
    vrm: VrmConfig = field(default_factory=VrmConfig)
    """Licence and credits written into ``.vrm`` files."""

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
        if self.morph_targets not in MORPH_TARGETS:
            raise ValueError(f"morph_targets={self.morph_targets!r}: choose one of {', '.join(MORPH_TARGETS)}")
        if not 0 <= self.lods <= MAX_LODS:
            raise ValueError(f"lods={self.lods}: 0..{MAX_LODS}")
        if not 0 < self.animation_seconds <= MAX_ANIMATION_SECONDS:
            raise ValueError(f"animation_seconds={self.animation_seconds}: more than 0, at most "
                             f"{MAX_ANIMATION_SECONDS:g}")
        self.vrm.check()
        if not (0 <= self.metallic <= 1 and 0 <= self.roughness <= 1):
            raise ValueError(f"metallic={self.metallic}, roughness={self.roughness}: each in [0, 1]")
