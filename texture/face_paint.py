"""The face, painted into the body's texture: lips and eyebrows on the skin, iris and pupil on the eyes.

Placed by the body's landmarks (``nerf.body.landmarks.Landmarks``), so they sit right on every phenotype.
"""
from __future__ import annotations

import numpy as np

IRIS = (0.33, 0.21, 0.11)
"""Default iris colour (brown)."""
SCLERA = (0.93, 0.91, 0.87)
IRIS_DEG, PUPIL_DEG = 23.0, 9.0
"""Angular radii, from the eyeball's centre, of the iris and the pupil."""


def face_color_fn(landmarks, skin: np.ndarray, hair: np.ndarray, skin_region: int = 0):
    """A baker ``color_fn``: lips and brows on texels of ``skin_region`` near the mouth and above the eyes;
    NaN elsewhere (the caller's colours stay)."""
    lm = landmarks
    skin, hair = np.asarray(skin, np.float32), np.asarray(hair, np.float32)
    lip = np.clip(skin * np.array([0.78, 0.52, 0.52]) + np.array([0.08, 0.0, 0.0]), 0, 1)
    brow = np.clip(0.55 * hair + 0.08 * skin, 0, 1)

    def color_fn(points: np.ndarray, normals: np.ndarray, regions: np.ndarray) -> np.ndarray:
        out = np.full((len(points), 3), np.nan, np.float32)
        face = (np.asarray(regions) == skin_region) & (normals[:, 2] > 0.2)
        q = (points - lm.mouth) / np.array([0.024, 0.0085, 0.03])
        # the lips' outline: a wide ellipse pinched at the corners
        lips = face & ((q ** 2).sum(1) < 1.0) & (np.abs(q[:, 1]) < 1.0 - 0.5 * q[:, 0] ** 2)
        out[lips] = lip
        for e in lm.eye_centers:
            side = np.sign(e[0]) or 1.0
            dx = (points[:, 0] - e[0]) * side  # outward from the nose
            arch = 0.021 + 0.004 * (1 - (dx / 0.02) ** 2)
            inb = face & (np.abs(dx + 0.002) < 0.021) & (np.abs(points[:, 1] - e[1] - arch) < 0.0035 - 0.0012 *
                                                         np.abs(dx / 0.021)) & (points[:, 2] > e[2] - 0.01)
            out[inb] = brow
        return out

    return color_fn


def paint_eyes(texture: np.ndarray, tile: tuple[float, float, float], inset: float, iris=IRIS) -> None:
    """Paint the eyes' tile of ``texture`` (uint8 [H, W, 3], in place): the projection of
    ``nerf.body.dress.eye_uvs`` puts the angle from the gaze axis at the radius from the tile's centre."""
    h, w = texture.shape[:2]
    u0, v0, size = tile
    x0, x1 = int(u0 * w), int(np.ceil((u0 + size) * w))
    y0, y1 = int(v0 * h), int(np.ceil((v0 + size) * h))
    ys, xs = np.mgrid[y0:y1, x0:x1]
    inner = size * (1 - 2 * inset)
    u = ((xs + 0.5) / w - u0 - size * inset) / inner
    v = ((ys + 0.5) / h - v0 - size * inset) / inner
    deg = np.hypot(u - 0.5, v - 0.5) * 2 * 180.0  # radius 0.5 of the tile = 180 degrees
    rgb = np.empty(deg.shape + (3,), np.float32)
    rgb[:] = SCLERA
    ring = np.clip((IRIS_DEG - deg) / 2.0, 0, 1)[..., None]  # a soft limbal edge
    shade = 0.75 + 0.25 * np.clip(deg / IRIS_DEG, 0, 1)[..., None]
    rgb = rgb * (1 - ring) + np.asarray(iris, np.float32) * shade * ring
    rgb[deg < PUPIL_DEG] = (0.03, 0.03, 0.03)
    texture[y0:y1, x0:x1, :3] = np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)
