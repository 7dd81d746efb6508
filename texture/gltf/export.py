"""GLB export of a rigged, textured avatar with pygltflib (trimesh's writer has no skins).

The file holds one scene whose roots are the skinned mesh node "Avatar" (a VRM splits off "Headwear":
hair, hats) and the joint hierarchy rooted at "Hips" (Mixamo names, local translations, unrotated
rest pose). Each material is one primitive with POSITION, NORMAL, TEXCOORD_0, JOINTS_0 (unsigned byte,
or short past 256 joints) and WEIGHTS_0 (float); the face's morph targets (``nerf.body.face``: ARKit
names, then visemes, in ``mesh.extras.targetNames``) are sparse accessors of the vertices that move.
Materials are metallic-roughness ones sharing a baseColor PNG in the GLB's binary chunk. Y up, metres,
facing +Z, feet on y = 0. ``asset.generator`` is "avatarforge <version>" and ``asset.extras`` holds what
the caller passes (prompt, seed, ...). A ``.vrm`` is the same GLB with ``VRMC_vrm`` (``texture.gltf.vrm``).

Levels of detail are separate, self-contained files: ``<name>_lod1.glb``, ``<name>_lod2.glb``,
... beside ``<name>.glb``, each with half the triangles (and texture side) of the previous
level, the same skeleton, skin and animation; glTF 2.0 has no core LOD mechanism
(MSFT_lod is an extension few engines read), so separate files stay valid everywhere.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from nerf.body.face import MOVING_M
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

    def displacement(self, d: np.ndarray) -> int:
        """A morph target's POSITION accessor for Float[V, 3] displacements ``d``: sparse (only the moving
        vertices are stored), or no data at all (all zeros) when nothing moves."""
        import pygltflib as g

        d = np.ascontiguousarray(d, np.float32)
        moving = np.flatnonzero(np.abs(d).max(1) > MOVING_M) if len(d) else np.zeros(0, np.int64)
        lo = np.minimum(d[moving].min(0), 0.0) if len(moving) else np.zeros(3)
        hi = np.maximum(d[moving].max(0), 0.0) if len(moving) else np.zeros(3)
        acc = g.Accessor(componentType=FLOAT, count=len(d), type="VEC3", min=[float(x) for x in lo],
                         max=[float(x) for x in hi], byteOffset=None)  # no bufferView: no byteOffset either
        if len(moving):
            itype = USHORT if len(d) <= 65535 else UINT
            idx = moving.astype(np.uint16 if itype == USHORT else np.uint32)
            acc.sparse = g.Sparse(count=len(moving),
                                  indices=g.AccessorSparseIndices(bufferView=self.view(idx.tobytes()),
                                                                  componentType=itype),
                                  values=g.AccessorSparseValues(bufferView=self.view(d[moving].tobytes())))
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
    if r.morph_names and np.shape(r.morphs) != (len(r.morph_names), v, 3):
        raise ValueError(f"RiggedMesh.morphs has shape {np.shape(r.morphs)}, expected "
                         f"({len(r.morph_names)}, {v}, 3) for its {len(r.morph_names)} morph_names")
    if r.texture.dtype != np.uint8 or r.texture.ndim != 3 or r.texture.shape[2] not in (3, 4):
        raise ValueError(f"RiggedMesh.texture must be uint8 [H, W, 3|4], got {r.texture.dtype} {r.texture.shape}")


@dataclass
class Layout:
    """Where ``build_gltf`` put things: the mesh nodes (name, node index, material indices, targets) first,
    then one node per joint."""

    mesh_nodes: list[tuple[str, int, list[int], bool]]
    """(name, node index, the materials its primitives use, whether it has the morph targets)."""
    first_joint: int
    """Node index of joint 0 (joint j is node ``first_joint + j``)."""

    def joint_node(self, j: int) -> int:
        return self.first_joint + j


def build_gltf(r: RiggedMesh, clips: list[Clip], config: ExportConfig, extras: dict,
               generator: str = "avatarforge", groups: list[tuple[str, list[int]]] | None = None):
    """``(gltf, builder, layout)``: ``r`` (already grounded) and ``clips`` as a pygltflib document whose
    binary chunk is still in ``builder.blob``. ``groups`` splits the materials into several mesh nodes on
    the one skin, as ``(node name, material indices)`` (default: one node "Avatar" with all of them); the
    morph targets go on each node whose materials move under them."""
    import pygltflib as g

    gltf = g.GLTF2(asset=g.Asset(generator=generator, extras=extras or {}))
    b = _Builder(gltf)
    nrm = r.normals.astype(np.float64)
    nrm = nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    n_j = len(r.skeleton.names)
    mats = r.materials or [Material("avatar", config.metallic, config.roughness)]
    face_mats = r.face_materials if r.materials else np.zeros(len(r.faces), np.int32)
    groups = groups or [("Avatar", list(range(len(mats))))]
    morphs = np.asarray(r.morphs, np.float32) if r.morph_names else None
    mesh_nodes = []
    for name, group in groups:
        prims, used_all = [], []
        for m in group:  # one primitive per material, each with the vertices it uses (importers such
            tri = r.faces[face_mats == m]  # as trimesh copy a primitive's whole attribute arrays)
            if not len(tri):
                continue
            used, local = np.unique(tri.reshape(-1), return_inverse=True)
            used_all.append(used)
            attrs = g.Attributes(
                POSITION=b.accessor(r.vertices[used], "VEC3", FLOAT, ARRAY_BUFFER, minmax=True),
                NORMAL=b.accessor(nrm[used], "VEC3", FLOAT, ARRAY_BUFFER),
                TEXCOORD_0=b.accessor(r.uvs[used], "VEC2", FLOAT, ARRAY_BUFFER),
                JOINTS_0=b.accessor(r.joints[used], "VEC4", UBYTE if n_j <= 256 else USHORT, ARRAY_BUFFER),
                WEIGHTS_0=b.accessor(r.weights[used], "VEC4", FLOAT, ARRAY_BUFFER))
            index_type = USHORT if len(used) < 65535 else UINT
            indices = b.accessor(local, "SCALAR", index_type, ELEMENT_ARRAY_BUFFER, minmax=True)
            prims.append(g.Primitive(attributes=attrs, indices=indices, material=m, mode=4))
        if not prims:
            continue
        moves = morphs is not None and any((np.abs(morphs[:, u]) > MOVING_M).any() for u in used_all)
        mesh = g.Mesh(name=name, primitives=prims)
        if moves:  # every primitive of a mesh has the same targets; a still one stores no data for them
            for prim, used in zip(prims, used_all):
                prim.targets = [g.Attributes(POSITION=b.displacement(morphs[t, used])) for t in range(len(morphs))]
            mesh.weights = [0.0] * len(r.morph_names)
            mesh.extras = {"targetNames": list(r.morph_names)}
        gltf.meshes.append(mesh)
        mesh_nodes.append((name, len(mesh_nodes), list(group), bool(moves)))
    gltf.images.append(g.Image(bufferView=b.view(png_bytes(r.texture)), mimeType="image/png", name="baseColor"))
    gltf.samplers.append(g.Sampler(magFilter=9729, minFilter=9987, wrapS=33071, wrapT=33071))
    gltf.textures.append(g.Texture(sampler=0, source=0))
    for m in mats:
        gltf.materials.append(g.Material(name=m.name, doubleSided=bool(m.double_sided),
                                         pbrMetallicRoughness=g.PbrMetallicRoughness(
                                             baseColorTexture=g.TextureInfo(index=0), metallicFactor=float(m.metallic),
                                             roughnessFactor=float(m.roughness))))
    # nodes: the skinned mesh nodes, then the joints in skeleton order
    for name, i, _, _ in mesh_nodes:
        gltf.nodes.append(g.Node(name=name, mesh=i, skin=0))
    layout = Layout(mesh_nodes, len(mesh_nodes))
    pos = np.asarray(r.skeleton.positions, np.float64)
    for j, (name, parent) in enumerate(zip(r.skeleton.names, r.skeleton.parents)):
        local = pos[j] - (pos[parent] if parent >= 0 else 0.0)
        children = [layout.joint_node(c) for c, p in enumerate(r.skeleton.parents) if p == j]
        gltf.nodes.append(g.Node(name=name, translation=[float(x) for x in local], children=children or []))
    roots = [layout.joint_node(j) for j, p in enumerate(r.skeleton.parents) if p < 0]
    ibm = np.ascontiguousarray(np.transpose(r.inverse_bind, (0, 2, 1)))  # glTF matrices are column-major
    gltf.skins.append(g.Skin(name="Armature", inverseBindMatrices=b.accessor(ibm, "MAT4", FLOAT),
                             joints=[layout.joint_node(j) for j in range(n_j)], skeleton=roots[0]))
    gltf.scenes.append(g.Scene(name="Scene", nodes=[n for _, n, _, _ in mesh_nodes] + roots))
    gltf.scene = 0
    for clip in clips:
        _add_clip(gltf, b, clip, r, layout)
    return gltf, b, layout


def _add_clip(gltf, b: _Builder, clip: Clip, r: RiggedMesh, layout: Layout) -> None:
    """One glTF animation: a rotation channel per joint the clip turns, and a weights channel per mesh node
    with morph targets when the clip drives some of them."""
    import pygltflib as g

    if not clip.rotations and not clip.morph_weights:
        return
    times = b.accessor(clip.times, "SCALAR", FLOAT, minmax=True)
    anim = g.Animation(name=clip.name)
    for name, q in clip.rotations.items():
        anim.samplers.append(g.AnimationSampler(input=times, output=b.accessor(q, "VEC4", FLOAT),
                                                interpolation="LINEAR"))
        anim.channels.append(g.AnimationChannel(sampler=len(anim.samplers) - 1, target=g.AnimationChannelTarget(
            node=layout.joint_node(r.skeleton.names.index(name)), path="rotation")))
    driven = {k: v for k, v in clip.morph_weights.items() if k in r.morph_names}
    if driven:
        w = np.zeros((len(clip.times), len(r.morph_names)), np.float32)
        for k, v in driven.items():
            w[:, r.morph_names.index(k)] = v
        out = b.accessor(w.reshape(-1), "SCALAR", FLOAT)
        for _, node, _, has_targets in layout.mesh_nodes:
            if has_targets:
                anim.samplers.append(g.AnimationSampler(input=times, output=out, interpolation="LINEAR"))
                anim.channels.append(g.AnimationChannel(sampler=len(anim.samplers) - 1,
                                                        target=g.AnimationChannelTarget(node=node, path="weights")))
    gltf.animations.append(anim)


def glb_bytes(gltf, b: _Builder) -> bytes:
    """The GLB bytes of a document ``build_gltf`` made (and a caller may have extended)."""
    import pygltflib as g

    b.blob += b"\0" * (-len(b.blob) % 4)
    gltf.buffers.append(g.Buffer(byteLength=len(b.blob)))
    gltf.set_binary_blob(bytes(b.blob))
    return b"".join(gltf.save_to_bytes())


def grounded(r: RiggedMesh) -> RiggedMesh:
    """``r`` translated so that its lowest vertex is on y = 0 (skeleton and bind matrices too)."""
    dy = -float(r.vertices[:, 1].min())
    if abs(dy) < 1e-7:
        return r
    off = np.array([0.0, dy, 0.0], np.float32)
    sk = r.skeleton
    ibm = r.inverse_bind.copy()
    ibm[:, :3, 3] -= ibm[:, :3, :3] @ off
    return replace(r, vertices=r.vertices + off, inverse_bind=ibm,
                   skeleton=replace(sk, positions=sk.positions + off))


def make_clips(config: ExportConfig, skeleton, morph_names: list[str]) -> list[Clip]:
    """The clips a file carries: ``config.animation``'s, and the blinking idle beside a wave when the face has
    eyelid targets (the wave stays first, as engines play the first clip)."""
    clips = [make_clip(config.animation, skeleton, config.animation_seconds, morphs=morph_names)]
    if config.animation == "wave" and {"eyeBlinkLeft", "eyeBlinkRight"} <= set(morph_names):
        clips.append(make_clip("idle", skeleton, max(config.animation_seconds, 3.0), morphs=morph_names))
    return [c for c in clips if c is not None]


def export_glb(rigged: RiggedMesh, path, config: ExportConfig | None = None, extras: dict | None = None,
               generator: str = "avatarforge", name: str | None = None, version: str = "") -> dict:
    """Write ``rigged`` as a GLB, or a VRM 1.0 when ``path`` ends in ``.vrm``, at ``path`` (atomically), plus
    ``config.lods`` LOD files (always plain ``<stem>_lodN.glb``).

    ``generator`` goes to ``asset.generator`` (the pipeline passes "avatarforge <version>"); ``name`` is the
    VRM avatar's display name (default: the prompt in ``extras``), ``version`` its default meta version.
    Returns stats: ``vertices``, ``triangles``, ``joints``, ``bytes``, ``animation`` (the first clip's name or
    "none"), ``animations`` (every clip's),
    ``morph_targets`` (names), ``format`` ("glb"/"vrm"), ``expressions`` (VRM preset names), ``path`` and
    ``lods`` (a list of the same stats per LOD file).
    """
    from texture.gltf import vrm as vrm_ext

    cfg = config or ExportConfig()
    cfg.check()
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("glb", "vrm"):
        raise ValueError(f"export path {str(path)!r} must end in .glb or .vrm")
    extras = dict(extras or {})
    try:
        json.dumps(extras)
    except TypeError as e:
        raise ValueError(f"extras must be JSON-serialisable: {e}") from None
    check_rigged(rigged)
    if fmt == "vrm" and rigged.skeleton.rest_pose != "T-pose":
        raise ValueError("a .vrm needs the T-pose rest: drop export.rest_pose=a")
    levels = [grounded(rigged)]
    if cfg.lods:
        for i in range(1, cfg.lods + 1):
            levels.append(make_lod(levels[0], max(100, min(cfg.triangles, rigged.n_faces) >> i),
                                   max(128, cfg.texture_size >> i), cfg))
    paths = [path] + [path.with_name(f"{path.stem}_lod{i}.glb") for i in range(1, len(levels))]
    blobs, clip_names = [], []
    for i, level in enumerate(levels):
        meta = {"lod": i, "lod_files": [p.name for p in paths]} if cfg.lods else {}
        clips = make_clips(cfg, level.skeleton, list(level.morph_names))
        clip_names.append([c.name for c in clips])
        as_vrm = fmt == "vrm" and i == 0
        groups = vrm_ext.material_groups([m.name for m in level.materials]) if as_vrm and level.materials else None
        gltf, b, layout = build_gltf(level, clips, cfg, {**extras, **meta}, generator, groups)
        if as_vrm:
            from texture.preview import thumbnail_png

            vrm_ext.add_vrm(gltf, b, layout, level, cfg.vrm, name=vrm_ext.avatar_name(name or extras.get("prompt", "")),
                            version=version, thumbnail_png=thumbnail_png(level, vrm_ext.THUMBNAIL_SIZE),
                            extras={k: extras[k] for k in ("prompt", "seed") if k in extras})
        blobs.append(glb_bytes(gltf, b))
    stats = []
    for i, (p, level, blob) in enumerate(zip(paths, levels, blobs)):
        atomic_write_bytes(p, blob)
        stats.append({"path": str(p), "format": fmt if i == 0 else "glb", "vertices": level.n_vertices,
                      "triangles": level.n_faces, "joints": len(level.skeleton.names), "bytes": len(blob),
                      "animation": clip_names[i][0] if clip_names[i] else "none",
                      "animations": clip_names[i], "morph_targets": list(level.morph_names)})
    if fmt == "vrm":
        stats[0]["expressions"] = list(vrm_ext.PRESETS)
    return {**stats[0], "lods": stats[1:]}
