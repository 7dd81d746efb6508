"""Guidance registry: ``clip`` (DreamFields-style CLIP loss, the default) and ``sds``
(score distillation with local Stable Diffusion weights through diffusers)."""
from __future__ import annotations

from pipeline.guidance.base import Guidance, GuidanceConfig

GUIDANCES = ("clip", "sds")


def make_guidance(config: GuidanceConfig, **runtime) -> Guidance:
    if config.kind == "clip":
        from pipeline.guidance.clip_guidance import ClipGuidance

        return ClipGuidance(config, **runtime)
    if config.kind == "sds":
        from pipeline.guidance.sds_guidance import SDSGuidance

        return SDSGuidance(config, **runtime)
    raise ValueError(f"unknown guidance {config.kind!r}; choose one of {', '.join(GUIDANCES)}")


__all__ = ["Guidance", "GuidanceConfig", "make_guidance", "GUIDANCES"]
