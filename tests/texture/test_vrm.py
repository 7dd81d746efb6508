"""The face's morph targets and VRM 1.0 (issue 31), on a dressed anny body written by ``export_glb``: the files
pass the Khronos validator 0/0 and the VRM 1.0 rules (``tests/vrm_rules.py``, written from the spec); three.js
with @pixiv/three-vrm loads the .vrm, finds its meta, bones and expressions, and moves what they should."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pygltflib
import pytest
import torch

from nerf.body.dress import dress
from nerf.body.face import ARKIT, VISEMES
from nerf.body.phenotypes import body_parameters
from nerf.synthetic.avatar_spec import AvatarSpec
from nerf.template import TemplateParams
from texture.artifacts import TextureReport
from texture.dressed import rig_dressed
from texture.gltf.config import ExportConfig
from texture.gltf.export import export_glb
from texture.gltf.validate import ensure_node_package, validate_many
from texture.gltf.vrm import HUMAN_BONES, PRESETS, REQUIRED_BONES
from texture.triplanar import ProjectionConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vrm_rules import read_glb_json, vrm_problems  # noqa: E402

THREE, THREE_VRM = "three@0.187", "@pixiv/three-vrm@3.5.5"  # pinned: the test checks one loader's behaviour
MM = 1e-3


def _rigged(spec: AvatarSpec):
    from nerf.body import BodyModel

    model = BodyModel.load()
    tp = TemplateParams.from_spec(spec)
    bp = body_parameters(tp.shape, 0.5, model)
    with torch.no_grad():
        body = model.forward(bp.phenotypes, bp.local_changes)
    return rig_dressed(dress(body, tp.layout), tp.colors.numpy(), tp.layout.metal, TextureReport(None),
                       ProjectionConfig(), ExportConfig(texture_size=512))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rigged = _rigged(AvatarSpec(upper="shirt", lower="trousers", hair="long", headwear="hood"))
    out = tmp_path_factory.mktemp("vrm")
    stats = {}
    for name in ("a.vrm", "a.glb"):
        stats[name] = export_glb(rigged, out / name, ExportConfig(texture_size=512),
                                 extras={"prompt": "a knight with long hair in a hood", "seed": 3})
    return {"dir": out, "rigged": rigged, "stats": stats}


def _world(gltf: dict) -> dict[str, np.ndarray]:
    """World position of each named node (the joints carry translations only)."""
    nodes, parent = gltf["nodes"], {}
    for i, n in enumerate(nodes):
        for c in n.get("children", []):
            parent[c] = i
    out = {}
    for i, n in enumerate(nodes):
        p, j = np.zeros(3), i
        while j is not None:
            p += nodes[j].get("translation", [0, 0, 0])
            j = parent.get(j)
        out[n.get("name", str(i))] = p
    return out


def test_files_validate_and_follow_the_vrm_rules(files):
    reports = validate_many([files["dir"] / "a.vrm", files["dir"] / "a.glb"])
    for r in reports:
        assert (r["issues"]["numErrors"], r["issues"]["numWarnings"]) == (0, 0), r["issues"]["messages"][:5]
    assert vrm_problems(read_glb_json(files["dir"] / "a.vrm")) == []  # the T-pose's straight fingers included
    assert files["stats"]["a.vrm"]["bytes"] <= 12 * 2**20
    vrm, glb = files["stats"]["a.vrm"], files["stats"]["a.glb"]  # what the sidecar reports
    assert (vrm["format"], glb["format"]) == ("vrm", "glb") and vrm["expressions"] == list(PRESETS)
    assert vrm["morph_targets"] == glb["morph_targets"] == [*ARKIT, *VISEMES]


def test_morph_targets_carry_the_arkit_and_viseme_names_sparsely(files):
    g = pygltflib.GLTF2().load(str(files["dir"] / "a.glb"))
    names = list(ARKIT) + list(VISEMES)
    face = [m for m in g.meshes if m.extras.get("targetNames")]
    assert face and all(m.extras["targetNames"] == names for m in face)
    assert all(len(p.targets) == len(names) for m in face for p in m.primitives)
    pos = g.accessors[g.meshes[0].primitives[0].attributes.POSITION]
    jaw = g.accessors[face[0].primitives[0].targets[ARKIT.index("jawOpen")]["POSITION"]]
    assert jaw.sparse is not None and 100 < jaw.sparse.count < pos.count / 2
    assert jaw.min[1] < -5 * MM  # the jaw drops by more than 5 mm somewhere
    assert [a.name for a in g.animations] == ["wave", "idle"]
    idle = g.animations[1]
    assert any(c.target.path == "weights" for c in idle.channels)  # the idle blinks through the morph weights


def test_vrm_json_maps_every_bone_and_expression(files):
    vrm = read_glb_json(files["dir"] / "a.vrm")["extensions"]["VRMC_vrm"]
    assert vrm["specVersion"] == "1.0"
    bones = vrm["humanoid"]["humanBones"]
    assert set(REQUIRED_BONES) <= set(bones) and set(bones) == set(HUMAN_BONES.values())
    assert len([b for b in bones if "Thumb" in b or "Index" in b or "Little" in b]) == 18
    assert set(PRESETS) <= set(vrm["expressions"]["preset"])
    assert set(vrm["expressions"]["custom"]) == set(ARKIT) | set(VISEMES)
    assert vrm["meta"]["name"] == "a knight with long hair in a hood" and vrm["meta"]["extras"]["seed"] == 3
    assert {a["type"] for a in vrm["firstPerson"]["meshAnnotations"]} == {"auto", "thirdPersonOnly"}


@pytest.fixture(scope="module")
def node_modules():
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("Node.js and npm are not installed")
    ensure_node_package("three", THREE)
    return ensure_node_package("@pixiv/three-vrm", THREE_VRM).parents[1]


def _probe(node_modules, path, *scenarios):
    proc = subprocess.run([shutil.which("node"), str(Path(__file__).with_name("threevrm_probe.mjs")),
                           str(node_modules), str(path), *scenarios], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["problems"] == [] and out["error"] is None
    return out


def _positions(probe, scenario) -> np.ndarray:
    return np.concatenate([np.reshape(p["positions"], (-1, 3)) for p in probe["probes"][scenario]])


def _head_weight(path, probe) -> np.ndarray:
    """Float[N] the skin weight on the neck and head joints of each probed vertex (probe order: the scene's
    meshes, then their primitives, as three.js traverses them)."""
    g = pygltflib.GLTF2().load_binary(str(path))  # by content: pygltflib picks the parser by suffix
    head = {g.skins[0].joints.index(i) for i, n in enumerate(g.nodes) if n.name in ("Neck", "Head")}
    out = []
    for node in g.scenes[0].nodes:
        if g.nodes[node].mesh is None:
            continue
        for prim in g.meshes[g.nodes[node].mesh].primitives:
            j, w = _read(g, prim.attributes.JOINTS_0), _read(g, prim.attributes.WEIGHTS_0)
            out.append((w * np.isin(j, list(head))).sum(1))
    w = np.concatenate(out)
    assert len(w) == sum(p["count"] for p in probe["probes"]["rest"])
    return w


def _read(g: pygltflib.GLTF2, index: int) -> np.ndarray:
    a = g.accessors[index]
    v = g.bufferViews[a.bufferView]
    dtype = {5121: np.uint8, 5123: np.uint16, 5126: np.float32}[a.componentType]
    width = {"VEC4": 4, "VEC3": 3}[a.type]
    raw = g.binary_blob()[v.byteOffset + (a.byteOffset or 0):][:a.count * width * np.dtype(dtype).itemsize]
    return np.frombuffer(raw, dtype).reshape(a.count, width)


def test_three_vrm_loads_the_vrm_and_its_face_and_bones_move(files, node_modules):
    out = _probe(node_modules, files["dir"] / "a.vrm", "expr:aa", "expr:blink", "bone:leftUpperArm:z:60")
    assert out["meta"]["metaVersion"] == "1" and out["meta"]["licenseUrl"] == "https://vrm.dev/licenses/1.0/"
    assert out["meta"]["commercialUsage"] == "corporation" and out["meta"]["avatarPermission"] == "everyone"
    assert set(REQUIRED_BONES) <= set(out["humanBones"]) and len(out["humanBones"]) == len(HUMAN_BONES)
    assert set(PRESETS) <= set(out["expressions"])
    assert out["lookAt"]["type"] == "expression"
    world = _world(read_glb_json(files["dir"] / "a.vrm"))
    rest = _positions(out, "rest")

    moved = np.linalg.norm(_positions(out, "expr:aa") - rest, axis=1)
    assert (moved > 1 * MM).sum() >= 100
    below_neck = _head_weight(files["dir"] / "a.vrm", out) == 0  # skinned to no neck or head joint
    assert below_neck.sum() > len(rest) / 2 and moved[below_neck].max() < 1e-4

    drop = rest[:, 1] - _positions(out, "expr:blink")[:, 1]
    for side in (1, -1):  # both upper lids come down by 5 mm or more
        assert drop[side * rest[:, 0] > 0].max() >= 5 * MM

    arm = np.linalg.norm(_positions(out, "bone:leftUpperArm:z:60") - rest, axis=1)
    left_hand, right_hand = rest[:, 0] > world["LeftHand"][0], rest[:, 0] < world["RightHand"][0]
    assert left_hand.any() and right_hand.any()
    assert arm[left_hand].min() > 0.1 and arm[right_hand].max() < 1e-4



@pytest.fixture(scope="module")
def swaying(tmp_path_factory):
    """A .vrm whose long hair, skirt and cape hang on spring chains."""
    rigged = _rigged(AvatarSpec(upper="shirt", lower="skirt", hair="long", accessories=("cape",)))
    path = tmp_path_factory.mktemp("springs") / "s.vrm"
    export_glb(rigged, path, ExportConfig(texture_size=256), extras={"prompt": "a woman in a skirt and a cape"})
    return path, rigged


def test_spring_chains_follow_the_spec_and_carry_their_pieces(swaying, gltf_validator):
    path, rigged = swaying
    rep = validate_many([path])[0]["issues"]
    assert rep["numErrors"] == 0 and rep["numWarnings"] == 0, rep["messages"][:5]
    gltf = read_glb_json(path)
    assert vrm_problems(gltf) == []
    spring = gltf["extensions"]["VRMC_springBone"]
    names = {s["name"] for s in spring["springs"]}
    assert {"hair", "cape-left", "cape-right"} | {f"skirt-{k}" for k in ("front", "left", "back", "right")} <= names
    assert {g["name"] for g in spring["colliderGroups"]} == {"head", "torso", "legs"}
    human = {b["node"] for b in gltf["extensions"]["VRMC_vrm"]["humanoid"]["humanBones"].values()}
    joints = [j["node"] for s in spring["springs"] for j in s["joints"]]
    assert len(joints) == len(set(joints)) and not human & set(joints)
    sk, w = rigged.skeleton, np.zeros((rigged.n_vertices, len(rigged.skeleton.names)))
    np.add.at(w, (np.arange(len(w))[:, None], rigged.joints), rigged.weights)
    assert np.allclose(w.sum(1), 1, atol=1e-4)
    spring_j = [sk.index(j) for c in sk.springs for j in c.joints]
    carried = w[:, spring_j].sum(1) > 0.5
    assert carried.sum() > 500  # the hanging pieces ride their chains
    hips_y = sk.positions[sk.index("Hips")][1]
    skirt_j = [sk.index(j) for c in sk.springs if c.name.startswith("skirt") for j in c.joints]
    on_skirt = w[:, skirt_j].sum(1) > 0.5
    assert on_skirt.any() and (rigged.vertices[on_skirt, 1] < hips_y + 0.1).all()


def test_three_vrm_simulates_the_springs(swaying, node_modules):
    """At rest the chains hang still (no collider kicks them); spun by the hips they lag behind, then settle
    where the spin takes their rest."""
    path, rigged = swaying
    out = _probe(node_modules, path, "--every", "100000", "sim:120", "bone:hips:y:90+sim:3",
                 "bone:hips:y:90+sim:300")
    spring = read_glb_json(path)["extensions"]["VRMC_springBone"]["springs"]
    assert out["springJoints"] == sum(len(s["joints"]) - 1 for s in spring)  # a chain's tail is no joint
    rest, still = ({k: np.asarray(v) for k, v in out["springs"][s].items()} for s in ("rest", "sim:120"))
    assert max(np.linalg.norm(still[k] - rest[k]) for k in rest) < 0.05
    hips = rigged.skeleton.positions[rigged.skeleton.index("Hips")]

    def spun(p):  # +90 degrees about the hips' vertical axis
        d = p - hips
        return hips + np.array([d[2], d[1], -d[0]])

    skirt = [k for k in rest if k.startswith("Skirt") and k.endswith("3")]
    early, late = ({k: np.asarray(out["springs"][s][k]) for k in skirt}
                   for s in ("bone:hips:y:90+sim:3", "bone:hips:y:90+sim:300"))
    assert min(np.linalg.norm(early[k] - spun(still[k])) for k in skirt) > 0.03
    assert max(np.linalg.norm(late[k] - spun(still[k])) for k in skirt) < 0.03
