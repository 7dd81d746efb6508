"""A dressed body: anny's T-posed human with its outfit fitted on, as one mesh of separate pieces.

``dress`` takes a body (``nerf.body.BodyModel.forward``), an outfit (``nerf.template.Layout``) and the
region colours, cuts and offsets the shells, builds the procedural pieces, removes the body triangles the
shells hide, and lays every piece into one texture atlas: the body (anny's UV layout) in the top-left
quarter, each other piece in a tile of its own. The pieces keep the body's skin weights (dense here; the
exporter keeps the four largest), so one skeleton with fingers moves them all.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from nerf.artifacts import REGIONS, Counted, Skeleton
from nerf.body.cut import AttrMesh, clip, concat, vertex_normals
from nerf.body.face import dressed_morphs
from nerf.body.garments import HIDES_HAIR, TUBES, backpack, bun, cape, crown, hat, ponytail, shell_fields, tube
from nerf.body.landmarks import Landmarks, measure
from nerf.body.springs import add_springs

HIDDEN_MARGIN = 0.004
"""A body triangle is hidden by a shell when its three corners are this far (metres of field) inside it."""
TILE_INSET = 0.01
"""Fraction of a tile left empty on each side, so bilinear filtering never reads a neighbour."""


@dataclass
class Piece:
    """One garment (or the body) of a :class:`DressedBody`."""

    name: str
    region: str
    """Its texture region (``nerf.artifacts.REGIONS``): the material it is drawn with."""
    double_sided: bool = False
    """A sheet seen from both sides (capes, skirts, brims)."""
    tile: tuple[float, float, float] = (0.0, 0.0, 1.0)
    """(u0, v0, size) of its square in the atlas; its UVs lie inside, ``TILE_INSET`` from the edges."""


@dataclass
class DressedBody(Counted):
    """The body and its outfit in the rest pose, glTF axes (Y up, metres, facing +Z, feet on y = 0)."""

    vertices: np.ndarray
    """float32 [V, 3]."""
    faces: np.ndarray
    """int32 [F, 3] counter-clockwise seen from outside."""
    normals: np.ndarray
    """float32 [V, 3] unit."""
    uvs: np.ndarray
    """float32 [V, 2] atlas coordinates in [0, 1] (glTF: v down)."""
    weights: np.ndarray
    """float32 [V, J] dense skin weights over ``skeleton.names``, summing to 1."""
    vertex_pieces: np.ndarray
    """int32 [V] index into ``pieces``."""
    pieces: list[Piece]
    skeleton: Skeleton
    landmarks: Landmarks
    source_vertex: np.ndarray
    """int64 [V] welded-vertex id (UV-seam copies share it; each piece has its own ids)."""
    body_vertex: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """int64 [V] the anny vertex each vertex was made from (its own for the body, the one under it for a
    shell, the nearer end of the cut edge for a cut vertex; -1 for procedural pieces)."""
    morphs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), np.float32))
    """float32 [52, V, 3] each ARKit facial action's displacement at weight 1 (``nerf.body.face``), carried
    from the body vertex each vertex was made from (zero on procedural pieces); [0, V, 3] without a face."""
    meta: dict = field(default_factory=dict)

    @property
    def vertex_regions(self) -> np.ndarray:
        """int32 [V] region id of each vertex (its piece's)."""
        reg = np.array([REGIONS.index(p.region) for p in self.pieces], np.int32)
        return reg[self.vertex_pieces]

    @property
    def face_pieces(self) -> np.ndarray:
        """int32 [F] piece of each triangle."""
        return self.vertex_pieces[self.faces[:, 0]]


def split_body(body) -> tuple[AttrMesh, np.ndarray]:
    """anny's body as an :class:`AttrMesh` cut along its UV seams (one vertex per distinct position and UV),
    and Int[V'] the body vertex of each."""
    v = body.vertices.detach().cpu().numpy().astype(np.float32)
    f = body.faces.cpu().numpy().astype(np.int64)
    fuv = body.face_uvs.cpu().numpy().astype(np.int64)
    uv = body.uvs.detach().cpu().numpy().astype(np.float32)
    keys = np.stack([f.reshape(-1), fuv.reshape(-1)], 1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    vid = uniq[:, 0]
    nrm = vertex_normals(v, f)
    dense = dense_weights(body)
    uv_gltf = np.stack([uv[uniq[:, 1], 0], 1.0 - uv[uniq[:, 1], 1]], 1)
    return AttrMesh(v[vid], inv.reshape(-1, 3), nrm[vid], uv_gltf.astype(np.float32), dense[vid], vid), vid


def dense_weights(body) -> np.ndarray:
    """Float[V, J] the body's top-4 skin weights as a dense matrix (unused slots add nothing)."""
    sj, sw = body.skin_joints.cpu().numpy(), body.skin_weights.cpu().numpy()
    dense = np.zeros((len(sj), len(body.joint_names)), np.float32)
    for k in range(sj.shape[1]):
        np.add.at(dense, (np.arange(len(sj)), sj[:, k]), sw[:, k])
    return dense


def _tiles(n: int) -> list[tuple[float, float, float]]:
    """(u0, v0, size): the body's quarter first, then 1/16 tiles around it, then smaller ones if needed."""
    out = [(0.0, 0.0, 0.5)]
    grid = [(c, r) for r in range(4) for c in range(4) if not (c < 2 and r < 2)]
    out += [(c * 0.25, r * 0.25, 0.25) for c, r in grid]
    while len(out) < n:  # more pieces than tiles: split the last tile in four
        u0, v0, s = out.pop()
        out += [(u0 + du * s / 2, v0 + dv * s / 2, s / 2) for dv in (0, 1) for du in (0, 1)]
    return out[:n]


def eye_uvs(vertices: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Float[V, 2] of eyeball vertices: an azimuthal projection about each eye's forward axis (+Z), so
    the iris is a disk around the tile's centre, angle from the axis proportional to the radius."""
    c = centers[np.argmin(np.linalg.norm(vertices[:, None] - centers[None], axis=2), axis=1)]
    d = vertices - c
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    theta = np.arccos(np.clip(d[:, 2], -1, 1)) / np.pi  # 0 forward .. 1 backward
    phi = np.arctan2(d[:, 1], d[:, 0])
    return (0.5 + 0.5 * theta[:, None] * np.stack([np.cos(phi), -np.sin(phi)], 1)).astype(np.float32)


def dress(body, layout) -> DressedBody:
    """``body`` (a T-posed ``nerf.body.Body``) wearing ``layout`` (a ``nerf.template.Layout``)."""
    base, vid = split_body(body)
    names = list(body.joint_names)
    joints = {n: body.joints[i].detach().cpu().numpy() for i, n in enumerate(names)}
    welded_v = body.vertices.detach().cpu().numpy()
    dense = dense_weights(body)
    lm, nonbody, eye_mask = measure(welded_v, body.faces.cpu().numpy(), joints, dense, names)
    arm_joints = [i for i, n in enumerate(names) if any(k in n for k in ("Arm", "Hand", "Shoulder"))]
    arms = dense[:, arm_joints].sum(1) > 0.5
    shells = shell_fields(layout, welded_v, lm, nonbody, arms)
    pieces: list[tuple[Piece, AttrMesh]] = []
    hidden = np.zeros(len(base.faces), bool)
    for s in shells:
        f = s.field[vid]
        if s.hides_body:
            hidden |= (f[base.faces] > HIDDEN_MARGIN).all(1)
        cut = clip(base, f)
        if len(cut.faces):
            pieces.append((Piece(s.name, s.region), cut.offset(s.thickness)))
    is_eye = eye_mask[vid][base.faces].all(1)
    body_piece = base.subset(base.faces[~hidden & ~is_eye])
    pieces.insert(0, (Piece("body", "skin"), body_piece))
    if is_eye.any():
        eyes = base.subset(base.faces[is_eye])
        pieces.insert(1, (Piece("eyes", "skin"), replace(eyes, uvs=eye_uvs(eyes.vertices, lm.eye_centers))))
    n_j, head = len(names), names.index("Head")
    p = welded_v
    if layout.upper in TUBES or layout.lower in TUBES:
        kind = layout.upper if layout.upper in TUBES else layout.lower
        hem = {"robe": lm.ankle_y + 0.03, "dress": lm.knee_y - 0.12, "skirt": lm.knee_y - 0.02}[kind]
        flare = {"robe": 0.35, "dress": 0.3, "skirt": 0.25}[kind]
        pieces.append((Piece(kind, "upper" if kind != "skirt" else "lower", double_sided=True),
                       tube(p[~nonbody], lm, lm.hip_y + 0.07, hem, flare, names)))
    if layout.hair in ("bun", "ponytail") and layout.headwear not in HIDES_HAIR:
        make = bun if layout.hair == "bun" else ponytail
        pieces.append((Piece(layout.hair, "hair"), make(p[~nonbody], lm, head, n_j)))
    if layout.headwear == "hat":
        pieces.append((Piece("hat", "headwear", double_sided=True), hat(lm, head, n_j)))
    elif layout.headwear == "crown":
        pieces.append((Piece("crown", "headwear", double_sided=True), crown(lm, head, n_j)))
    if "cape" in layout.accessories:
        pieces.append((Piece("cape", "accessory", double_sided=True), cape(p[~nonbody], lm, names)))
    if "backpack" in layout.accessories:
        pieces.append((Piece("backpack", "accessory"), backpack(p[~nonbody], lm, names.index("Spine2"), n_j)))
    tiles = _tiles(len(pieces))
    meshes, piece_ids, sources = [], [], []
    next_id = len(welded_v)
    for i, ((piece, m), (u0, v0, size)) in enumerate(zip(pieces, tiles)):
        piece.tile = (u0, v0, size)
        if piece.name == "eyes":  # its projection is laid out for its tile already
            uv = m.uvs
        elif i > 0:  # a garment's UVs fill its own tile
            lo, hi = m.uvs.min(0), m.uvs.max(0)
            uv = (m.uvs - lo) / np.maximum(hi - lo, 1e-6)
        else:
            uv = m.uvs
        inner = size * (1 - 2 * TILE_INSET)
        m = AttrMesh(m.vertices, m.faces, m.normals, (np.array([u0, v0]) + size * TILE_INSET + uv * inner)
                     .astype(np.float32), m.weights, m.source)
        meshes.append(m)
        piece_ids.append(np.full(m.n_vertices, i, np.int32))
        if i == 0:
            sources.append(m.source)
        else:  # a piece welds by position (its UV-seam copies), never to the body
            _, local = np.unique(np.round(m.vertices.astype(np.float64) / 1e-6).astype(np.int64), axis=0,
                                 return_inverse=True)
            sources.append(local.reshape(-1) + next_id)
            next_id += int(local.max()) + 1 if m.n_vertices else 0
    allm = concat(meshes)
    pos = np.stack([joints[n] for n in names]).astype(np.float32)
    vertex_pieces = np.concatenate(piece_ids)
    hanging = {i: pc.name for i, (pc, _) in enumerate(pieces)  # a tube, not a dress's fitted bodice
               if pc.name in ("long hair", "ponytail", "cape") or (pc.name in TUBES and pc.double_sided)}
    names, parents, pos, w, springs, colliders = add_springs(
        allm.vertices, allm.weights, vertex_pieces, hanging, names,
        list(body.joint_parents), pos, lm, welded_v, dense)
    skel = Skeleton(names=names, parents=parents, positions=pos, rest_pose=body.rest_pose, springs=springs,
                    colliders=colliders)
    body_vertex = allm.source.copy()
    morphs = (dressed_morphs(body.facial.detach().cpu().numpy(), body_vertex) if body.facial is not None
              else np.zeros((0, len(body_vertex), 3), np.float32))
    return DressedBody(vertices=allm.vertices.astype(np.float32), faces=allm.faces.astype(np.int32),
                       normals=allm.normals, uvs=allm.uvs, weights=w.astype(np.float32),
                       vertex_pieces=vertex_pieces, pieces=[pc for pc, _ in pieces], skeleton=skel,
                       landmarks=lm, source_vertex=np.concatenate(sources), body_vertex=body_vertex, morphs=morphs,
                       meta={"hidden_body_triangles": int(hidden.sum()),
                             "pieces": {pc.name: int(m.n_vertices) for (pc, _), m in zip(pieces, meshes)}})


def follow_field(dressed: DressedBody, field, chunk: int = 65536) -> DressedBody:
    """``dressed`` with every vertex moved onto the refined field's surface: the field's SDF is the dressed
    body's plus a bounded residual, so a vertex moves along its normal by minus the residual there (the
    topology, UVs and skin weights stay). ``field`` is a ``nerf.fields.TemplateField`` whose prior is
    ``dressed``'s surface."""
    import torch

    v = torch.from_numpy(dressed.vertices).to(field.prior.lo.device)
    offs = []
    with torch.no_grad():
        for i in range(0, len(v), chunk):
            u = field.normalize(v[i:i + chunk])
            offs.append(field.offset(field.residual(u)[:, 0]).float().cpu())
    off = torch.cat(offs).numpy() if offs else np.zeros(0, np.float32)
    moved = dressed.vertices - dressed.normals * off[:, None]
    return replace(dressed, vertices=moved.astype(np.float32),
                   meta=dict(dressed.meta, refined_offset_max_m=float(np.abs(off).max()) if len(off) else 0.0))
