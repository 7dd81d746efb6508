"""Secondary joints for what hangs off the body: long hair, a cape and skirts sway on chains of their own.

``add_springs`` gives each hanging piece of a dressed body one or more chains of joints (a
``nerf.artifacts.SpringChain``) below the body joint it hangs from: long hair or a ponytail below the head,
a cape's left and right halves below the upper spine, a skirt, dress or robe four chains (front, left, back,
right) below the hips. The piece's vertices are re-weighted onto them: a vertex is carried by the bone it lies along,
blending linearly into the neighbouring bones (and, at the top, into the joint the piece hangs from), and
around a skirt between the two nearest chains. A skirt keeps the share its legs had, so a stride in an
engine without spring physics still moves it. Colliders on the head, neck, spine and legs keep the chains
out of the body; each is shrunk where needed so that no chain starts inside one (a simulation would
otherwise kick it at the first frame).

The chains are what VRM's ``VRMC_springBone`` simulates (``texture.gltf.vrm``); a plain GLB carries the
same joints, still at rest unless an animation moves them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nerf.artifacts import Collider, SpringChain
from nerf.body.garments import TUBES
from nerf.body.landmarks import Landmarks


@dataclass(frozen=True)
class SpringStyle:
    """How one kind of hanging piece moves (VRM spring parameters) and how many bones its chains have."""

    bones: int
    stiffness: float
    gravity: float
    drag: float
    hit_radius: float
    colliders: tuple[str, ...]


STYLES: dict[str, SpringStyle] = {
    "hair": SpringStyle(bones=2, stiffness=0.8, gravity=0.1, drag=0.4, hit_radius=0.02, colliders=("head", "torso")),
    "cape": SpringStyle(bones=3, stiffness=0.5, gravity=0.3, drag=0.5, hit_radius=0.03, colliders=("torso", "legs")),
    "skirt": SpringStyle(bones=3, stiffness=0.6, gravity=0.2, drag=0.5, hit_radius=0.03, colliders=("legs",)),
}
"""Per kind: bones a chain has (its joints are one more: the last is the tail) and its spring settings."""
SKIRT_CHAINS = (("Front", 0.0), ("Left", 0.5 * np.pi), ("Back", np.pi), ("Right", 1.5 * np.pi))
"""A skirt's chains: name and angle about the vertical axis (0 toward +Z, the front; pi/2 toward +X, its left)."""
CLEARANCE = 0.005
"""Metres left between a collider and a chain joint's sphere at rest."""
HAIR_START = 0.04
"""Long hair swings from this far above the neck joint (the base of the skull) down."""


@dataclass
class Rig:
    """A skeleton being extended: names, parents, positions and dense skin weights, grown together."""

    names: list[str]
    parents: list[int]
    positions: list[np.ndarray]
    weights: np.ndarray
    """float32 [V, J]."""

    def add(self, name: str, parent: str, position: np.ndarray) -> int:
        self.names.append(name)
        self.parents.append(self.names.index(parent))
        self.positions.append(np.asarray(position, np.float32))
        self.weights = np.concatenate([self.weights, np.zeros((len(self.weights), 1), np.float32)], 1)
        return len(self.names) - 1


def _chain_weights(s: np.ndarray, bones: int, parent: int, chain: list[int], n_joints: int) -> np.ndarray:
    """Float[N, J]: vertices at chain parameter ``s`` (0 at the root joint, ``bones`` at the tail) carried
    by the bone they lie along, blending linearly between bone middles; above the first middle they blend
    into ``parent``."""
    u = np.clip(s - 0.5, -1.0, bones - 1.0)  # bone k's middle at u = k, the parent at u = -1
    lo = np.floor(u).astype(np.int64)
    lo = np.minimum(lo, bones - 2) if bones > 1 else np.full_like(lo, -1)
    frac = np.clip(u - lo, 0.0, 1.0)
    owner = np.asarray([parent, *chain[:bones]])  # index by bone + 1
    w = np.zeros((len(s), n_joints), np.float32)
    rows = np.arange(len(s))
    np.add.at(w, (rows, owner[lo + 1]), 1.0 - frac)
    np.add.at(w, (rows, owner[np.minimum(lo + 2, bones)]), frac)
    return w


def _band_mean(points: np.ndarray, y: float, width: float) -> np.ndarray:
    """Mean of the points within ``width`` of height ``y`` (the nearest ones when none is)."""
    near = np.abs(points[:, 1] - y) < width
    if not near.any():
        near = np.abs(points[:, 1] - y) <= np.abs(points[:, 1] - y).min() + 1e-6
    return points[near].mean(0)


def _hair(rig: Rig, v: np.ndarray, mask: np.ndarray, lm: Landmarks) -> list[SpringChain]:
    style = STYLES["hair"]
    y0 = lm.neck_y + HAIR_START
    hanging = mask & (v[:, 1] < y0) & (v[:, 2] < lm.head_center[2])
    if hanging.sum() < 8:
        return []
    tail_y = float(v[hanging, 1].min())
    if y0 - tail_y < 0.05:  # too short to swing
        return []
    ys = np.linspace(y0, tail_y, style.bones + 1)
    back = v[hanging]
    chain = []
    for k, yy in enumerate(ys):
        p = _band_mean(back, yy, 0.02)
        chain.append(rig.add(f"HairBack{k + 1}", "Head" if k == 0 else rig.names[chain[-1]], (0.0, yy, p[2])))
    sel = mask & (v[:, 1] < y0 + (y0 - tail_y) / style.bones)  # from half a bone above the root down
    s = (y0 - v[sel, 1]) / (y0 - tail_y) * style.bones
    rig.weights[sel] = _chain_weights(s, style.bones, rig.names.index("Head"), chain, len(rig.names))
    return [_spring("hair", [rig.names[j] for j in chain], style)]


def _cape(rig: Rig, v: np.ndarray, mask: np.ndarray) -> list[SpringChain]:
    style = STYLES["cape"]
    p = v[mask]
    top, hem = float(p[:, 1].max()), float(p[:, 1].min())
    ys = np.linspace(top, hem, style.bones + 1)
    chains = {}
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        half = p[p[:, 0] * sign > 0]
        chain = []
        for k, yy in enumerate(ys):
            band = half[np.abs(half[:, 1] - yy) < 0.03] if (np.abs(half[:, 1] - yy) < 0.03).any() else half
            pos = (0.5 * float(np.abs(band[:, 0]).max()) * sign, yy, float(band[:, 2].mean()))
            chain.append(rig.add(f"Cape{side}{k + 1}", "Spine2" if k == 0 else rig.names[chain[-1]], pos))
        chains[side] = chain
    s = (top - p[:, 1]) / max(top - hem, 1e-6) * style.bones
    xl = rig.positions[chains["Left"][0]][0]  # chains' x at the top; the side blend is linear between them
    xs = np.stack([rig.positions[chains["Left"][k]][0] for k in range(len(ys))])
    xk = np.interp(-p[:, 1], -ys, xs) if len(ys) > 1 else np.full(len(p), xl)
    a = np.clip((p[:, 0] + xk) / np.maximum(2 * xk, 1e-6), 0.0, 1.0)  # 1 on the left chain, 0 on the right
    parent, n = rig.names.index("Spine2"), len(rig.names)
    rig.weights[mask] = (a[:, None] * _chain_weights(s, style.bones, parent, chains["Left"], n)
                         + (1 - a)[:, None] * _chain_weights(s, style.bones, parent, chains["Right"], n))
    return [_spring(f"cape-{side.lower()}", [rig.names[j] for j in c], style) for side, c in chains.items()]


def _skirt(rig: Rig, v: np.ndarray, mask: np.ndarray, kind: str) -> list[SpringChain]:
    style = STYLES["skirt"]
    p = v[mask]
    top, hem = float(p[:, 1].max()), float(p[:, 1].min())
    ys = np.linspace(top, hem, style.bones + 1)
    zc = 0.5 * (p[:, 2].max() + p[:, 2].min())
    theta = np.mod(np.arctan2(p[:, 0], p[:, 2] - zc), 2 * np.pi)
    chains = []
    for name, angle in SKIRT_CHAINS:
        d = np.abs(np.angle(np.exp(1j * (theta - angle))))
        near = p[d < 0.35]
        chain = []
        for k, yy in enumerate(ys):
            chain.append(rig.add(f"Skirt{name}{k + 1}", "Hips" if k == 0 else rig.names[chain[-1]],
                                 _band_mean(near, yy, 0.03)))
        chains.append(chain)
    legs = [rig.names.index(n) for n in ("LeftUpLeg", "RightUpLeg")]
    kept = np.zeros_like(rig.weights[mask])
    kept[:, legs] = rig.weights[mask][:, legs]  # the legs' share stays: a stride moves the hem without physics
    free = 1.0 - kept.sum(1, keepdims=True)
    s = (top - p[:, 1]) / max(top - hem, 1e-6) * style.bones
    step = 2 * np.pi / len(SKIRT_CHAINS)
    lo = np.floor(theta / step).astype(np.int64) % len(SKIRT_CHAINS)
    frac = theta / step - np.floor(theta / step)
    parent, n = rig.names.index("Hips"), len(rig.names)
    per_chain = [_chain_weights(s, style.bones, parent, c, n) for c in chains]
    blend = np.zeros_like(per_chain[0])
    for k in range(len(chains)):
        share = np.where(lo == k, 1 - frac, 0.0) + np.where((lo + 1) % len(chains) == k, frac, 0.0)
        blend += share[:, None] * per_chain[k]
    kept = np.concatenate([kept, np.zeros((len(kept), n - kept.shape[1]), np.float32)], 1)
    rig.weights[mask] = kept + free * blend
    return [_spring(f"{kind}-{name.lower()}", [rig.names[j] for j in c], style)
            for (name, _), c in zip(SKIRT_CHAINS, chains)]


def _spring(name: str, joints: list[str], style: SpringStyle) -> SpringChain:
    return SpringChain(name, joints, style.stiffness, style.gravity, style.drag, style.hit_radius,
                       list(style.colliders))


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


def colliders(body_v: np.ndarray, body_w: np.ndarray, names: list[str], positions: np.ndarray,
              lm: Landmarks) -> list[Collider]:
    """Head sphere, neck and spine capsules, a capsule on each thigh and shin, sized from the body's own
    vertices (a quantile of their distance from the bone, so a collider sits inside the skin)."""
    pos = {n: positions[i] for i, n in enumerate(names)}
    out = [Collider("Head", "head", float(lm.head_radius),
                    tuple(float(c) for c in np.asarray(lm.head_center) - pos["Head"]))]
    bones = [("Neck", "Head", "torso", ("Neck",)), ("Spine", "Spine2", "torso", ("Spine", "Spine1", "Spine2"))]
    for side in ("Left", "Right"):
        bones += [(f"{side}UpLeg", f"{side}Leg", "legs", (f"{side}UpLeg",)),
                  (f"{side}Leg", f"{side}Foot", "legs", (f"{side}Leg",))]
    for joint, end, group, carriers in bones:
        idx = [names.index(c) for c in carriers]
        near = body_w[:, idx].sum(1) > 0.5
        a, b = pos[joint], pos[end]
        r = float(np.quantile(_segment_distance(body_v[near], a, b), 0.25)) if near.sum() > 8 else 0.04
        out.append(Collider(joint, group, r, (0.0, 0.0, 0.0), tuple(float(c) for c in b - a)))
    return out


def _shrink(cols: list[Collider], springs: list[SpringChain], names: list[str], positions: np.ndarray
            ) -> list[Collider]:
    """Each collider no larger than leaves every chain joint that meets it ``CLEARANCE`` outside at rest."""
    pos = {n: positions[i] for i, n in enumerate(names)}
    out = []
    for c in cols:
        start = pos[c.joint] + np.asarray(c.offset)
        end = pos[c.joint] + np.asarray(c.tail) if c.tail is not None else start
        r = c.radius
        for s in springs:
            if c.group not in s.colliders:
                continue
            d = _segment_distance(np.stack([pos[j] for j in s.joints]), start, end)
            r = min(r, float(d.min()) - s.hit_radius - CLEARANCE)
        if r > 0.01:
            out.append(Collider(c.joint, c.group, round(r, 4), c.offset, c.tail))
    return out


def add_springs(vertices: np.ndarray, weights: np.ndarray, vertex_pieces: np.ndarray, hanging: dict[int, str],
                names: list[str], parents: list[int], positions: np.ndarray, lm: Landmarks,
                body_v: np.ndarray, body_w: np.ndarray):
    """The dressed body's rig with spring chains for its hanging pieces: (names, parents, Float[J', 3]
    positions, Float[V, J'] weights, springs, colliders). ``hanging`` maps a piece index (``vertex_pieces``)
    to what it is: ``long hair``, ``ponytail``, ``cape`` or a tube's name (``skirt``, ``dress``, ``robe``).
    Without such a piece the rig is as given and both lists are empty. ``body_v``/``body_w`` are the welded
    body's vertices and dense weights (for the colliders)."""
    rig = Rig(list(names), list(parents), [np.asarray(p, np.float32) for p in positions],
              np.asarray(weights, np.float32).copy())
    springs: list[SpringChain] = []
    for i, piece in sorted(hanging.items()):
        mask = vertex_pieces == i
        if not mask.any():
            continue
        if piece in ("long hair", "ponytail"):
            springs += _hair(rig, vertices, mask, lm)
        elif piece == "cape":
            springs += _cape(rig, vertices, mask)
        elif piece in TUBES:
            springs += _skirt(rig, vertices, mask, piece)
        else:
            raise ValueError(f"no spring chains for a {piece!r}")
    pos = np.stack(rig.positions).astype(np.float32)
    cols = _shrink(colliders(body_v, body_w, names, np.asarray(positions), lm), springs, rig.names, pos) \
        if springs else []
    used = {c.group for c in cols}
    for s in springs:
        s.colliders = [g for g in s.colliders if g in used]
    w = rig.weights / np.maximum(rig.weights.sum(1, keepdims=True), 1e-12)
    return rig.names, rig.parents, pos, w.astype(np.float32), springs, cols
