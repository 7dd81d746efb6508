"""Procedural animation clips as per-joint rotation keyframes (local joint frames).

Rest joints are unrotated, so a joint's local frame has the world axes (x: avatar's left,
y: up, z: forward). Clips start and end at the rest pose, so they loop without a pop.

* ``idle``: breathing (spine and neck sway), a slight arm drift and, on a face with morph targets, a blink;
* ``wave``: the idle clip plus the right arm raised and the forearm waving;
* ``none``: no clip.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nerf.artifacts import Skeleton

ANIMATIONS: tuple[str, ...] = ("wave", "idle", "none")


@dataclass
class Clip:
    """A keyframed animation: rotations of some joints over shared key times."""

    name: str
    times: np.ndarray
    """float32 [K] strictly increasing key times in seconds, starting at 0."""
    rotations: dict[str, np.ndarray] = field(default_factory=dict)
    """joint name -> float32 [K, 4] unit quaternions (x, y, z, w), local to the joint."""
    morph_weights: dict[str, np.ndarray] = field(default_factory=dict)
    """morph target name -> float32 [K] weight in [0, 1] (targets the clip leaves out stay at 0)."""

    @property
    def duration(self) -> float:
        return float(self.times[-1])


def axis_angle(axis, angles: np.ndarray) -> np.ndarray:
    """Quaternions [K, 4] (x, y, z, w) rotating by ``angles`` [K] radians about ``axis``."""
    ax = np.asarray(axis, np.float64)
    ax = ax / np.linalg.norm(ax)
    half = 0.5 * np.asarray(angles, np.float64)
    q = np.concatenate([np.sin(half)[:, None] * ax[None], np.cos(half)[:, None]], 1)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternion arrays [..., 4] in (x, y, z, w) order."""
    ax, ay, az, aw = np.moveaxis(a, -1, 0)
    bx, by, bz, bw = np.moveaxis(b, -1, 0)
    return np.stack([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz], -1)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices [..., 3, 3] of unit quaternions [..., 4] (x, y, z, w)."""
    x, y, z, w = np.moveaxis(np.asarray(q, np.float64), -1, 0)
    return np.stack([np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
                     np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
                     np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], -2)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


BLINK_SECONDS = 0.2
"""How long a blink takes, closing and opening."""


def blink(t: np.ndarray, seconds: float) -> np.ndarray:
    """Float[K] eyelid closure in [0, 1] at times ``t``: one blink centred at 40% of the clip."""
    x = np.abs(t - 0.4 * seconds) / (BLINK_SECONDS / 2)
    return np.clip(1.0 - x, 0.0, 1.0) ** 0.7


def make_clip(kind: str, skeleton: Skeleton, seconds: float = 2.0, fps: int = 24,
              morphs: tuple[str, ...] | list[str] = ()) -> Clip | None:
    """The procedural clip ``kind`` (one of ``ANIMATIONS``) for ``skeleton``; None for "none". ``morphs`` are
    the avatar's morph target names: the idle clip blinks when it has ``eyeBlinkLeft``/``eyeBlinkRight``."""
    if kind not in ANIMATIONS:
        raise ValueError(f"unknown animation {kind!r}; choose one of {', '.join(ANIMATIONS)}")
    if kind == "none":
        return None
    if seconds <= 0 or fps <= 0:
        raise ValueError(f"animation seconds={seconds} and fps={fps} must be positive")
    t = np.linspace(0.0, seconds, int(round(seconds * fps)) + 1)
    blinks = kind == "idle" and {"eyeBlinkLeft", "eyeBlinkRight"} <= set(morphs)
    if blinks:  # keys at the blink's own times too, so linear interpolation reaches a closed eye
        half = BLINK_SECONDS / 2
        extra = 0.4 * seconds + np.array([-half, -half / 2, 0.0, half / 2, half])
        t = np.unique(np.concatenate([t, extra[(extra > 0) & (extra < seconds)]]))
        t = t[np.concatenate([[True], np.diff(t) > 1e-3])]  # strictly increasing in float32 too
    breath = np.sin(2 * math.pi * t / seconds)  # one breath per clip: loops seamlessly
    rot: dict[str, np.ndarray] = {
        "Spine1": axis_angle((1, 0, 0), np.radians(1.5) * breath),
        "Spine2": axis_angle((1, 0, 0), np.radians(2.0) * breath),
        "Neck": axis_angle((1, 0, 0), -np.radians(2.5) * breath),
        "LeftArm": axis_angle((0, 0, 1), np.radians(3.0) * breath),
        "RightArm": axis_angle((0, 0, 1), -np.radians(3.0) * breath),
    }
    if kind == "wave":
        # raise (0 -> 0.35 s), hold while waving, lower (last 0.35 s): upper arm out and up,
        # elbow bent so the forearm points up, forearm swinging side to side twice a second
        up = _smoothstep(t / 0.35) * _smoothstep((seconds - t) / 0.35)
        # the same waving pose from either rest: the upper arm ends 27 degrees above horizontal
        lift = 27.0 + (0.0 if skeleton.rest_pose == "T-pose" else 48.0)
        rot["RightArm"] = quat_mul(rot["RightArm"], axis_angle((0, 0, 1), -np.radians(lift) * up))
        wave = np.sin(2 * math.pi * 2.0 * t) * up
        rot["RightForeArm"] = quat_mul(axis_angle((0, 0, 1), -np.radians(70.0) * up),
                                       axis_angle((0, 0, 1), np.radians(25.0) * wave))
        rot["RightHand"] = axis_angle((0, 0, 1), np.radians(10.0) * wave)
        rot["Head"] = axis_angle((0, 1, 0), -np.radians(8.0) * up)
    names = set(skeleton.names)
    rot = {k: (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32) for k, v in rot.items()
           if k in names}
    weights = {}
    if blinks:
        closed = blink(t, seconds).astype(np.float32)
        weights = {"eyeBlinkLeft": closed, "eyeBlinkRight": closed}
    return Clip(name=kind, times=t.astype(np.float32), rotations=rot, morph_weights=weights)
