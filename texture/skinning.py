"""Automatic skin weights from the template skeleton.

Every joint owns a bone segment (to its first child, or extended past a leaf such as the
hand, head or toe). A vertex's raw weight for a joint falls off with its distance beyond the
nearest bone, ``exp(-(d_j - d_min) / falloff)``, so weights blend smoothly where two bones meet
(elbows, knees, shoulders). A few Laplacian smoothing steps on the welded mesh graph remove
creases, then the 4 largest influences are kept and normalised. Weights depend on geometry
(and the vertex's body region) only, so seam copies of a vertex get identical weights.

Nearest-bone weights alone bind a cape to whatever it hangs beside: its halves to the left and
right thighs and shins, its edges to the arms, so a walk cycle tears it down the middle and a
wave drags one side up. ``REGION_JOINTS`` limits such regions to the chain they are attached to.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nerf.artifacts import REGIONS, Skeleton
from texture.artifacts import RiggedMesh, TexturedMesh

#: Length of a leaf joint's bone as a fraction of its parent bone (others: 0.5).
LEAF_EXTENT = {"Head": 1.5, "Hand": 0.35, "ToeBase": 0.35, "HeadTop": 0.5}

_TORSO = ("Hips", "Spine", "Spine1", "Spine2", "Neck", "LeftShoulder", "RightShoulder")
_HEAD = ("Spine2", "Neck", "Head", "LeftShoulder", "RightShoulder")
#: Joints a vertex of a body region (``nerf.artifacts.REGIONS``) may bind to; unlisted regions
#: may bind to any. Capes, backpacks and belts ride on the torso; hair, hats and hoods on the head,
#: neck and upper spine, never on a raised arm.
REGION_JOINTS: dict[str, tuple[str, ...]] = {"accessory": _TORSO, "hair": _HEAD, "headwear": _HEAD}


@dataclass
class SkinConfig:
    """How skin weights are derived from the skeleton."""

    falloff: float = 0.025
    """Metres beyond the nearest bone over which another bone's weight decays by e."""
    behind: float = 1.0
    """Extra distance per metre a vertex lies before a bone's start (sharpens joints toward the parent)."""
    smooth_iterations: int = 6
    """Laplacian smoothing steps of the weights on the mesh graph (0 disables; at most 100)."""
    max_influences: int = 4
    """Joints per vertex kept (glTF JOINTS_0/WEIGHTS_0 hold 4)."""
    region_chains: bool = True
    """Bind capes, backpacks and belts to the torso and hair and headwear to the head, neck and upper
    spine (``REGION_JOINTS``) instead of to the nearest bone of any chain."""

    def check(self) -> None:
        if not 1 <= self.max_influences <= 4:
            raise ValueError(f"max_influences={self.max_influences}: 1..4 (glTF JOINTS_0 holds 4)")
        if self.falloff <= 0 or self.behind < 0 or self.smooth_iterations < 0:
            raise ValueError(f"falloff={self.falloff} (> 0), behind={self.behind} (>= 0), "
                             f"smooth_iterations={self.smooth_iterations} (>= 0)")


def bone_segments(skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points Float[J, 3] of every joint's bone."""
    pos = np.asarray(skeleton.positions, np.float64)
    ends = pos.copy()
    for j, name in enumerate(skeleton.names):
        children = [c for c, p in enumerate(skeleton.parents) if p == j]
        if children:
            ends[j] = pos[children[0]]
        elif skeleton.parents[j] >= 0:
            parent = pos[skeleton.parents[j]]
            frac = next((v for k, v in LEAF_EXTENT.items() if name.endswith(k)), 0.5)
            ends[j] = pos[j] + frac * (pos[j] - parent)
    return pos, ends


def segment_distances(points: np.ndarray, a: np.ndarray, b: np.ndarray, behind: float = 0.0) -> np.ndarray:
    """Distance Float[N, J] of every point to every segment a[j]..b[j].

    Points whose projection falls before a segment's start (on the parent's side of the joint)
    get ``behind`` times that overshoot added, so parents win there.
    """
    ab = b - a
    ap = points[:, None, :] - a[None]
    length = np.sqrt(np.maximum((ab * ab).sum(-1), 1e-12))
    t_raw = (ap * ab).sum(-1) / length**2
    t = np.clip(t_raw, 0.0, 1.0)
    return np.linalg.norm(ap - t[..., None] * ab, axis=-1) + behind * np.maximum(-t_raw, 0.0) * length


def _weld(mesh: TexturedMesh) -> tuple[np.ndarray, np.ndarray]:
    """Welded vertex id per vertex (seam copies share one) and the welded faces."""
    if mesh.source_vertex is not None:
        _, wid = np.unique(mesh.source_vertex, return_inverse=True)
    else:
        _, wid = np.unique(np.round(mesh.vertices / 1e-7).astype(np.int64), axis=0, return_inverse=True)
    wid = wid.reshape(-1)
    return wid, wid[mesh.faces]


def region_joint_mask(regions: np.ndarray, joint_names: list[str]) -> np.ndarray | None:
    """Bool[N, J]: which joints each vertex of region ids ``regions`` may bind to (None: all).

    A region whose listed joints are all missing from the skeleton keeps every joint."""
    mask = np.ones((len(regions), len(joint_names)), bool)
    for name, allowed in REGION_JOINTS.items():
        cols = np.isin(joint_names, allowed)
        if name in REGIONS and cols.any():
            mask[regions == REGIONS.index(name)] = cols
    return None if mask.all() else mask


def _smooth(weights: np.ndarray, faces: np.ndarray, iterations: int) -> np.ndarray:
    if iterations <= 0:
        return weights
    import scipy.sparse as sp

    n = len(weights)
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    e = np.concatenate([e, e[:, ::-1]])
    adj = sp.csr_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    adj.data[:] = 1.0  # duplicate edges count once
    deg = np.asarray(adj.sum(1)).reshape(-1, 1)
    for _ in range(iterations):
        weights = 0.5 * weights + 0.5 * (adj @ weights) / np.maximum(deg, 1.0)
    return weights


def top_k_normalised(weights: np.ndarray, k: int, slots: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Joint indices Long[N, slots] and float32 weights of the ``k`` largest influences.

    Unused slots have joint 0 and weight 0 (as glTF validators expect) and the weights sum
    to 1 in float32 arithmetic.
    """
    idx = np.argsort(-weights, axis=1, kind="stable")[:, :slots]
    w = np.take_along_axis(weights, idx, 1)
    w = np.where((w > 1e-4 * w[:, :1]) & (np.arange(slots) < k), w, 0.0)
    w = (w / w.sum(1, keepdims=True)).astype(np.float32)
    # put the float32 rounding residue on the largest weight so that sums are 1 in float32
    w[:, 0] = np.float32(1.0) - w[:, 1:].sum(1, dtype=np.float32)
    return np.where(w > 0, idx, 0).astype(np.int64), w


def skin_weights(mesh: TexturedMesh, config: SkinConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Joint indices Long[V, 4] and normalised weights Float[V, 4] for ``mesh``'s skeleton."""
    cfg = config or SkinConfig()
    if not 1 <= cfg.max_influences <= 4:
        raise ValueError(f"SkinConfig.max_influences={cfg.max_influences}; glTF allows 1..4 per set")
    if cfg.falloff <= 0:
        raise ValueError(f"SkinConfig.falloff={cfg.falloff} must be > 0 metres")
    wid, wfaces = _weld(mesh)
    welded = np.zeros((wid.max() + 1, 3))
    welded[wid] = mesh.vertices
    a, b = bone_segments(mesh.skeleton)
    d = segment_distances(welded, a, b, cfg.behind)
    mask = None
    if cfg.region_chains:
        regions = np.zeros(len(welded), np.int64)
        regions[wid] = mesh.vertex_regions
        mask = region_joint_mask(regions, list(mesh.skeleton.names))
    if mask is not None:
        d = np.where(mask, d, np.inf)
    raw = np.exp(-(d - d.min(1, keepdims=True)) / cfg.falloff)
    raw = _smooth(raw / raw.sum(1, keepdims=True), wfaces, cfg.smooth_iterations)
    if mask is not None:  # smoothing bleeds the neighbours' limbs back in at a cape's seams
        raw = raw * mask
        raw = raw / raw.sum(1, keepdims=True)
    idx, w = top_k_normalised(raw, cfg.max_influences)
    return idx[wid], w[wid]


def inverse_bind_matrices(skeleton: Skeleton) -> np.ndarray:
    """Float[J, 4, 4] inverse world rest transforms (rest joints are unrotated: pure translations)."""
    pos = np.asarray(skeleton.positions, np.float64)
    ibm = np.tile(np.eye(4), (len(pos), 1, 1))
    ibm[:, :3, 3] = -pos
    return ibm.astype(np.float32)


def skin(mesh: TexturedMesh, config: SkinConfig | None = None) -> RiggedMesh:
    """Bind ``mesh`` to its skeleton: a RiggedMesh with 4 normalised influences per vertex."""
    joints, weights = skin_weights(mesh, config)
    return RiggedMesh.from_textured(mesh, joints, weights, inverse_bind_matrices(mesh.skeleton))
