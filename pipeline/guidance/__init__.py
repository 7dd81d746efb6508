"""Guidance: ``clip`` (DreamFields-style CLIP loss, the default) and ``sds`` (score distillation with local
Stable Diffusion weights through diffusers). ``GuidanceConfig.setup`` builds one."""
from __future__ import annotations

from pipeline.guidance.base import Guidance
from pipeline.guidance.config import GUIDANCES, GuidanceConfig


def make_guidance(config: GuidanceConfig, **runtime) -> Guidance:
    """The guidance ``config.kind`` names (``config.setup``)."""
    return config.setup(**runtime)


__all__ = ["Guidance", "GuidanceConfig", "make_guidance", "GUIDANCES"]
