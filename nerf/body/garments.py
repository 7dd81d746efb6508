"""The garments, hair and headwear of an outfit, fitted to one T-posed body.

Two kinds, as layered-avatar systems build them:

* **Shells** cut from the body along smooth fields (``shell_fields``: metres, positive on the garment) and
  moved out along the body's normals by the garment's thickness: shirts, jackets, armour, trousers, shorts,
  shoes, boots, hair, helmets, hoods, belts. They keep the body's UVs and skin weights, so they move with it.
* **Procedural** pieces where cloth leaves the body: flared tubes for skirts, dresses and robes, a sheet
  for a cape, lathes for hats and crowns, a box for a backpack, an ellipsoid for a bun and a tapered tube for
  a ponytail; their skin weights blend the body's joints they hang from.

Sizes are in metres on an adult and scale with the body through its landmarks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nerf.body.cut import AttrMesh, vertex_normals
from nerf.body.landmarks import Landmarks

SLEEVES = {"shirt": "short", "jacket": "long", "robe": "long", "dress": "none", "armour": "short"}
THICKNESS = {"shirt": 0.006, "jacket": 0.012, "robe": 0.010, "dress": 0.006, "armour": 0.024,
             "trousers": 0.005, "shorts": 0.005, "briefs": 0.004, "shoes": 0.007, "boots": 0.009,
             "hair": 0.008, "long hair": 0.012, "helmet": 0.022, "hood": 0.014, "belt": 0.018}
"""How far each shell stands off the body (outer layers thicker, so they stay outside the inner ones)."""
TUBES = {"skirt", "dress", "robe"}
HIDES_HAIR = ("helmet", "hood")
"""Headwear that covers the hair: no hair shell, bun or ponytail under it."""


@dataclass
class Shell:
    """A garment cut from the body: where (``field`` >= 0), how thick, and what it covers."""

    name: str
    region: str
    field: np.ndarray
    """Float[V] metres, positive on the garment."""
    thickness: float
    hides_body: bool = True
    """Body triangles wholly inside the cut are removed (nothing pokes through; no wasted triangles)."""


def _sig(x: np.ndarray, s: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x / s, -60, 60)))


def shell_fields(layout, p: np.ndarray, lm: Landmarks, excluded: np.ndarray, arms: np.ndarray | None = None
                 ) -> list[Shell]:
    """The shells of ``layout`` (a ``nerf.template.Layout``) on the body whose vertices are ``p`` Float[V, 3];
    ``excluded`` Bool[V] (eyes, tongue) belongs to none, ``arms`` Bool[V] (mostly weighted to an arm or a
    hand) to no bottom, shoe or belt: in an A-pose the hands hang beside the hips."""
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    ax = np.abs(x)
    out: list[Shell] = []
    upper = layout.upper
    # tops: below a scooped neckline, above the hem, inside the sleeve ends
    sleeve = SLEEVES[upper]
    arm = lm.elbow_x - lm.shoulder_x
    sleeve_end = {"none": lm.shoulder_x + 0.01, "short": lm.shoulder_x + 0.45 * arm,
                  "long": lm.wrist_x - 0.015}[sleeve]
    scoop = 0.035 * np.exp(-(x / 0.06) ** 2) * _sig(z - lm.neck_z, 0.01)
    neckline = lm.neck_y - 0.012 - scoop - (0.03 if upper == "dress" else 0.0)
    hem = {"shirt": lm.hip_y + 0.03, "jacket": lm.hip_y - 0.07, "robe": lm.hip_y, "dress": lm.hip_y,
           "armour": lm.hip_y - 0.02}[upper]
    out.append(Shell(upper, "upper", np.minimum.reduce([neckline - y, y - hem, sleeve_end - ax]),
                     THICKNESS[upper]))
    # bottoms: trousers and shorts; under a skirt, dress or robe a pair of briefs (no avatar is nude)
    lower = layout.lower if upper not in ("robe", "dress") else "briefs"
    if lower == "skirt":
        lower = "briefs"
    waist = lm.hip_y + 0.085
    cuff = {"trousers": lm.ankle_y + 0.03, "shorts": lm.knee_y + 0.11, "briefs": lm.upleg_y - 0.05}[lower]
    out.append(Shell(lower, "lower", np.minimum(waist - y, y - cuff), THICKNESS[lower]))
    # shoes, or boots to mid-shin
    boots = "boots" in layout.accessories
    top = lm.ankle_y + (0.55 * (lm.knee_y - lm.ankle_y) if boots else 0.035)
    out.append(Shell("boots" if boots else "shoes", "shoes", top - y, THICKNESS["boots" if boots else "shoes"]))
    c = lm.head_center
    # the face, as a signed field: positive above the brows or behind the face's plane
    off_face = np.maximum(y - (lm.eye_centers[0, 1] + 0.03), (c[2] + 0.035) - z)
    if layout.hair != "none" and layout.headwear not in HIDES_HAIR:
        front = _sig(z - c[2], 0.02)
        long_hair = layout.hair == "long"  # a bun or a ponytail: pulled back, close like short hair
        back_line = (lm.shoulder_y - 0.1) if long_hair else (lm.neck_y + 0.025)
        line = back_line * (1 - front) + (lm.eye_centers[0, 1] + 0.05) * front
        f = y - line
        if long_hair:  # down the back of the neck, not over the shoulders
            f = np.minimum.reduce([f, 0.10 - ax, np.where(y < lm.neck_y + 0.03, lm.neck_z - 0.005 - z, 1.0)])
        out.append(Shell("long hair" if long_hair else "hair", "hair", f, THICKNESS["long hair" if long_hair
                                                                                   else "hair"]))
    if layout.headwear == "helmet":
        out.append(Shell("helmet", "headwear", np.minimum.reduce([y - (lm.neck_y + 0.015), off_face, 0.15 - ax]),
                         THICKNESS["helmet"]))
    elif layout.headwear == "hood":
        hood = np.minimum.reduce([np.maximum(y - (lm.eye_centers[0, 1] + 0.045), (c[2] + 0.03) - z),
                                  0.17 - ax, y - (lm.shoulder_y + 0.01)])
        out.append(Shell("hood", "headwear", hood, THICKNESS["hood"]))
    if "belt" in layout.accessories and upper != "dress":
        belt_y = lm.hip_y + 0.07
        out.append(Shell("belt", "accessory", np.minimum(0.022 - np.abs(y - belt_y), lm.shoulder_x - ax),
                         max(THICKNESS[upper], THICKNESS[lower]) + 0.012, hides_body=False))
    for s in out:
        s.field = np.where(excluded, -1.0, s.field)
        if arms is not None and s.region in ("lower", "shoes", "accessory"):
            s.field = np.where(arms, -1.0, s.field)
    return out


# ------------------------------------------------------------------ procedural pieces
def _grid_faces(rows: int, cols: int, wrap: bool) -> np.ndarray:
    """Quads of a rows x cols vertex grid as triangles (columns wrap around when ``wrap``)."""
    f = []
    for i in range(rows - 1):
        for j in range(cols if wrap else cols - 1):
            a, b = i * cols + j, i * cols + (j + 1) % cols
            c, d = a + cols, b + cols
            f += [(a, c, b), (b, c, d)]
    return np.asarray(f, np.int64)


def _piece(v, f, uv, w) -> AttrMesh:
    v = np.asarray(v, np.float32)
    return AttrMesh(v, f, vertex_normals(v, f), np.asarray(uv, np.float32), np.asarray(w, np.float32),
                    np.full(len(v), -1, np.int64))


def _one_hot(n: int, j: int, joints: int) -> np.ndarray:
    w = np.zeros((n, joints), np.float32)
    w[:, j] = 1.0
    return w


def tube(p: np.ndarray, lm: Landmarks, top_y: float, hem_y: float, flare: float, names: list[str],
         segments: int = 40, rings: int = 16) -> AttrMesh:
    """A flared skirt from ``top_y`` down to ``hem_y``: each ring an ellipse around the body's cross-section
    (hips and both legs) there, never narrower than the ring above, widened by ``flare`` toward the hem."""
    ys = np.linspace(top_y, hem_y, rings)
    legs = np.abs(p[:, 0]) < lm.shoulder_x + 0.02
    a_prev = b_prev = 0.0
    zc_top = None
    verts, uv, wts = [], [], []
    ang = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    hips, lup, rup = names.index("Hips"), names.index("LeftUpLeg"), names.index("RightUpLeg")
    for i, yy in enumerate(ys):
        t = i / (rings - 1)
        band = legs & (np.abs(p[:, 1] - yy) < 0.025)
        q = p[band] if band.sum() > 8 else p[legs & (p[:, 1] < top_y + 0.05)]
        zf, zb = q[:, 2].max(), q[:, 2].min()
        zc = 0.5 * (zf + zb) if zc_top is None else zc_top
        zc_top = zc if zc_top is None else zc_top
        a = max(np.abs(q[:, 0]).max() + 0.02, a_prev) * (1 + flare * t)
        b = max(max(zf - zc, zc - zb) + 0.02, b_prev) * (1 + flare * t)
        a_prev, b_prev = a / (1 + flare * t), b / (1 + flare * t)
        for k, th in enumerate(ang):
            xx = a * np.sin(th)
            verts.append((xx, yy, zc + b * np.cos(th)))
            uv.append((k / segments, t))
            w = np.zeros(len(names), np.float32)
            side = 1.0 / (1.0 + np.exp(-xx / 0.04))
            w[hips] = 1.0 - 0.6 * t
            w[lup], w[rup] = 0.6 * t * side, 0.6 * t * (1 - side)
            wts.append(w)
    return _piece(verts, _grid_faces(rings, segments, wrap=True), uv, wts)


def cape(p: np.ndarray, lm: Landmarks, names: list[str], cols: int = 14, rows: int = 22) -> AttrMesh:
    """A sheet hanging from the shoulders' back to below the knees, off the back (and behind the buttocks),
    flaring toward the hem; weighted to the spine and hips only, so a stride does not tear it."""
    top, hem = lm.shoulder_y + 0.03, lm.knee_y - 0.08
    torso = np.abs(p[:, 0]) < lm.shoulder_x
    verts, uv, wts = [], [], []
    chain = [names.index(n) for n in ("Spine2", "Spine1", "Spine", "Hips")]
    back_prev = None
    for i in range(rows):
        t = i / (rows - 1)
        yy = top + (hem - top) * t
        band = torso & (np.abs(p[:, 1] - yy) < 0.04)
        back = p[band, 2].min() if band.any() else back_prev
        back = back if back_prev is None else min(back, back_prev + 0.01)  # hangs, never tucks in
        back_prev = back
        half = lm.shoulder_x * (0.85 + 0.45 * t)
        for k in range(cols):
            s = k / (cols - 1) * 2 - 1
            verts.append((half * s, yy, back - 0.035 - 0.06 * t - 0.02 * (1 - s * s)))
            uv.append((k / (cols - 1), t))
            w = np.zeros(len(names), np.float32)
            pos = t * (len(chain) - 1)
            lo = int(min(np.floor(pos), len(chain) - 2))
            w[chain[lo]], w[chain[lo + 1]] = 1 - (pos - lo), pos - lo
            wts.append(w)
    return _piece(verts, _grid_faces(rows, cols, wrap=False)[:, ::-1].copy(), uv, wts)


def lathe(profile: list[tuple[float, float]], center: np.ndarray, head: int, joints: int,
          segments: int = 36, spikes: int = 0) -> AttrMesh:
    """A surface of revolution about the vertical axis through ``center``: ``profile`` is (radius, height)
    pairs from the top down; ``spikes`` lifts the first ring into points (a crown). Weighted to ``head``."""
    verts, uv = [], []
    ang = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    for i, (r, h) in enumerate(profile):
        for k, th in enumerate(ang):
            lift = 0.035 * max(0.0, np.cos(spikes * th)) ** 6 if (spikes and i == 0) else 0.0
            verts.append((center[0] + r * np.sin(th), center[1] + h + lift, center[2] + r * np.cos(th)))
            uv.append((k / segments, i / max(1, len(profile) - 1)))
    f = _grid_faces(len(profile), segments, wrap=True)
    return _piece(verts, f, uv, _one_hot(len(verts), head, joints))


def hat(lm: Landmarks, head: int, joints: int) -> AttrMesh:
    r, top = lm.head_radius, lm.top_y - lm.head_center[1]
    brim = top - 0.045
    prof = [(0.001, top + 0.075), (0.7 * r, top + 0.072), (1.0 * r, top + 0.05), (1.04 * r, brim + 0.006),
            (1.9 * r, brim), (1.92 * r, brim - 0.008), (1.02 * r, brim - 0.004)]
    return lathe(prof, lm.head_center, head, joints)


def crown(lm: Landmarks, head: int, joints: int) -> AttrMesh:
    r, top = lm.head_radius, lm.top_y - lm.head_center[1]
    return lathe([(0.98 * r, top + 0.02), (0.98 * r, top - 0.045), (0.93 * r, top - 0.05)], lm.head_center,
                 head, joints, spikes=6)


def _back_of_head(p: np.ndarray, lm: Landmarks, y: float, half_width: float = 0.05) -> float:
    """The body's rearmost z near the mid-plane at height ``y`` (head, neck or upper back)."""
    band = (np.abs(p[:, 0]) < half_width) & (np.abs(p[:, 1] - y) < 0.015)
    return float(p[band, 2].min()) if band.any() else float(lm.head_center[2] - lm.head_radius)


def _outward(v: np.ndarray, f: np.ndarray, axis_points: np.ndarray) -> np.ndarray:
    """``f`` with every triangle wound counter-clockwise seen from outside: away from ``axis_points``
    Float[V, 3] (the point of the piece's axis each vertex was built around)."""
    n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    inward = (n * (v[f].mean(1) - axis_points[f].mean(1))).sum(1) < 0
    f = f.copy()
    f[inward] = f[inward][:, ::-1]
    return f


def bun(p: np.ndarray, lm: Landmarks, head: int, joints: int, rings: int = 12, segments: int = 24) -> AttrMesh:
    """A bun at the back of the head, just below the crown (clear of a hat's brim): an ellipsoid sunk a
    little into the hair, weighted to the head."""
    k = lm.head_radius / 0.075  # a child's head is smaller
    rx, ry, rz = 0.042 * k, 0.038 * k, 0.034 * k
    yc = float(lm.head_center[1]) + 0.01 * k
    c = np.array([0.0, yc, _back_of_head(p, lm, yc) - 0.6 * rz])
    verts, uv = [c + (0.0, 0.0, -rz)], [(0.5, 0.0)]  # the back pole, the latitude rings, the front pole
    for i in range(1, rings):
        phi = np.pi * i / rings  # 0 at the back pole, pi at the front (inside the hair)
        for j in range(segments):
            th = 2 * np.pi * j / segments
            verts.append(c + (rx * np.sin(phi) * np.cos(th), ry * np.sin(phi) * np.sin(th), -rz * np.cos(phi)))
            uv.append((j / segments, i / rings))
    verts.append(c + (0.0, 0.0, rz))
    uv.append((0.5, 1.0))
    v = np.asarray(verts)
    last, ring = len(v) - 1, np.arange(segments)
    f = np.concatenate([np.stack([np.zeros(segments, np.int64), 1 + ring, 1 + (ring + 1) % segments], 1),
                        1 + _grid_faces(rings - 1, segments, wrap=True),
                        np.stack([np.full(segments, last), last - segments + (ring + 1) % segments,
                                  last - segments + ring], 1)])
    f = _outward(v, f, np.broadcast_to(c, v.shape))
    return _piece(v, f, uv, _one_hot(len(v), head, joints))


def ponytail(p: np.ndarray, lm: Landmarks, head: int, joints: int, rings: int = 18, segments: int = 16
             ) -> AttrMesh:
    """A ponytail tied at the back of the head and hanging behind the neck to between the shoulder blades:
    a tube, thick below the tie and tapering to a closed tip, that never tucks in toward the body. Weighted
    to the head; ``nerf.body.springs`` gives it a chain of its own."""
    k = lm.head_radius / 0.075
    top = float(lm.head_center[1]) + 0.02 * k
    tip = lm.shoulder_y - 0.08 * k
    z_tie = _back_of_head(p, lm, top) + 0.004
    verts, uv, axis = [], [], []
    zc_prev = z_tie
    for i in range(rings):
        t = i / (rings - 1)
        yy = top + (tip - top) * t
        r = float(np.interp(t, (0.0, 0.06, 0.3, 0.85, 1.0), (0.014, 0.024, 0.028, 0.012, 0.003))) * k
        out = z_tie - 0.03 * min(1.0, 5 * t)  # out from under the tie, then falling
        zc = min(zc_prev, out, _back_of_head(p, lm, yy, 0.08) - r - 0.012) if i else z_tie
        zc_prev = zc
        for j in range(segments):
            th = 2 * np.pi * j / segments
            verts.append((r * np.sin(th), yy, zc + 0.85 * r * np.cos(th)))
            uv.append((j / segments, t))
            axis.append((0.0, yy, zc))
    verts.append((0.0, tip - 0.004 * k, zc))  # a closed tip (the top end is inside the hair)
    uv.append((0.5, 1.0))
    axis.append((0.0, tip + 0.01, zc))
    v, ax = np.asarray(verts), np.asarray(axis)
    last, ring = len(v) - 1, np.arange(segments)
    f = np.concatenate([_grid_faces(rings, segments, wrap=True),
                        np.stack([np.full(segments, last), last - segments + ring,
                                  last - segments + (ring + 1) % segments], 1)])
    f = _outward(v, f, ax)
    return _piece(v, f, uv, _one_hot(len(v), head, joints))


def backpack(p: np.ndarray, lm: Landmarks, spine: int, joints: int) -> AttrMesh:
    """A box on the upper back, weighted to the upper spine."""
    yc = 0.5 * (lm.shoulder_y + lm.hip_y) + 0.05
    band = (np.abs(p[:, 0]) < lm.shoulder_x) & (np.abs(p[:, 1] - yc) < 0.15)
    back = p[band, 2].min() if band.any() else -0.12
    hx, hy, hz = 0.15, 0.19, 0.07
    c = np.array([0.0, yc, back - hz - 0.015])
    corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], np.float64)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    verts, uv, faces = [], [], []
    for qi, q in enumerate(quads):  # 4 vertices per face: flat normals
        base = len(verts)
        for k, ci in enumerate(q):
            verts.append(c + corners[ci] * (hx, hy, hz))
            uv.append(((qi % 3 + (k in (1, 2))) / 3, (qi // 3 + (k in (2, 3))) / 2))
        faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    v, f = np.asarray(verts), np.asarray(faces, np.int64)
    out = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    inward = (out * (v[f].mean(1) - c)).sum(1) < 0
    f[inward] = f[inward][:, ::-1]  # every face counter-clockwise seen from outside
    return _piece(v, f, uv, _one_hot(len(verts), spine, joints))
