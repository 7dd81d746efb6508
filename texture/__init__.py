"""avatarforge.texture: the retrieval texturer (``library/``, tri-planar projection, UV, bake), skinning, and
glTF export and validation (``gltf/``). This package imports ``nerf`` and never ``pipeline``."""
