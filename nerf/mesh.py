"""Mesh extraction: a density field becomes a clean, watertight, game-budget triangle mesh.

``extract_mesh`` samples ``query`` on a regular grid (chunked), runs marching cubes at a
density level, drops floaters, decimates to a triangle budget with fast-simplification,
removes degenerate/duplicate faces, orients every part outward, puts the feet on y = 0
and finally samples colours and regions at the final vertices.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from nerf.artifacts import REGIONS, MeshArtifact, Skeleton
from nerf.mesh_ops import clean_mesh, decimate, make_watertight

#: ``query(points Float[N, 3]) -> {"density": Float[N], "rgb": Float[N, 3], "region": Long[N]}``
QueryFn = Callable[[Tensor], dict]


@dataclass
class MeshConfig:
    """How a density field is turned into a game-ready triangle mesh."""

    source: str = "body"
    """"body": the dressed anny body with the refinement moved onto its vertices (topology, UVs and rig
    kept); "field": marching cubes of the refined field over the procedural template (the 0.1 path)."""
    resolution: int = 128
    """Grid samples along the longest side of the box (voxels are cubes); ``source=field`` only."""
    level: float | None = None
    """Density iso-level. None: half the 99.9th percentile of the sampled density, which is the
    zero level set for saturating densities such as sigmoid(-sdf/beta)/beta."""
    min_component_fraction: float = 0.02
    """Connected parts with less than this fraction of the largest part's area are dropped."""
    chunk: int = 65536
    """Points per ``query`` call."""
    ground: bool = True
    """Translate mesh and skeleton so that the lowest vertex lies on y = 0."""

    def check(self) -> None:
        if self.source not in ("body", "field"):
            raise ValueError(f"source={self.source!r}: body or field")
        if self.resolution < 16:
            raise ValueError(f"resolution={self.resolution}: at least 16 samples")
        if not 0 <= self.min_component_fraction < 1:
            raise ValueError(f"min_component_fraction={self.min_component_fraction}: in [0, 1)")
        if self.chunk < 1024:
            raise ValueError(f"chunk={self.chunk}: at least 1024 points")
        if self.level is not None and self.level <= 0:
            raise ValueError(f"level={self.level}: a density iso-level must be > 0 (or null for automatic)")


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


class _Lazy(Mapping):
    """A query result whose entries are computed only when asked for (the density pass of mesh
    extraction needs no colours or regions)."""

    def __init__(self, **fns):
        self._fns, self._vals = fns, {}

    def __getitem__(self, k):
        if k not in self._vals:
            self._vals[k] = self._fns[k]()
        return self._vals[k]

    def __iter__(self):
        return iter(self._fns)

    def __len__(self):
        return len(self._fns)


def field_query(field, params) -> QueryFn:
    """Density and rgb from a refined ``field`` (``nerf.fields.TemplateField``), regions from the template
    ``params`` (:class:`nerf.template.TemplateParams`) it was built on, for mesh extraction."""
    from nerf import template as T

    prims = {k: v.detach().cpu() for k, v in T.primitives(params).items()}
    dev = next(iter(field.buffers())).device

    def query(x: Tensor) -> Mapping[str, Tensor]:
        xf = x.float()
        out = {}

        def both():
            if "d" not in out:
                with torch.no_grad():
                    out["d"], out["c"] = (t.cpu() for t in field(xf.to(dev)))
            return out

        def region():
            with torch.no_grad():
                return T.region_weights(T.primitive_distances(xf.cpu(), prims), prims["region"]).argmax(-1)

        return _Lazy(density=lambda: both()["d"], rgb=lambda: both()["c"], region=region)

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


def extract_mesh(query: QueryFn, lo, hi, skeleton: Skeleton, config: MeshConfig | None = None,
                 triangles: int = 20000) -> MeshArtifact:
    """Extract a game-ready mesh of the density field ``query`` inside the box ``lo``..``hi`` (metres).

    ``lo``/``hi`` are Float[3] (tensor or array). ``triangles`` is the budget of the result (decimated, or
    subdivided first when marching cubes gives fewer; it lands within a few triangles of it; the pipeline
    passes ``export.triangles``). The skeleton is carried along (shifted
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
    v, f = decimate(v, f, triangles)
    v, f, watertight = make_watertight(v, f)
    offset = np.zeros(3)
    if cfg.ground:
        offset[1] = -v[:, 1].min()
    samples = _run_query(query, v, cfg.chunk, ("rgb", "region"))  # field coordinates, before grounding
    regions = samples["region"].astype(np.int32)
    if regions.min() < 0 or regions.max() >= len(REGIONS):
        raise ValueError(f"query returned region ids outside 0..{len(REGIONS) - 1}")
    skel = replace(skeleton, positions=(np.asarray(skeleton.positions) + offset).astype(np.float32))
    meta = {"resolution": cfg.resolution, "voxel_m": vox, "level": level, "marching_cubes_triangles": n_mc,
            "triangles": int(len(f)), "watertight": watertight, "ground_offset": offset.tolist()}
    return MeshArtifact(vertices=(v + offset).astype(np.float32), faces=f.astype(np.int32),
                        vertex_colors=np.clip(samples["rgb"], 0.0, 1.0).astype(np.float32),
                        vertex_regions=regions, skeleton=skel, meta=meta)
