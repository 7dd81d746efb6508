"""avatarforge.nerf: humanoid template prior, NeRF fields, rendering and mesh extraction.

This package imports neither ``pipeline`` nor ``texture``.
"""
