"""Field registry: ``grid`` (dense grids through grid_sample, the CPU default) and ``hash``
(nerfstudio's HashEncoding residual, for CUDA). Both share the template prior."""
from __future__ import annotations

from nerf.fields.base import FieldConfig, TemplateField

FIELDS = ("grid", "hash")


def make_field(config: FieldConfig, prior, device="cpu") -> TemplateField:
    """Build the field named by ``config.kind`` around a baked template ``prior``."""
    if config.kind == "grid":
        from nerf.fields.grid_field import GridResidual as Residual
    elif config.kind == "hash":
        from nerf.fields.hash_field import HashResidual as Residual
    else:
        import difflib

        close = difflib.get_close_matches(config.kind, FIELDS, n=1)
        raise ValueError(f"unknown field {config.kind!r}; choose one of {', '.join(FIELDS)}"
                         + (f" (did you mean {close[0]}?)" if close else ""))
    return TemplateField(config, prior, Residual(config)).to(device)


__all__ = ["FieldConfig", "TemplateField", "make_field", "FIELDS"]
