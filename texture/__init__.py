"""avatarforge.texture: UV unwrap, baking, skinning, GLB export and validation (plus the image library).

The public factory is :func:`export_glb`; heavy dependencies (pygltflib, xatlas, scipy) load
on first use, so ``import texture`` stays cheap. This package never imports ``pipeline``.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "export_glb": "texture.export_glb",
    "ExportConfig": "texture.export_glb",
    "build_rigged": "texture.assemble",
    "render_preview": "texture.preview",
    "validate_glb": "texture.validate",
    "TexturedMesh": "texture.artifacts",
    "RiggedMesh": "texture.artifacts",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'texture' has no attribute {name!r}")
