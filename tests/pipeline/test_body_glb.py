"""The default GLB is the dressed anny body (issue 29), measured on the file itself: valid 0/0, anny's
topology, fingers, a T-pose, feet on the ground, garments as primitives with their own materials and the
colours the prompt names."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import resolve_config

FAST = ["optim.steps=2", "optim.patience=0"]


@pytest.fixture(scope="module")
def red_blue(tmp_path_factory):
    from pipeline.generate import AvatarForge

    cfg = resolve_config("tiny", overrides=FAST)
    out = tmp_path_factory.mktemp("body") / "rb.glb"
    return AvatarForge(cfg).generate("a person in a red shirt and blue trousers", out, cfg)


def test_the_glb_is_valid_and_carries_the_body(red_blue, gltf_validator):
    import pygltflib

    from texture.gltf.validate import validate_glb

    rep = validate_glb(red_blue.glb)
    assert rep["issues"]["numErrors"] == 0 and rep["issues"]["numWarnings"] == 0, rep["issues"]["messages"][:5]
    g = pygltflib.GLTF2().load_binary(str(red_blue.glb))
    prims = g.meshes[0].primitives
    n_vertices = sum(g.accessors[p.attributes.POSITION].count for p in prims)
    assert n_vertices >= 10_000 and len(prims) >= 5  # skin, upper, lower, shoes, hair at least
    names = {m.name for m in g.materials}
    assert {"skin", "upper", "lower", "shoes"} <= names
    joints = [g.nodes[j].name for j in g.skins[0].joints]
    for side in ("Left", "Right"):
        assert sum(n.startswith(f"{side}Hand") and n[-1].isdigit() for n in joints) >= 15
        fore = g.nodes[next(i for i, n in enumerate(g.nodes) if n.name == f"{side}ForeArm")].translation
        assert np.degrees(np.arctan2(abs(fore[1]), np.hypot(fore[0], fore[2]))) < 5  # T-pose: upper arm level
    for view in {g.bufferViews[p.attributes.POSITION].byteStride for p in prims}:
        assert view == 12  # byteStride declared on vertex attributes
    side = red_blue.sidecar_data
    assert side["rest_pose"] == "T-pose" and side["body"]["model"].startswith("anny")


def test_weights_and_ground(red_blue):
    import trimesh

    scene = trimesh.load(red_blue.glb, force="scene")
    lows = [g.vertices[:, 1].min() for g in scene.geometry.values()]
    assert abs(min(lows)) < 0.01
    import pygltflib

    g = pygltflib.GLTF2().load_binary(str(red_blue.glb))
    blob = g.binary_blob()
    for p in g.meshes[0].primitives:
        acc = g.accessors[p.attributes.WEIGHTS_0]
        view = g.bufferViews[acc.bufferView]
        w = np.frombuffer(blob, np.float32, acc.count * 4, view.byteOffset + (acc.byteOffset or 0)).reshape(-1, 4)
        assert np.allclose(w.sum(1), 1, atol=1e-5) and (w >= 0).all()


def test_the_named_colours_are_on_their_garments(red_blue):
    import trimesh

    scene = trimesh.load(red_blue.glb, force="scene")
    mean = {}
    for geom in scene.geometry.values():
        cols = geom.visual.to_color().vertex_colors[:, :3].astype(float)
        mean[geom.visual.material.name] = cols.mean(0)
    up, low = mean["upper"], mean["lower"]
    assert up[0] > up[1] + 60 and up[0] > up[2] + 60, up  # red shirt
    assert low[2] > low[0] + 40 and low[2] > low[1] + 20, low  # blue trousers


def test_lods_keep_the_materials_and_the_skeleton(tmp_path, gltf_validator):
    import pygltflib

    from pipeline.generate import AvatarForge
    from texture.gltf.validate import validate_many

    cfg = resolve_config("tiny", overrides=[*FAST, "export.lods=1"])
    res = AvatarForge(cfg).generate("a wizard in a purple robe", tmp_path / "w.glb", cfg)
    files = [res.glb, tmp_path / "w_lod1.glb"]
    for rep in validate_many(files):
        assert rep["issues"]["numErrors"] == 0 and rep["issues"]["numWarnings"] == 0, rep["issues"]["messages"][:5]
    full, lod = (pygltflib.GLTF2().load_binary(str(f)) for f in files)
    tri = [sum(g.accessors[p.indices].count // 3 for p in g.meshes[0].primitives) for g in (full, lod)]
    assert tri[1] < 0.6 * tri[0]
    assert [m.name for m in lod.materials] == [m.name for m in full.materials]
    names = [full.nodes[j].name for j in full.skins[0].joints]
    assert [lod.nodes[j].name for j in lod.skins[0].joints] == names
    swaying = [n for n in names if n.startswith(("Skirt", "Hair", "Cape"))]  # spring chains
    assert len(names) - len(swaying) == 52 and sum(n.startswith("Skirt") for n in swaying) == 16  # the robe's 4
