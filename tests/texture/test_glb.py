"""GLB export end to end: template mesh -> UV/bake/skin -> GLB that validates, round-trips and poses."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pygltflib
import pytest
import trimesh
from PIL import Image

from nerf.artifacts import REGIONS
from nerf.mesh import MeshConfig, extract_mesh, template_query
from nerf.synthetic.avatar_spec import COLORS, AvatarSpec, apply_archetype
from nerf.template import JOINT_NAMES, TemplateParams, bounds, skeleton
from texture.animation import axis_angle, quat_to_matrix
from texture.assemble import build_rigged
from texture.bake import BakeConfig, bake
from texture.gltf.config import ExportConfig
from texture.gltf.export import export_glb
from texture.gltf.validate import _pinned_version_matches, ensure_node_package, validate_many
from texture.preview import render_preview
from texture.uv import unwrap

THREE = "three@0.187"  # what a web viewer runs; pinned, so the test checks one loader's behaviour
BLENDER = os.environ.get("AVATARFORGE_BLENDER") or shutil.which("blender")

CASES = {  # name: (spec, export config)
    "knight": (apply_archetype(AvatarSpec(height="tall", build="stout"), "knight"),
               ExportConfig(triangles=20000, texture_size=512, lods=1, animation="wave")),
    "child_hat": (AvatarSpec(age="child", headwear="hat", headwear_color="red"),
                  ExportConfig(triangles=8000, texture_size=256, animation="none")),
}


def _extract(spec, triangles: int):
    p = TemplateParams.from_spec(spec)
    lo, hi = bounds(p.clamped_shape())
    return extract_mesh(template_query(p), lo, hi, skeleton(p.clamped_shape()),
                        MeshConfig(resolution=96), triangles=triangles)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, gltf_validator):
    out = tmp_path_factory.mktemp("glb")
    res = {}
    for name, (spec, cfg) in CASES.items():
        mesh = _extract(spec, cfg.triangles)
        rigged = build_rigged(mesh, cfg)
        stats = export_glb(rigged, out / f"{name}.glb", cfg, extras={"prompt": name, "seed": 7, "spec": spec.to_dict()})
        res[name] = dict(spec=spec, cfg=cfg, mesh=mesh, rigged=rigged, stats=stats, path=out / f"{name}.glb")
    files = sorted(out.glob("*.glb"))
    res["reports"] = dict(zip([f.name for f in files], validate_many(files)))
    res["dir"] = out
    return res


def _read(g: pygltflib.GLTF2, index: int) -> np.ndarray:
    acc = g.accessors[index]
    view = g.bufferViews[acc.bufferView]
    dtype = {5126: np.float32, 5121: np.uint8, 5123: np.uint16, 5125: np.uint32}[acc.componentType]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}[acc.type]
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    data = np.frombuffer(g.binary_blob(), dtype, acc.count * width, start)
    return data.reshape(acc.count, width) if width > 1 else data


def _target(g: pygltflib.GLTF2, prim: int, name: str) -> np.ndarray:
    """Float[V, 3]: primitive ``prim``'s morph target ``name`` as the file holds it, sparse or dense."""
    mesh = g.meshes[0]
    p = mesh.primitives[prim]
    acc = g.accessors[p.targets[mesh.extras["targetNames"].index(name)]["POSITION"]]
    out = np.zeros((acc.count, 3), np.float32)
    if acc.bufferView is not None:
        out += _read(g, p.targets[mesh.extras["targetNames"].index(name)]["POSITION"])
    if acc.sparse is not None and acc.sparse.count:
        blob = g.binary_blob()
        si, sv = acc.sparse.indices, acc.sparse.values
        idt = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32}[si.componentType]
        iv, vv = g.bufferViews[si.bufferView], g.bufferViews[sv.bufferView]
        idx = np.frombuffer(blob, idt, acc.sparse.count, (iv.byteOffset or 0) + (si.byteOffset or 0))
        val = np.frombuffer(blob, np.float32, acc.sparse.count * 3, (vv.byteOffset or 0) + (sv.byteOffset or 0))
        out[idx] = val.reshape(-1, 3)
    return out


def _check_jaw_open(seen: dict, g: pygltflib.GLTF2, prims) -> None:
    """The engine names the 52 ARKit + 15 viseme shape keys, and at jawOpen = 1 (rest pose) moves each
    vertex of ``prims`` by the file's own displacement, within 0.1 mm; the mouth really opens."""
    from nerf.body.face import ARKIT, VISEMES

    assert g.meshes[0].extras["targetNames"] == list(ARKIT) + list(VISEMES)
    assert seen["morph_names"] == list(ARKIT) + list(VISEMES)
    rest = np.asarray(seen["rest"])
    want = rest + np.concatenate([_target(g, i, "jawOpen") for i in prims])
    assert np.linalg.norm(want - rest, axis=1).max() > 0.005  # the jaw drops more than 5 mm somewhere
    np.testing.assert_allclose(np.asarray(seen["jaw_open"]), want, atol=1e-4)


def test_every_glb_validates_without_errors_or_warnings(exported):
    assert set(exported["reports"]) == {"knight.glb", "knight_lod1.glb", "child_hat.glb"}
    for name, report in exported["reports"].items():
        issues = report["issues"]
        msgs = [m for m in issues["messages"] if m["severity"] <= 1]
        assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, (name, msgs[:5])
    assert not [p for p in exported["dir"].iterdir() if p.suffix != ".glb"], "temp files left behind"


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_trimesh_and_pygltflib(exported, name):
    case = exported[name]
    rigged, cfg = case["rigged"], case["cfg"]
    assert case["stats"]["vertices"] == rigged.n_vertices and case["stats"]["triangles"] == rigged.n_faces
    assert abs(rigged.n_faces - cfg.triangles) <= 0.05 * cfg.triangles
    scene = trimesh.load(case["path"], process=False)
    geom = list(scene.geometry.values())
    assert len(geom) == 1
    assert (len(geom[0].vertices), len(geom[0].faces)) == (rigged.n_vertices, rigged.n_faces)
    assert geom[0].visual.material.baseColorTexture.size == (cfg.texture_size, cfg.texture_size)

    g = pygltflib.GLTF2().load(str(case["path"]))
    assert g.asset.generator == "avatarforge"  # the pipeline adds its version (test_generate)
    assert g.asset.extras["prompt"] == name and g.asset.extras["seed"] == 7
    prim = g.meshes[0].primitives[0]
    assert len(_read(g, prim.attributes.POSITION)) == rigged.n_vertices
    assert len(_read(g, prim.indices)) == 3 * rigged.n_faces
    pos = _read(g, prim.attributes.POSITION)
    assert abs(pos[:, 1].min()) < 1e-6, "feet on y = 0"
    assert g.images[0].mimeType == "image/png" and g.images[0].bufferView is not None
    skin = g.skins[0]
    assert len(skin.joints) >= 20
    assert [g.nodes[j].name for j in skin.joints] == list(JOINT_NAMES)
    weights = _read(g, prim.attributes.WEIGHTS_0)
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-6)
    assert len(g.animations) == (0 if cfg.animation == "none" else 1)


def _pose(g: pygltflib.GLTF2, local_rot: dict[str, np.ndarray], primitive: int = 0) -> np.ndarray:
    """Linear blend skinning of the GLB's mesh (one primitive) with extra local joint rotations (3x3) by name."""
    prim = g.meshes[0].primitives[primitive]
    pos = _read(g, prim.attributes.POSITION).astype(np.float64)
    joints = _read(g, prim.attributes.JOINTS_0).astype(np.int64)
    weights = _read(g, prim.attributes.WEIGHTS_0).astype(np.float64)
    skin = g.skins[0]
    ibm = _read(g, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)  # column-major
    parent = {c: i for i, n in enumerate(g.nodes) for c in (n.children or [])}
    world: dict[int, np.ndarray] = {}

    def world_of(node: int) -> np.ndarray:
        if node not in world:
            n = g.nodes[node]
            m = np.eye(4)
            m[:3, 3] = n.translation or (0, 0, 0)
            m[:3, :3] = local_rot.get(n.name, np.eye(3))
            world[node] = (world_of(parent[node]) if node in parent else np.eye(4)) @ m
        return world[node]

    skin_m = np.stack([world_of(j) @ ibm[k] for k, j in enumerate(skin.joints)])  # [J, 4, 4]
    blended = (weights[:, :, None, None] * skin_m[joints]).sum(1)  # [V, 4, 4]
    return (blended[:, :3, :3] @ pos[:, :, None])[:, :, 0] + blended[:, :3, 3]


def test_pose_left_arm_moves_left_hand_not_feet(exported):
    case = exported["knight"]
    g = pygltflib.GLTF2().load(str(case["path"]))
    rest = _read(g, g.meshes[0].primitives[0].attributes.POSITION).astype(np.float64)
    np.testing.assert_allclose(_pose(g, {}), rest, atol=1e-5)  # bind matrices reproduce the rest pose
    posed = _pose(g, {"LeftArm": quat_to_matrix(axis_angle((0, 0, 1), np.radians([60.0])))[0]})
    move = np.linalg.norm(posed - rest, axis=1)
    sk = case["rigged"].skeleton
    hand, fore = sk.positions[sk.index("LeftHand")], sk.positions[sk.index("LeftForeArm")]
    tip = hand + 0.35 * (hand - fore)
    near_hand = np.linalg.norm(rest - (hand + tip) / 2, axis=1) < 0.06
    assert near_hand.sum() > 10
    assert move[near_hand].min() > 0.25, "left-hand vertices must follow the arm"
    feet = rest[:, 1] < 0.08
    assert feet.sum() > 10 and move[feet].max() < 1e-6, "feet must stay put"
    right = rest[:, 0] < -0.45  # the right arm's far end
    assert right.any() and move[right].max() < 1e-6


def test_cape_rides_the_torso_when_legs_and_arms_move(exported):
    """Nearest-bone weights bound the knight's cape to the thighs, shins and arms (a walk tore it
    down the middle, a wave dragged its edge up): with the torso still, no cape vertex may move."""
    case = exported["knight"]
    g = pygltflib.GLTF2().load(str(case["path"]))
    rest = _read(g, g.meshes[0].primitives[0].attributes.POSITION).astype(np.float64)
    rigged = case["rigged"]
    np.testing.assert_allclose(rest, rigged.vertices, atol=1e-6)  # the GLB keeps the rig's vertex order
    cape = rigged.vertex_regions == REGIONS.index("accessory")
    assert cape.sum() > 1000 and rest[cape, 2].min() < -0.15  # it hangs behind the back
    stride = quat_to_matrix(axis_angle((1, 0, 0), np.radians([40.0, -40.0])))
    wave = quat_to_matrix(axis_angle((0, 0, 1), np.radians([-75.0, -70.0])))
    posed = _pose(g, {"LeftUpLeg": stride[0], "RightUpLeg": stride[1], "RightArm": wave[0], "RightForeArm": wave[1]})
    move = np.linalg.norm(posed - rest, axis=1)
    assert move[~cape].max() > 0.3  # the pose is real
    assert move[cape].max() < 1e-5


def test_skin_binds_hands_and_feet_to_their_chains(exported):
    rigged = exported["knight"]["rigged"]
    sk = rigged.skeleton
    top = rigged.joints[np.arange(rigged.n_vertices), rigged.weights.argmax(1)]
    names = np.array(sk.names)[top]
    hand = np.linalg.norm(rigged.vertices - sk.positions[sk.index("LeftHand")], axis=1) < 0.04
    assert set(names[hand]) <= {"LeftHand", "LeftForeArm"}
    foot = (rigged.vertices[:, 1] < 0.05) & (rigged.vertices[:, 0] > 0.05)
    assert set(names[foot]) <= {"LeftFoot", "LeftToeBase", "LeftLeg"}
    assert (rigged.weights >= 0).all() and ((rigged.weights > 0).sum(1) <= 4).all()
    # smooth across the elbow: vertices there blend the upper arm and the forearm
    elbow = np.linalg.norm(rigged.vertices - sk.positions[sk.index("LeftForeArm")], axis=1) < 0.08
    w_upper = (rigged.weights * (rigged.joints == sk.index("LeftArm"))).sum(1)[elbow]
    assert ((w_upper > 0.2) & (w_upper < 0.8)).any()


@pytest.fixture(scope="module")
def three() -> Path:
    """The three.js npm package folder (installed into the validator's cache on first use)."""
    try:
        return ensure_node_package("three", THREE)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        if os.environ.get("CI"):  # CI must really load it, as it really validates
            pytest.fail(f"three.js unavailable in CI: {e}")
        pytest.skip(f"three.js unavailable: {e}")


def test_a_cached_node_package_of_another_version_is_not_taken_for_the_pinned_one(tmp_path):
    """A cache that an unpinned install (or another pin) filled must not stand in for ``three@0.187``."""
    pkg = tmp_path / "package.json"
    pkg.write_text(json.dumps({"name": "three", "version": "0.187.2"}))
    assert _pinned_version_matches(pkg, "three", "three@0.187") and _pinned_version_matches(pkg, "three", "three")
    assert not _pinned_version_matches(pkg, "three", "three@0.18")  # 0.187 is not 0.18.x
    pkg.write_text(json.dumps({"name": "three", "version": "0.190.0"}))
    assert not _pinned_version_matches(pkg, "three", "three@0.187")


def _key_pose(g: pygltflib.GLTF2) -> tuple[float, dict[str, np.ndarray]]:
    """(time, joint name -> local rotation matrix) at the middle key of the GLB's one clip, read from the file."""
    anim = g.animations[0]
    times = _read(g, anim.samplers[0].input)
    k = len(times) // 2
    rot = {}
    for c in anim.channels:
        sampler = anim.samplers[c.sampler]
        assert c.target.path == "rotation" and np.array_equal(_read(g, sampler.input), times)
        rot[g.nodes[c.target.node].name] = quat_to_matrix(_read(g, sampler.output)[k:k + 1].astype(np.float64))[0]
    return float(times[k]), rot


def _engine_check(seen: dict, g: pygltflib.GLTF2, rot: dict[str, np.ndarray]) -> None:
    """An engine's rest and posed vertices equal the file's positions and our skinning of its key."""
    rest = _read(g, g.meshes[0].primitives[0].attributes.POSITION).astype(np.float64)
    np.testing.assert_allclose(seen["rest"], rest, atol=1e-5)
    want = _pose(g, rot)
    assert np.linalg.norm(want - rest, axis=1).max() > 0.3  # the key is a real pose
    np.testing.assert_allclose(seen["posed"][0], want, atol=1e-4)


def test_threejs_loads_the_glb_and_skins_it_as_the_file_says(exported, three):
    """three.js's GLTFLoader and AnimationMixer see one skinned mesh with every bone, the texture and the
    clip, with no warning, and at a key of the clip skin each vertex where linear blend skinning of the
    file's own channels puts it: what a web viewer shows is what the GLB holds."""
    assert json.loads((three / "package.json").read_text())["version"].startswith("0.187.")  # the pin holds
    case = exported["knight"]
    g = pygltflib.GLTF2().load(str(case["path"]))
    t, rot = _key_pose(g)
    proc = subprocess.run([shutil.which("node") or "node", str(Path(__file__).with_name("threejs_pose.mjs")),
                           str(three), str(case["path"]), repr(t)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout)
    assert seen["problems"] == []
    assert seen["skinned_meshes"] == 1 and seen["bones"] == list(JOINT_NAMES)
    assert seen["clips"] == [{"name": "wave", "duration": pytest.approx(case["cfg"].animation_seconds),
                              "tracks": len(g.animations[0].channels)}]
    size = case["cfg"].texture_size
    assert seen["material"] == {"type": "MeshStandardMaterial", "map": [size, size], "color_space": "srgb"}
    _engine_check(seen, g, rot)


def _blender_pose(path, t: float) -> dict:
    """What ``blender_pose.py`` reports of ``path`` posed at time ``t`` in Blender; skips where Blender's
    Python lacks numpy (Debian's blender needs python3-numpy beside it)."""
    script = str(Path(__file__).with_name("blender_pose.py"))
    run = [BLENDER, script] if Path(BLENDER).name.startswith("python") else [  # a Python with PyPI's bpy
        BLENDER, "-b", "--factory-startup", "--python", script]
    proc = subprocess.run([*run, "--", str(path), repr(t)], capture_output=True, text=True, timeout=300)
    if "No module named 'numpy'" in proc.stdout + proc.stderr:
        pytest.skip("Blender's Python has no numpy (Debian: apt-get install python3-numpy)")
    line = next((x for x in proc.stdout.splitlines() if x.startswith("JSON")), None)
    assert proc.returncode == 0 and line is not None, (proc.stdout + proc.stderr)[-3000:]
    return json.loads(line[4:])


@pytest.mark.skipif(not BLENDER, reason="Blender is not installed (Debian: apt-get install blender python3-numpy; "
                                        "or set AVATARFORGE_BLENDER to a blender executable, or a python with bpy)")
def test_blender_imports_the_glb_and_deforms_it_as_the_file_says(exported):
    """Blender's own glTF importer makes one armature with every bone, the mesh parented to it with an
    Armature modifier and a vertex group per bone, the clip as an action and the packed texture on the
    base colour; at a key of the action Blender deforms each vertex where our skinning of the file puts it."""
    case = exported["knight"]
    g = pygltflib.GLTF2().load(str(case["path"]))
    t, rot = _key_pose(g)
    seen = _blender_pose(case["path"], t)
    assert seen["result"] == ["FINISHED"] and seen["armatures"] == 1 and seen["meshes"] == 1
    assert sorted(seen["bones"]) == sorted(seen["vertex_groups"]) == sorted(JOINT_NAMES)
    assert seen["parent"] == seen["armature"] and seen["modifiers"] == [["ARMATURE", seen["armature"]]]
    assert seen["actions"] == 1 and seen["action"].startswith("wave")
    size = case["cfg"].texture_size
    assert seen["images"] == [[[size, size], True]] and seen["base_color_textured"]
    _engine_check(seen, g, rot)


def test_texture_carries_vertex_colours_and_color_fn(exported):
    case = exported["child_hat"]
    rigged, mesh = case["rigged"], case["mesh"]
    h, w = rigged.texture.shape[:2]
    px = rigged.texture[np.clip((rigged.uvs[:, 1] * h).astype(int), 0, h - 1),
                        np.clip((rigged.uvs[:, 0] * w).astype(int), 0, w - 1)] / 255.0
    err = np.abs(px - mesh.vertex_colors[rigged.source_vertex]).max(1)
    assert np.median(err) < 0.03
    hat = rigged.vertex_regions == REGIONS.index("headwear")
    assert np.abs(np.median(px[hat], 0) - np.asarray(COLORS["red"][0])).max() < 0.06
    upper = REGIONS.index("upper")

    def color_fn(points, normals, regions):  # paint the shirt pure green, leave the rest to the mesh
        out = np.full((len(points), 3), np.nan)
        out[regions == upper] = (0.0, 1.0, 0.0)
        return out

    tex = bake(unwrap(mesh), BakeConfig(texture_size=128), color_fn).texture
    assert (tex.reshape(-1, 3) == (0, 255, 0)).all(1).mean() > 0.05
    assert (tex.reshape(-1, 3) != (0, 255, 0)).any(1).mean() > 0.3


def test_preview_strip_shows_four_views(exported):
    png = render_preview(exported["child_hat"]["rigged"])
    import io

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert img.shape == (256, 1024, 3)
    for k in range(4):
        view = img[:, 256 * k: 256 * (k + 1)]
        assert (np.abs(view.astype(int) - view[0, 0]).sum(-1) > 30).mean() > 0.05, f"view {k} is empty"


def test_bad_export_inputs_write_nothing(exported, tmp_path):
    rigged = exported["child_hat"]["rigged"]
    with pytest.raises(ValueError, match="animation"):
        export_glb(rigged, tmp_path / "a.glb", ExportConfig(animation="dance"))
    with pytest.raises(ValueError, match="JSON"):
        export_glb(rigged, tmp_path / "a.glb", ExportConfig(animation="none"), extras={"x": object()})
    with pytest.raises(ValueError, match=".glb"):
        export_glb(rigged, tmp_path / "a.gltf")
    assert list(tmp_path.iterdir()) == []
    json.dumps(exported["knight"]["stats"])  # stats are plain JSON


@pytest.fixture(scope="module")
def body_glb(tmp_path_factory, gltf_validator):
    """The default path's dressed anny body with its clip, as ``generate`` writes it."""
    from pipeline.config import resolve_config
    from pipeline.generate import AvatarForge

    cfg = resolve_config("tiny", overrides=["optim.steps=1", "export.texture_size=256", "export.animation=wave"])
    return AvatarForge(cfg).generate("a knight with a cape", tmp_path_factory.mktemp("body") / "k.glb", cfg).glb


def test_threejs_loads_the_dressed_body_and_skins_it_as_the_file_says(body_glb, three):
    """One SkinnedMesh per material on the one 60-bone skeleton (8 are the cape's), no loader warning, and the body's
    primitive skinned by three.js where linear blend skinning of the file's channels puts it."""
    g = pygltflib.GLTF2().load(str(body_glb))
    t, rot = _key_pose(g)
    proc = subprocess.run([shutil.which("node") or "node", str(Path(__file__).with_name("threejs_pose.mjs")),
                           str(three), str(body_glb), repr(t)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout)
    assert seen["problems"] == []
    assert seen["skinned_meshes"] == len(g.meshes[0].primitives) >= 5
    assert seen["bones"] == [g.nodes[j].name for j in g.skins[0].joints] and len(seen["bones"]) == 52 + 8
    assert seen["clips"][0]["name"] == g.animations[0].name
    _engine_check(seen, g, rot)
    _check_jaw_open(seen, g, [0])  # three.js: the first SkinnedMesh is primitive 0


@pytest.mark.skipif(not BLENDER, reason="Blender is not installed (Debian: apt-get install blender python3-numpy; "
                                        "or set AVATARFORGE_BLENDER to a blender executable, or a python with bpy)")
def test_blender_imports_the_dressed_body_and_deforms_it_as_the_file_says(body_glb):
    """Blender merges the primitives into one mesh on one 60-bone armature, a vertex group per bone, the
    clip as an action; at a key each vertex of every primitive moves where our skinning of the file puts it."""
    g = pygltflib.GLTF2().load(str(body_glb))
    t, rot = _key_pose(g)
    seen = _blender_pose(body_glb, t)
    bones = [g.nodes[j].name for j in g.skins[0].joints]
    assert seen["armatures"] == 1 and seen["meshes"] == 1 and sorted(seen["bones"]) == sorted(bones)
    # the wave and the idle on the armature, the idle's blink on the shape keys
    assert seen["actions"] == len(g.animations) + 1 == 3
    prims = range(len(g.meshes[0].primitives))
    rest = np.concatenate([_read(g, g.meshes[0].primitives[i].attributes.POSITION) for i in prims])
    np.testing.assert_allclose(seen["rest"], rest, atol=1e-5)
    want = np.concatenate([_pose(g, rot, i) for i in prims])
    assert np.linalg.norm(want - rest, axis=1).max() > 0.3
    np.testing.assert_allclose(seen["posed"][0], want, atol=1e-4)
    assert seen["shape_keys"] == g.meshes[0].extras["targetNames"]
    _check_jaw_open(dict(seen, morph_names=seen["shape_keys"]), g, prims)
