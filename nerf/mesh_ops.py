"""Triangle-mesh clean-up used by extraction and LODs: duplicate/degenerate faces, decimation
to a budget, non-manifold repair and outward orientation. Arrays are numpy (float64 vertices,
int64 faces) and every function returns new arrays.
"""
from __future__ import annotations

import numpy as np

MIN_AREA = 1e-12
"""Faces below this area (m²) count as degenerate."""


def clean_mesh(verts: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop faces with a repeated index, duplicate faces and unused vertices.

    Faces on the same three vertices are duplicates: same-winding copies collapse to one, and
    oppositely wound pairs (zero-volume fins that decimation leaves) are removed together.
    """
    f = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
    _, inv, counts = np.unique(np.sort(f, axis=1), axis=0, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    keep = counts[inv] == 1
    dup = np.flatnonzero(~keep)
    if len(dup):
        # winding parity: +1 when the face is an even rotation of its sorted vertex triple
        r = np.argmin(f[dup], axis=1)
        rolled = f[dup][np.arange(len(dup))[:, None], (r[:, None] + np.arange(3)) % 3]
        parity = np.where(rolled[:, 1] < rolled[:, 2], 1, -1)
        net = np.zeros(len(counts), np.int64)
        np.add.at(net, inv[dup], parity)
        first = {}
        for i, fi in enumerate(dup):  # keep one face of the majority winding, none if balanced
            g = inv[fi]
            if net[g] != 0 and g not in first and np.sign(net[g]) == parity[i]:
                first[g] = fi
        keep[list(first.values())] = True
    f = f[keep]
    used, inv_v = np.unique(f, return_inverse=True)
    return verts[used], inv_v.reshape(-1, 3).astype(np.int64)


def face_areas(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = verts[faces]
    return 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)


def mesh_defects(verts: np.ndarray, faces: np.ndarray) -> int:
    """Count of open or non-manifold edges, inconsistently wound edges and zero-area faces."""
    e = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    _, counts = np.unique(e, axis=0, return_counts=True)
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    n_dup_directed = len(directed) - len(np.unique(directed, axis=0))
    return int((counts != 2).sum() + n_dup_directed + (face_areas(verts, faces) < MIN_AREA).sum())


def split_nonmanifold(verts: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Duplicate vertices where surface sheets touch, so an edge shared by 4 faces becomes two edges.

    Corners (face, vertex) are joined across edges that have exactly two faces; every connected
    group of corners around a vertex becomes its own vertex (same position).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nf = len(faces)
    corner = np.arange(3 * nf).reshape(nf, 3)
    k0 = np.repeat([[0, 1, 2]], nf, 0).reshape(-1)
    k1 = np.repeat([[1, 2, 0]], nf, 0).reshape(-1)
    fid = np.repeat(np.arange(nf), 3)
    e = np.sort(np.stack([faces[fid, k0], faces[fid, k1]], 1), axis=1)
    _, inv, counts = np.unique(e, axis=0, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    ok = counts[inv] == 2
    order = np.argsort(inv[ok], kind="stable")
    ids = np.flatnonzero(ok)[order]  # half-edges of manifold edges, pairs adjacent
    h1, h2 = ids[0::2], ids[1::2]
    rows, cols = [], []
    for ha, hb in ((h1, h2), (h2, h1)):
        for k in (k0, k1):  # the corner of each end vertex in both faces
            va = faces[fid[ha], k[ha]]
            kb = np.where(faces[fid[hb], k0[hb]] == va, k0[hb], k1[hb])
            rows.append(corner[fid[ha], k[ha]])
            cols.append(corner[fid[hb], kb])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r)), (r, c)), shape=(3 * nf, 3 * nf))
    _, label = connected_components(graph, directed=False)
    vert_of = faces.reshape(-1)
    uniq, first = np.unique(label, return_index=True)
    new_vert = np.searchsorted(uniq, label)
    return verts[vert_of[first]], new_vert.reshape(nf, 3).astype(np.int64)


def decimate(verts: np.ndarray, faces: np.ndarray, triangles: int) -> tuple[np.ndarray, np.ndarray]:
    """Reach ``triangles`` faces with quadric decimation (fast-simplification).

    A mesh with at least ``triangles`` faces is decimated directly; a smaller one (or one whose
    decimation is not clean) is Loop-subdivided to twice the budget first, which also smooths
    marching-cubes terracing. Several source/target variants are tried and the first closed,
    manifold, degenerate-free result wins (else the one with the fewest defects).
    """
    import fast_simplification
    import trimesh

    if triangles < 100:
        raise ValueError(f"triangle budget {triangles} is too small; use at least 100")

    def loop(v, f, at_least):
        while len(f) < at_least:
            v, f = trimesh.remesh.subdivide_loop(v, f)
        return v, f

    # sources, tried lazily: the marching-cubes mesh itself when it has enough faces, else (and
    # as the fallback) a Loop-subdivided copy with at least twice the budget
    sources = [lambda: loop(verts, faces, 2 * triangles)]
    if len(faces) >= triangles:
        sources.insert(0, lambda: (verts, faces))
        sources[1] = lambda: loop(verts, faces, max(2 * triangles, len(faces) + 1))
    best, best_defects = None, None
    for source in sources:
        sv, sf = source()
        for target in (triangles, triangles - 2, triangles + 2):
            v, f = sv, sf
            if len(sf) > target:
                v, f = fast_simplification.simplify(np.asarray(sv, np.float64), np.asarray(sf, np.int32),
                                                    target_count=int(target))
            v, f = clean_mesh(np.asarray(v, np.float64), np.asarray(f, np.int64))
            defects = mesh_defects(v, f)
            if defects:
                v, f = split_nonmanifold(v, f)
                defects = mesh_defects(v, f)
            if best_defects is None or defects < best_defects:
                best, best_defects = (v, f), defects
            if defects == 0:
                return best
    return best


def make_watertight(verts: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Orient every part outward and close holes if needed; returns (verts, faces, watertight)."""
    import trimesh

    bad = face_areas(verts, faces) < MIN_AREA
    if bad.any():  # a last resort: decimate() avoids zero-area faces where it can
        verts, faces = clean_mesh(verts, faces[~bad])
    m = trimesh.Trimesh(verts, faces, process=False)
    if not m.is_watertight:
        m.merge_vertices()
        trimesh.repair.fill_holes(m)
    parts = m.split(only_watertight=False) if m.body_count > 1 else [m]
    fixed = []
    for p in parts:
        trimesh.repair.fix_winding(p)
        if p.is_watertight and p.volume < 0:
            p.invert()
        fixed.append(p)
    m = trimesh.util.concatenate(fixed) if len(fixed) > 1 else fixed[0]
    v, f = clean_mesh(np.asarray(m.vertices), np.asarray(m.faces))
    return v, f, bool(trimesh.Trimesh(v, f, process=False).is_watertight)
