"""GLB export of a rigged, textured avatar with pygltflib (trimesh's writer has no skins).

The file holds one scene with two root nodes: the skinned mesh node "Avatar" and the joint
hierarchy rooted at "Hips" (names from ``nerf.template.JOINT_NAMES``, local translations,
unrotated rest pose). The single primitive has POSITION, NORMAL, TEXCOORD_0, JOINTS_0
(unsigned byte, or short past 256 joints) and WEIGHTS_0 (float), and a metallic-roughness
material whose baseColor PNG lives in the GLB's binary chunk. Y up, metres, facing +Z, feet on
y = 0. ``asset.generator`` is "avatarforge <version>" and ``asset.extras`` holds what the caller
passes (prompt, seed, ...).

Levels of detail are separate, self-contained files: ``<name>_lod1.glb``, ``<name>_lod2.glb``,
... beside ``<name>.glb``, each with half the triangles (and texture side) of the previous
level, the same skeleton, skin and animation; glTF 2.0 has no core LOD mechanism
(MSFT_lod is an extension few engines read), so separate files stay valid everywhere.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from texture.animation import Clip, make_clip
from texture.artifacts import Material, RiggedMesh
from texture.assemble import make_lod
from texture.atomic import atomic_write_bytes, png_bytes
from texture.gltf.config import ExportConfig

FLOAT, UBYTE, USHORT, UINT = 5126, 5121, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


class _Builder:
    """Appends arrays to the binary chunk and registers bufferViews/accessors."""

    def __init__(self, gltf):
        self.gltf = gltf
        self.blob = bytearray()

    def view(self, raw: bytes, target: int | None = None, stride: int | None = None) -> int:
        import pygltflib as g

        self.blob += b"\0" * (-len(self.blob) % 4)
        self.gltf.bufferViews.append(g.BufferView(buffer=0, byteOffset=len(self.blob), byteLength=len(raw),
                                                  target=target, byteStride=stride))
        self.blob += raw
        return len(self.gltf.bufferViews) - 1

    def accessor(self, arr: np.ndarray, kind: str, ctype: int, target: int | None = None,
                 minmax: bool = False) -> int:
        import pygltflib as g

        dtype = {FLOAT: np.float32, UBYTE: np.uint8, USHORT: np.uint16, UINT: np.uint32}[ctype]
        a = np.ascontiguousarray(arr, dtype=dtype)
        count = a.shape[0]
        flat = a.reshape(count, -1)
        # vertex attributes declare their stride (Godot 4's importer warns without it)
        stride = a.itemsize * flat.shape[1] if target == ARRAY_BUFFER else None
        acc = g.Accessor(bufferView=self.view(a.tobytes(), target, stride), componentType=ctype, count=count,
                         type=kind)
        if minmax:
            acc.min = [float(x) if ctype == FLOAT else int(x) for x in flat.min(0)]
            acc.max = [float(x) if ctype == FLOAT else int(x) for x in flat.max(0)]
        self.gltf.accessors.append(acc)
        return len(self.gltf.accessors) - 1


def check_rigged(r: RiggedMesh) -> None:
    """Raise ValueError naming the first inconsistent array of ``r``."""
    v, j = len(r.vertices), len(r.skeleton.names)
    expect = {"vertices": (v, 3), "normals": (v, 3), "uvs": (v, 2), "joints": (v, 4), "weights": (v, 4),
              "inverse_bind": (j, 4, 4)}
    for name, shape in expect.items():
        if np.shape(getattr(r, name)) != shape:
            raise ValueError(f"RiggedMesh.{name} has shape {np.shape(getattr(r, name))}, expected {shape}")
    if r.faces.ndim != 2 or r.faces.shape[1] != 3 or r.faces.min() < 0 or r.faces.max() >= v:
        raise ValueError(f"RiggedMesh.faces must be [F, 3] indices into {v} vertices")
    if r.joints.min() < 0 or r.joints.max() >= j:
        raise ValueError(f"RiggedMesh.joints must index the {j} skeleton joints")
    if np.abs(r.weights.sum(1) - 1).max() > 1e-4 or r.weights.min() < 0:
        raise ValueError("RiggedMesh.weights must be non-negative and sum to 1 per vertex")
    if r.materials and (r.face_materials is None or np.shape(r.face_materials) != (len(r.faces),)
                        or r.face_materials.min() < 0 or r.face_materials.max() >= len(r.materials)):
        raise ValueError(f"RiggedMesh.face_materials must index its {len(r.materials)} materials, one per face")
    if r.texture.dtype != np.uint8 or r.texture.ndim != 3 or r.texture.shape[2] not in (3, 4):
        raise ValueError(f"RiggedMesh.texture must be uint8 [H, W, 3|4], got {r.texture.dtype} {r.texture.shape}")


def glb_bytes(r: RiggedMesh, clip: Clip | None, config: ExportConfig, extras: dict,
              generator: str = "avatarforge") -> bytes:
    """Serialise ``r`` (already grounded) and ``clip`` as GLB bytes."""
    import pygltflib as g

    gltf = g.GLTF2(asset=g.Asset(generator=generator, extras=extras or {}))
    b = _Builder(gltf)
    nrm = r.normals.astype(np.float64)
    nrm = nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    n_j = len(r.skeleton.names)
    mats = r.materials or [Material("avatar", config.metallic, config.roughness)]
    face_mats = r.face_materials if r.materials else np.zeros(len(r.faces), np.int32)
    prims = []
    for m in range(len(mats)):  # one primitive per material, each with the vertices it uses (importers such
        tri = r.faces[face_mats == m]  # as trimesh copy a primitive's whole attribute arrays)
        if not len(tri):
            continue
        used, local = np.unique(tri.reshape(-1), return_inverse=True)
        attrs = g.Attributes(
            POSITION=b.accessor(r.vertices[used], "VEC3", FLOAT, ARRAY_BUFFER, minmax=True),
            NORMAL=b.accessor(nrm[used], "VEC3", FLOAT, ARRAY_BUFFER),
            TEXCOORD_0=b.accessor(r.uvs[used], "VEC2", FLOAT, ARRAY_BUFFER),
            JOINTS_0=b.accessor(r.joints[used], "VEC4", UBYTE if n_j <= 256 else USHORT, ARRAY_BUFFER),
            WEIGHTS_0=b.accessor(r.weights[used], "VEC4", FLOAT, ARRAY_BUFFER))
        index_type = USHORT if len(used) < 65535 else UINT
        indices = b.accessor(local, "SCALAR", index_type, ELEMENT_ARRAY_BUFFER, minmax=True)
        prims.append(g.Primitive(attributes=attrs, indices=indices, material=m, mode=4))
    gltf.meshes.append(g.Mesh(name="Avatar", primitives=prims))
    gltf.images.append(g.Image(bufferView=b.view(png_bytes(r.texture)), mimeType="image/png", name="baseColor"))
    gltf.samplers.append(g.Sampler(magFilter=9729, minFilter=9987, wrapS=33071, wrapT=33071))
    gltf.textures.append(g.Texture(sampler=0, source=0))
    for m in mats:
        gltf.materials.append(g.Material(name=m.name, doubleSided=bool(m.double_sided),
                                         pbrMetallicRoughness=g.PbrMetallicRoughness(
                                             baseColorTexture=g.TextureInfo(index=0), metallicFactor=float(m.metallic),
                                             roughnessFactor=float(m.roughness))))
    # nodes: 0 = skinned mesh, 1.. = joints in skeleton order
    gltf.nodes.append(g.Node(name="Avatar", mesh=0, skin=0))
    pos = np.asarray(r.skeleton.positions, np.float64)
    for j, (name, parent) in enumerate(zip(r.skeleton.names, r.skeleton.parents)):
        local = pos[j] - (pos[parent] if parent >= 0 else 0.0)
        children = [1 + c for c, p in enumerate(r.skeleton.parents) if p == j]
        gltf.nodes.append(g.Node(name=name, translation=[float(x) for x in local], children=children or []))
    roots = [1 + j for j, p in enumerate(r.skeleton.parents) if p < 0]
    ibm = np.ascontiguousarray(np.transpose(r.inverse_bind, (0, 2, 1)))  # glTF matrices are column-major
    gltf.skins.append(g.Skin(name="Armature", inverseBindMatrices=b.accessor(ibm, "MAT4", FLOAT),
                             joints=[1 + j for j in range(n_j)], skeleton=roots[0]))
    gltf.scenes.append(g.Scene(name="Scene", nodes=[0] + roots))
    gltf.scene = 0
    if clip is not None and clip.rotations:
        times = b.accessor(clip.times, "SCALAR", FLOAT, minmax=True)
        anim = g.Animation(name=clip.name)
        for name, q in clip.rotations.items():
            anim.samplers.append(g.AnimationSampler(input=times, output=b.accessor(q, "VEC4", FLOAT),
                                                    interpolation="LINEAR"))
            anim.channels.append(g.AnimationChannel(sampler=len(anim.samplers) - 1, target=g.AnimationChannelTarget(
                node=1 + r.skeleton.names.index(name), path="rotation")))
        gltf.animations.append(anim)
    b.blob += b"\0" * (-len(b.blob) % 4)
    gltf.buffers.append(g.Buffer(byteLength=len(b.blob)))
    gltf.set_binary_blob(bytes(b.blob))
    return b"".join(gltf.save_to_bytes())


def grounded(r: RiggedMesh) -> RiggedMesh:
    """``r`` translated so that its lowest vertex is on y = 0 (skeleton and bind matrices too)."""
    dy = -float(r.vertices[:, 1].min())
    if abs(dy) < 1e-7:
        return r

    from nerf.artifacts import Skeleton

    off = np.array([0.0, dy, 0.0], np.float32)
    sk = r.skeleton
    ibm = r.inverse_bind.copy()
    ibm[:, :3, 3] -= ibm[:, :3, :3] @ off
    return replace(r, vertices=r.vertices + off, inverse_bind=ibm,
                   skeleton=Skeleton(list(sk.names), list(sk.parents), sk.positions + off, sk.rest_pose))


def export_glb(rigged: RiggedMesh, path, config: ExportConfig | None = None, extras: dict | None = None,
               generator: str = "avatarforge") -> dict:
    """Write ``rigged`` as a GLB at ``path`` (atomically), plus ``config.lods`` LOD files.

    ``generator`` goes to ``asset.generator`` (the pipeline passes "avatarforge <version>").
    Returns stats: ``vertices``, ``triangles``, ``joints``, ``bytes``, ``animation``, ``path``
    and ``lods`` (a list of the same stats per LOD file).
    """
    cfg = config or ExportConfig()
    cfg.check()
    path = Path(path)
    if path.suffix.lower() != ".glb":
        raise ValueError(f"export path {str(path)!r} must end in .glb")
    extras = dict(extras or {})
    try:
        json.dumps(extras)
    except TypeError as e:
        raise ValueError(f"extras must be JSON-serialisable: {e}") from None
    check_rigged(rigged)
    levels = [grounded(rigged)]
    if cfg.lods:
        for i in range(1, cfg.lods + 1):
            levels.append(make_lod(levels[0], max(100, min(cfg.triangles, rigged.n_faces) >> i),
                                   max(128, cfg.texture_size >> i), cfg))
    clip = make_clip(cfg.animation, levels[0].skeleton, cfg.animation_seconds)
    paths = [path] + [path.with_name(f"{path.stem}_lod{i}.glb") for i in range(1, len(levels))]
    blobs = []
    for i, level in enumerate(levels):
        meta = {"lod": i, "lod_files": [p.name for p in paths]} if cfg.lods else {}
        blobs.append(glb_bytes(level, clip, cfg, {**extras, **meta}, generator))
    stats = []
    for p, level, blob in zip(paths, levels, blobs):
        atomic_write_bytes(p, blob)
        stats.append({"path": str(p), "vertices": level.n_vertices, "triangles": level.n_faces,
                      "joints": len(level.skeleton.names), "bytes": len(blob),
                      "animation": clip.name if clip else "none"})
    return {**stats[0], "lods": stats[1:]}
