"""Sub-meshes of the body cut along smooth per-vertex fields, with every vertex attribute carried along.

A garment is the part of the body where a field ``f`` (metres, positive inside) is >= 0: triangles wholly
inside are kept, triangles the zero level crosses are clipped at it (their new vertices interpolate
position, normal, UV and skin weights along the crossed edge), so a hem or a neckline is a smooth line
and not the body's triangle edges. Two triangles sharing an edge (across a UV seam too) clip it at the
same point, so the cut stays watertight.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass
class AttrMesh:
    """A triangle mesh whose vertices carry everything a garment needs from the body."""

    vertices: np.ndarray
    """float32 [V, 3] positions (glTF axes, metres)."""
    faces: np.ndarray
    """int64 [F, 3] counter-clockwise seen from outside."""
    normals: np.ndarray
    """float32 [V, 3] unit normals (the welded body's: equal on both sides of a UV seam)."""
    uvs: np.ndarray
    """float32 [V, 2] texture coordinates in [0, 1] of the piece's own tile (glTF: v down)."""
    weights: np.ndarray
    """float32 [V, J] dense skin weights summing to 1."""
    source: np.ndarray
    """int64 [V] the body vertex each vertex came from (the nearer end for a cut vertex; -1 procedural)."""

    @property
    def n_vertices(self) -> int:
        return int(len(self.vertices))

    def subset(self, faces: np.ndarray) -> "AttrMesh":
        """The vertices ``faces`` use, re-indexed."""
        used, inv = np.unique(faces.reshape(-1), return_inverse=True)
        return AttrMesh(self.vertices[used], inv.reshape(-1, 3), self.normals[used], self.uvs[used],
                        self.weights[used], self.source[used])

    def offset(self, thickness: np.ndarray | float) -> "AttrMesh":
        """The surface moved ``thickness`` metres (scalar or [V]) along its normals."""
        t = np.broadcast_to(np.asarray(thickness, np.float32), (self.n_vertices,))
        return replace(self, vertices=(self.vertices + self.normals * t[:, None]).astype(np.float32))


def clip(mesh: AttrMesh, f: np.ndarray) -> AttrMesh:
    """The part of ``mesh`` where the per-vertex field ``f`` Float[V] is >= 0, clipped along its zero level."""
    f = np.asarray(f, np.float64)
    inside = f[mesh.faces] >= 0  # [F, 3]
    n_in = inside.sum(1)
    keep = mesh.faces[n_in == 3]
    cross = mesh.faces[(n_in == 1) | (n_in == 2)]
    if not len(cross):
        return mesh.subset(keep) if len(keep) else _empty(mesh)
    new_attrs: list[tuple[int, int, float]] = []  # (a, b, t): vertex at a + t (b - a)
    edge_index: dict[tuple[int, int], int] = {}
    base = mesh.n_vertices

    def cut_vertex(a: int, b: int) -> int:
        key = (a, b) if a < b else (b, a)
        if key not in edge_index:
            fa, fb = f[key[0]], f[key[1]]
            t = float(np.clip(fa / (fa - fb), 0.0, 1.0)) if fa != fb else 0.5
            edge_index[key] = base + len(new_attrs)
            new_attrs.append((key[0], key[1], t))
        return edge_index[key]

    tris = [keep]
    extra = []
    for tri in cross:
        ins = f[tri] >= 0
        # rotate so the odd vertex (the single inside, or the single outside one) is first
        odd = int(np.flatnonzero(ins == (ins.sum() == 1))[0])
        a, b, c = tri[odd], tri[(odd + 1) % 3], tri[(odd + 2) % 3]
        ab, ac = cut_vertex(a, b), cut_vertex(a, c)
        if ins.sum() == 1:  # only a inside: one triangle
            extra.append((a, ab, ac))
        else:  # a outside: the quad b, c, ac, ab
            extra += [(ab, b, c), (ab, c, ac)]
    tris.append(np.asarray(extra, np.int64).reshape(-1, 3))
    a_idx = np.array([e[0] for e in new_attrs], np.int64)
    b_idx = np.array([e[1] for e in new_attrs], np.int64)
    t = np.array([e[2] for e in new_attrs], np.float32)[:, None]

    def lerp(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, (x[a_idx] * (1 - t) + x[b_idx] * t).astype(x.dtype)])

    nrm = lerp(mesh.normals)
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    src = np.concatenate([mesh.source, np.where(t[:, 0] < 0.5, mesh.source[a_idx], mesh.source[b_idx])])
    grown = AttrMesh(lerp(mesh.vertices), np.concatenate(tris), nrm.astype(np.float32), lerp(mesh.uvs),
                     lerp(mesh.weights), src)
    return grown.subset(grown.faces)


def _empty(mesh: AttrMesh) -> AttrMesh:
    return AttrMesh(mesh.vertices[:0], mesh.faces[:0], mesh.normals[:0], mesh.uvs[:0], mesh.weights[:0],
                    mesh.source[:0])


def concat(meshes: list[AttrMesh]) -> AttrMesh:
    """One mesh holding all of ``meshes`` (faces re-indexed)."""
    offs = np.cumsum([0] + [m.n_vertices for m in meshes[:-1]])
    return AttrMesh(np.concatenate([m.vertices for m in meshes]),
                    np.concatenate([m.faces + o for m, o in zip(meshes, offs)]),
                    np.concatenate([m.normals for m in meshes]), np.concatenate([m.uvs for m in meshes]),
                    np.concatenate([m.weights for m in meshes]), np.concatenate([m.source for m in meshes]))


def vertex_normals(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """float32 [V, 3] area-weighted unit vertex normals of a counter-clockwise mesh."""
    fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]).astype(np.float64)
    n = np.zeros((len(v), 3))
    for k in range(3):
        np.add.at(n, f[:, k], fn)
    return (n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)).astype(np.float32)
