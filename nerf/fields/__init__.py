"""NeRF fields: the template prior plus a residual, ``grid`` (dense grids through grid_sample, the CPU default)
or ``hash`` (nerfstudio's HashEncoding, for CUDA). ``FieldConfig.setup`` builds one."""
from __future__ import annotations

from nerf.fields.base import TemplateField
from nerf.fields.config import FIELDS, FieldConfig


def make_field(config: FieldConfig, prior, device="cpu") -> TemplateField:
    """Build the field named by ``config.kind`` around a baked template ``prior`` (``config.setup``)."""
    return config.setup(prior, device)


__all__ = ["FieldConfig", "TemplateField", "make_field", "FIELDS"]
