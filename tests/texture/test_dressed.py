"""The rigged dressed body: no body vertex under a garment ends outside it, at rest and at key poses of the
clips and of a stride; the face is painted; one material per region."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nerf.artifacts import REGIONS
from nerf.body.dress import dress
from nerf.body.phenotypes import body_parameters
from nerf.synthetic.avatar_spec import AvatarSpec
from nerf.template import TemplateParams
from texture.animation import axis_angle, make_clip, quat_to_matrix
from texture.artifacts import TextureReport
from texture.dressed import rig_dressed
from texture.gltf.config import ExportConfig
from texture.triplanar import ProjectionConfig


@pytest.fixture(scope="module")
def model():
    from nerf.body import BodyModel

    return BodyModel.load()


def rigged_for(model, spec: AvatarSpec):
    tp = TemplateParams.from_spec(spec)
    bp = body_parameters(tp.shape, 0.5, model)
    with torch.no_grad():
        body = model.forward(bp.phenotypes, bp.local_changes)
    d = dress(body, tp.layout)
    r = rig_dressed(d, tp.colors.numpy(), tp.layout.metal, TextureReport(None), ProjectionConfig(),
                    ExportConfig(texture_size=512))
    return d, r


def pose(r, local: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Linear blend skinning of ``r`` with local joint rotations (3x3, by name): positions and the
    blended rotation of each vertex."""
    sk = r.skeleton
    world = np.zeros((len(sk.names), 4, 4))
    for j, (name, parent) in enumerate(zip(sk.names, sk.parents)):  # parents come first
        m = np.eye(4)
        m[:3, 3] = sk.positions[j] - (sk.positions[parent] if parent >= 0 else 0)
        m[:3, :3] = local.get(name, np.eye(3))
        world[j] = (world[parent] if parent >= 0 else np.eye(4)) @ m
    skin = world @ r.inverse_bind.astype(np.float64)
    blend = (r.weights[:, :, None, None] * skin[r.joints]).sum(1)
    pos = (blend[:, :3, :3] @ r.vertices[:, :, None].astype(np.float64))[:, :, 0] + blend[:, :3, 3]
    return pos, blend[:, :3, :3]


def key_poses(skeleton) -> list[dict[str, np.ndarray]]:
    out = [{}]
    for kind in ("wave", "idle"):
        clip = make_clip(kind, skeleton, 2.0)
        for t in (0.5, 1.0, 1.5):
            k = int(np.argmin(np.abs(clip.times - t)))
            out.append({n: quat_to_matrix(q[k]) for n, q in clip.rotations.items()})
    stride = quat_to_matrix(axis_angle((1, 0, 0), np.radians([35.0, -35.0])))
    out.append({"LeftUpLeg": stride[0], "RightUpLeg": stride[1]})
    return out


@pytest.mark.parametrize("spec", [
    AvatarSpec(upper="shirt", lower="trousers", hair="short"),
    AvatarSpec(upper="armour", lower="trousers", headwear="helmet", accessories=("boots", "belt")),
    AvatarSpec(upper="jacket", lower="shorts", headwear="hood"),
], ids=["shirt", "armour", "jacket"])
def test_no_body_vertex_under_a_garment_ends_outside_it(model, spec):
    d, r = rigged_for(model, spec)
    body = np.flatnonzero(d.vertex_pieces == 0)
    by_source = {int(s): int(i) for i, s in zip(body, d.body_vertex[body])}
    pairs = [(by_source[int(s)], g) for g in np.flatnonzero(d.vertex_pieces > 1)  # shells made from the body
             if (s := d.body_vertex[g]) >= 0 and int(s) in by_source]
    assert len(pairs) > 100
    b, g = np.array(pairs).T
    for local in key_poses(r.skeleton):
        pos, rot = pose(r, local)
        normal = (rot[g] @ r.normals[g][:, :, None].astype(np.float64))[:, :, 0]
        outside = ((pos[b] - pos[g]) * normal).sum(1) > 0  # the body vertex beyond its garment's surface
        assert outside.mean() <= 0.005, (outside.mean(), list(local))


def test_the_face_is_painted_and_regions_have_materials(model):
    d, r = rigged_for(model, AvatarSpec(upper="shirt", upper_color="red", hair="short", skin="1"))
    eyes = next(p for p in d.pieces if p.name == "eyes")
    u0, v0, size = eyes.tile
    h, w = r.texture.shape[:2]
    centre = r.texture[int((v0 + size / 2) * h), int((u0 + size / 2) * w)]
    sclera = r.texture[int((v0 + size * 0.2) * h), int((u0 + size / 2) * w)]
    assert centre.max() < 40 and sclera.min() > 180  # a dark pupil in a white eye
    skin = REGIONS.index("skin")
    lm = d.landmarks
    lips = (d.vertex_regions == skin) & (np.linalg.norm(d.vertices - lm.mouth, axis=1) < 0.012)
    assert lips.any()
    names = [m.name for m in r.materials]
    assert len(names) == len(set(names)) and {"skin", "upper", "lower", "shoes", "hair"} <= set(names)
    assert r.face_materials.shape == (r.n_faces,)
