"""Typed artifacts produced by the ``nerf`` package.

Conventions shared by every artifact: metres, Y up, the avatar faces +Z, feet on
the plane y = 0, the avatar's left side is +X (glTF's convention).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Body regions used for colours, textures and retrieval. Index = region id.
REGIONS: tuple[str, ...] = ("skin", "hair", "upper", "lower", "shoes", "headwear", "accessory")


@dataclass
class Skeleton:
    """A joint hierarchy in the rest pose (A-pose).

    ``names[i]`` has parent ``parents[i]`` (-1 for the root) and world-space rest
    position ``positions[i]``; parents always come before their children.
    """

    names: list[str]
    """Joint names, retargeting-friendly (Hips, Spine, ..., LeftToeBase)."""
    parents: list[int]
    """Index of each joint's parent, -1 for the root."""
    positions: np.ndarray
    """float32 [J, 3] world-space rest positions in metres."""
    rest_pose: str = "A-pose"
    """Name of the rest pose the positions describe."""

    def index(self, name: str) -> int:
        return self.names.index(name)


class Counted:
    """Vertex and face counts of anything with ``vertices`` [V, 3] and ``faces`` [F, 3] arrays."""

    vertices: np.ndarray
    faces: np.ndarray

    @property
    def n_vertices(self) -> int:
        return int(self.vertices.shape[0])

    @property
    def n_faces(self) -> int:
        return int(self.faces.shape[0])


@dataclass
class MeshArtifact(Counted):
    """A triangle mesh extracted from a NeRF field.

    Vertices are in metres (Y up, facing +Z, feet on y = 0).
    """

    vertices: np.ndarray
    """float32 [V, 3] positions."""
    faces: np.ndarray
    """int32 [F, 3] triangle vertex indices, counter-clockwise seen from outside."""
    vertex_colors: np.ndarray
    """float32 [V, 3] linear-ish sRGB albedo in [0, 1] sampled from the field."""
    vertex_regions: np.ndarray
    """int32 [V] region id per vertex (see ``REGIONS``)."""
    skeleton: Skeleton
    """The template skeleton fitted to this body."""
    meta: dict = field(default_factory=dict)
    """Free-form facts about extraction (resolution, iso level, decimation)."""
