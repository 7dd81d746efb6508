"""Where things are on a T-posed body: the heights, widths and face points garments and paint are placed by.

Everything is measured on the body itself (its joints and vertices), so garments follow every phenotype:
a child's hem sits at a child's hips, a tall man's cuffs at his ankles.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Landmarks:
    """Metres, glTF axes (Y up, facing +Z), of one T-posed body."""

    top_y: float
    """Crown of the head."""
    head_center: np.ndarray
    """float32 [3] centre of the skull (mean of the head's vertices above the neck)."""
    head_radius: float
    """Half the head's width at the ears."""
    eye_centers: np.ndarray
    """float32 [2, 3] left (+X) and right eyeball centres."""
    mouth: np.ndarray
    """float32 [3] centre of the lips (front of the tongue's top)."""
    neck_y: float
    neck_z: float
    shoulder_y: float
    """Height of the arm sockets (the T-posed arms' axis)."""
    shoulder_x: float
    elbow_x: float
    wrist_x: float
    hip_y: float
    """The pelvis joint."""
    upleg_y: float
    """The hip sockets."""
    knee_y: float
    ankle_y: float


def components(faces: np.ndarray, n: int) -> np.ndarray:
    """Int[n] connected-component label of each vertex."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    adj = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(adj, directed=False)[1]


def measure(vertices: np.ndarray, faces: np.ndarray, joints: dict[str, np.ndarray], weights: np.ndarray,
            joint_names: list[str]) -> tuple[Landmarks, np.ndarray, np.ndarray]:
    """The body's :class:`Landmarks`, a Bool[V] mask of the eyes and tongue (the small parts that are not
    skin and that no garment may take) and a Bool[V] mask of the eyes alone."""
    lab = components(faces, len(vertices))
    sizes = np.bincount(lab)
    main = int(np.argmax(sizes))
    small = np.flatnonzero(np.arange(len(sizes)) != main)
    centres = {int(c): vertices[lab == c].mean(0) for c in small}
    eyes = sorted((c for c in small if sizes[c] < 150), key=lambda c: -centres[c][0])[:2]
    tongue = [c for c in small if c not in eyes]
    head = weights[:, joint_names.index("Head")] > 0.5
    above = vertices[:, 1] > joints["Neck"][1]
    hc = vertices[head & above & (lab == main)].mean(0)
    band = head & (np.abs(vertices[:, 1] - hc[1]) < 0.02) & (lab == main)
    radius = float(np.abs(vertices[band, 0]).max()) if band.any() else 0.08
    if len(eyes) == 2:
        eye_c = np.stack([centres[eyes[0]], centres[eyes[1]]])
    else:  # no eyeballs (another topology): where they would be
        eye_c = np.array([[0.032, hc[1] - 0.01, hc[2] + 0.07], [-0.032, hc[1] - 0.01, hc[2] + 0.07]])
    if tongue:
        t = vertices[lab == tongue[0]]
        mouth = np.array([0.0, t[:, 1].max(), t[:, 2].max() + 0.01])
    else:
        mouth = np.array([0.0, eye_c[0, 1] - 0.065, eye_c[0, 2] + 0.005])
    nonbody = np.isin(lab, small)
    eye_mask = np.isin(lab, eyes)
    lm = Landmarks(top_y=float(vertices[:, 1].max()), head_center=hc.astype(np.float32), head_radius=radius,
                   eye_centers=eye_c.astype(np.float32), mouth=mouth.astype(np.float32),
                   neck_y=float(joints["Neck"][1]), neck_z=float(joints["Neck"][2]),
                   shoulder_y=float(joints["LeftArm"][1]), shoulder_x=float(abs(joints["LeftArm"][0])),
                   elbow_x=float(abs(joints["LeftForeArm"][0])), wrist_x=float(abs(joints["LeftHand"][0])),
                   hip_y=float(joints["Hips"][1]), upleg_y=float(joints["LeftUpLeg"][1]),
                   knee_y=float(joints["LeftLeg"][1]), ankle_y=float(joints["LeftFoot"][1]))
    return lm, nonbody, eye_mask
