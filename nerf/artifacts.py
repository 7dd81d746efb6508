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
class SpringChain:
    """A chain of secondary joints that sways (hair, a cape, a skirt): VRM's ``VRMC_springBone`` spring.

    Its joints are a parent-to-child line of ``Skeleton`` joints below a body joint; the last is the
    tail (it carries no vertices: the bone before it does)."""

    name: str
    """``hair``, ``cape-left``, ``skirt-front``, ..."""
    joints: list[str]
    """Joint names from the root (a child of a body joint) to the tail."""
    stiffness: float = 1.0
    """How strongly each joint returns to its rest direction (VRM ``stiffness``)."""
    gravity: float = 0.0
    """How strongly it is pulled down (VRM ``gravityPower``, along -Y)."""
    drag: float = 0.4
    """Damping in [0, 1] (VRM ``dragForce``)."""
    hit_radius: float = 0.02
    """Metres: each joint's sphere against the colliders."""
    colliders: list[str] = field(default_factory=list)
    """Names of the ``Collider`` groups it collides with."""


@dataclass
class Collider:
    """A sphere or capsule on a joint that spring chains cannot pass through (VRM's ``colliders``)."""

    joint: str
    """The joint it moves with."""
    group: str
    """The group it belongs to (``head``, ``torso``, ``legs``)."""
    radius: float
    """Metres."""
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Its centre (a capsule's start) relative to the joint, in the joint's rest frame (world axes)."""
    tail: tuple[float, float, float] | None = None
    """A capsule's end relative to the joint; None for a sphere."""


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
    springs: list[SpringChain] = field(default_factory=list)
    """Secondary joint chains that sway (hair, cape, skirt); empty when the outfit has none."""
    colliders: list[Collider] = field(default_factory=list)
    """Body shapes the springs collide with."""

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
