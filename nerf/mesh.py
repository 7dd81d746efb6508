"""Mesh extraction: a density field becomes a clean, watertight, game-budget triangle mesh.

``extract_mesh`` samples ``query`` on a regular grid (chunked), runs marching cubes at a
density level, drops floaters, decimates to a triangle budget with fast-simplification,
removes degenerate/duplicate faces, orients every part outward, puts the feet on y = 0
and finally samples colours and regions at the final vertices.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from nerf.artifacts import REGIONS, MeshArtifact, Skeleton

#: ``query(points Float[N, 3]) -> {"density": Float[N], "rgb": Float[N, 3], "region": Long[N]}``
QueryFn = Callable[[Tensor], dict]
MIN_AREA = 1e-12
"""Faces below this area (m²) count as degenerate."""


@dataclass
class MeshConfig:
    """How a density field is turned into a game-ready triangle mesh."""

    resolution: int = 128
    """Grid samples along the longest side of the box (voxels are cubes)."""
    level: float | None = None
    """Density iso-level. None: half the 99.9th percentile of the sampled density, which is the
    zero level set for saturating densities such as sigmoid(-sdf/beta)/beta."""
    triangles: int = 20000
    """Triangle budget of the result (decimated, or subdivided first when marching cubes gives
    fewer); the result lands within a few triangles of it."""
    min_component_fraction: float = 0.02
    """Connected parts with less than this fraction of the largest part's area are dropped."""
    chunk: int = 65536
    """Points per ``query`` call."""
    ground: bool = True
    """Translate mesh and skeleton so that the lowest vertex lies on y = 0."""


def template_query(params, beta: float = 0.008) -> QueryFn:
    """The query function of the humanoid template: density = sigmoid(-sdf/beta)/beta.

    ``params`` is a :class:`nerf.template.TemplateParams`.
    """
    from nerf import template as T

    prims = {k: v.detach() for k, v in T.primitives(params).items()}

    def query(x: Tensor) -> dict:
        with torch.no_grad():
            d = T.primitive_distances(x, prims)
            s = -T.SMOOTH_K * torch.logsumexp(-d / T.SMOOTH_K, dim=-1)
            # colours and soft regions only near the surface (grids are mostly empty space)
            rgb = torch.zeros(x.shape[0], 3)
            region = prims["region"][d.argmin(-1)]
            near = s.abs() < 0.03
            if near.any():
                dn = d[near]
                rgb[near] = T.albedo(x[near], dn, params, prims).float()
                region[near] = T.region_weights(dn, prims["region"]).argmax(-1)
            return {"density": torch.sigmoid(-s / beta) / beta, "rgb": rgb, "region": region}

    return query


def _run_query(query: QueryFn, pts: np.ndarray, chunk: int, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    out: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for i in range(0, len(pts), chunk):
        res = query(torch.from_numpy(np.ascontiguousarray(pts[i:i + chunk], dtype=np.float32)))
        for k in keys:
            if k not in res:
                raise KeyError(f"query result lacks {k!r}; it returned keys {sorted(res)}")
            out[k].append(torch.as_tensor(res[k]).detach().cpu().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def _sample_grid(query: QueryFn, lo: np.ndarray, hi: np.ndarray, cfg: MeshConfig):
    vox = float((hi - lo).max()) / (cfg.resolution - 1)
    n = np.ceil((hi - lo) / vox).astype(int) + 1
    axes = [lo[i] + vox * np.arange(n[i], dtype=np.float64) for i in range(3)]
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    dens = _run_query(query, pts, cfg.chunk, ("density",))["density"].reshape(*n)
    return dens.astype(np.float32), vox


def _components(faces: np.ndarray, verts: np.ndarray, min_fraction: float) -> np.ndarray:
    """Faces of the connected parts whose area is at least ``min_fraction`` of the largest."""
    import trimesh

    m = trimesh.Trimesh(verts, faces, process=False)
    labels = trimesh.graph.connected_component_labels(m.face_adjacency, node_count=len(faces))
    area = np.bincount(labels, weights=m.area_faces)
    keep = np.flatnonzero(area >= min_fraction * area.max())
    return faces[np.isin(labels, keep)]


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


def extract_mesh(query: QueryFn, lo, hi, skeleton: Skeleton, config: MeshConfig | None = None) -> MeshArtifact:
    """Extract a game-ready mesh of the density field ``query`` inside the box ``lo``..``hi`` (metres).

    ``lo``/``hi`` are Float[3] (tensor or array). The skeleton is carried along (shifted
    with the mesh when ``config.ground``). Raises ``ValueError`` when the box or level is unusable.
    """
    from skimage import measure

    cfg = config or MeshConfig()
    lo_, hi_ = (np.asarray(torch.as_tensor(b, dtype=torch.float64).cpu(), dtype=np.float64) for b in (lo, hi))
    if lo_.shape != (3,) or hi_.shape != (3,) or not np.all(hi_ > lo_):
        raise ValueError(f"box lo={lo_.tolist()} hi={hi_.tolist()} must be two 3-vectors with hi > lo")
    if cfg.resolution < 8:
        raise ValueError(f"MeshConfig.resolution={cfg.resolution} is too small; use 8 or more (default 128)")
    dens, vox = _sample_grid(query, lo_, hi_, cfg)
    level = cfg.level if cfg.level is not None else 0.5 * float(np.quantile(dens, 0.999))
    if not dens.min() < level < dens.max():
        raise ValueError(f"density level {level:g} is outside the sampled density range "
                         f"[{dens.min():g}, {dens.max():g}]; set MeshConfig.level inside it")
    grid = np.pad(dens, 1, constant_values=min(float(dens.min()), 0.0))  # closes parts cut by the box
    v, f, _, _ = measure.marching_cubes(grid, level, spacing=(vox,) * 3, gradient_direction="ascent")
    v = v.astype(np.float64) + (lo_ - vox)
    n_mc = len(f)
    v, f = clean_mesh(v, f.astype(np.int64))
    v, f = clean_mesh(v, _components(f, v, cfg.min_component_fraction))
    v, f = decimate(v, f, cfg.triangles)
    v, f, watertight = make_watertight(v, f)
    offset = np.zeros(3)
    if cfg.ground:
        offset[1] = -v[:, 1].min()
    samples = _run_query(query, v, cfg.chunk, ("rgb", "region"))  # field coordinates, before grounding
    regions = samples["region"].astype(np.int32)
    if regions.min() < 0 or regions.max() >= len(REGIONS):
        raise ValueError(f"query returned region ids outside 0..{len(REGIONS) - 1}")
    skel = Skeleton(names=list(skeleton.names), parents=list(skeleton.parents),
                    positions=(np.asarray(skeleton.positions) + offset).astype(np.float32),
                    rest_pose=skeleton.rest_pose)
    meta = {"resolution": cfg.resolution, "voxel_m": vox, "level": level, "marching_cubes_triangles": n_mc,
            "triangles": int(len(f)), "watertight": watertight, "ground_offset": offset.tolist()}
    return MeshArtifact(vertices=(v + offset).astype(np.float32), faces=f.astype(np.int32),
                        vertex_colors=np.clip(samples["rgb"], 0.0, 1.0).astype(np.float32),
                        vertex_regions=regions, skeleton=skel, meta=meta)
