"""The dressed anny body: garments cut along smooth fields, no avatar nude, a T-pose with fingers, and bodies
that follow the words (height, build, age, gender), measured on the meshes."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from nerf.body.cut import AttrMesh, clip
from nerf.body.dress import dress
from nerf.body.phenotypes import body_parameters, gender_of
from nerf.synthetic.avatar_spec import ACCESSORIES, HAIR, HEADWEAR, LOWER, UPPER
from nerf.template import Layout


@pytest.fixture(scope="module")
def model():
    from nerf.body import BodyModel

    return BodyModel.load()


def body_for(model, shape, gender=0.5, rest_pose="t"):
    bp = body_parameters(torch.tensor(shape, dtype=torch.float32), gender, model)
    with torch.no_grad():
        return model.forward(bp.phenotypes, bp.local_changes, rest_pose=rest_pose)


@pytest.fixture(scope="module")
def adult(model):
    return body_for(model, (1.75, 1.0, 1.0, 1.0, 0.5))


def test_a_clip_follows_the_field_not_the_triangles():
    """A unit sphere cut at y = 0.3: every new boundary vertex lies on the plane, the boundary is one closed
    loop (watertight across shared edges), and the area is the cap's."""
    import trimesh

    s = trimesh.creation.icosphere(subdivisions=3)
    v = s.vertices.astype(np.float32)
    m = AttrMesh(v, s.faces.astype(np.int64), v.copy(), np.zeros((len(v), 2), np.float32),
                 np.ones((len(v), 1), np.float32), np.arange(len(v)))
    cut = clip(m, v[:, 1] - 0.3)
    out = trimesh.Trimesh(cut.vertices, cut.faces, process=False)
    edges = out.edges_sorted
    uniq, counts = np.unique(edges, axis=0, return_counts=True)
    boundary = uniq[counts == 1]
    assert len(boundary) > 20 and np.allclose(cut.vertices[boundary.reshape(-1), 1], 0.3, atol=1e-5)
    cap = 2 * np.pi * (1 - 0.3)  # the area of a unit sphere's cap of height 0.7
    assert abs(out.area - cap) / cap < 0.03


def test_t_pose_with_fingers(adult):
    names = adult.joint_names
    j = adult.joints.numpy()
    for side in ("Left", "Right"):
        d = j[names.index(f"{side}ForeArm")] - j[names.index(f"{side}Arm")]
        assert np.degrees(np.arcsin(abs(d[1]) / np.linalg.norm(d))) < 5.0  # upper arm horizontal
        fingers = [n for n in names if n.startswith(f"{side}Hand") and n != f"{side}Hand"]
        assert len(fingers) >= 15
        x = np.array([1.0 if side == "Left" else -1.0, 0.0, 0.0])
        bones = [(f"{side}Hand", f"{side}HandMiddle1", x)]  # VRM tpose.md 1.6-1.8: hand and fingers straight
        for f in ("Thumb", "Index", "Middle", "Ring", "Pinky"):
            d = (x + [0.0, 0.0, 1.0]) / np.sqrt(2) if f == "Thumb" else x  # thumbs 45 degrees toward +Z
            bones += [(f"{side}Hand{f}1", f"{side}Hand{f}2", d), (f"{side}Hand{f}2", f"{side}Hand{f}3", d)]
        for a, b, d in bones:
            v = j[names.index(b)] - j[names.index(a)]
            assert np.degrees(np.arccos(v @ d / np.linalg.norm(v))) < 1.0, (a, b)
    assert abs(float(adult.vertices[:, 1].min())) < 0.01  # feet on y = 0


LAYOUTS = [Layout(upper=u, lower=lo, headwear=hw, hair=h, accessories=acc)
           for (u, lo), hw, h, acc in zip(itertools.product(UPPER, LOWER), itertools.cycle(HEADWEAR),
                                          itertools.cycle(HAIR), itertools.cycle([(), *[(a,) for a in ACCESSORIES],
                                                                                  tuple(ACCESSORIES)]))]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: f"{lay.upper}-{lay.lower}-{lay.headwear}")
def test_every_outfit_dresses_the_body(adult, layout):
    d = dress(adult, layout)
    assert abs(d.weights.sum(1) - 1).max() < 1e-4 and np.isfinite(d.vertices).all()
    assert d.faces.min() >= 0 and d.faces.max() < d.n_vertices
    assert (0 <= d.uvs).all() and (d.uvs <= 1).all()
    names = [p.name for p in d.pieces]
    assert names[:2] == ["body", "eyes"] and layout.upper in names
    lm = d.landmarks
    # no avatar is nude: no bare body skin left on the torso and the hips
    body = d.vertex_pieces == 0
    v = d.vertices
    torso = body & (np.abs(v[:, 0]) < 0.12) & (v[:, 1] > lm.upleg_y) & (v[:, 1] < lm.shoulder_y - 0.05)
    assert torso.sum() < 0.01 * body.sum(), torso.sum()
    # each finger joint moves some vertex
    j = d.skeleton.names
    moved = (d.weights > 0.05).any(0)
    assert all(moved[i] for i, n in enumerate(j) if "Hand" in n and n[-1].isdigit())


def test_a_dress_reaches_below_the_knees(adult):
    d = dress(adult, Layout(upper="dress", lower="skirt"))
    skirt = next(i for i, p in enumerate(d.pieces) if p.name == "dress" and p.double_sided)  # the flared tube
    tube = d.vertices[d.vertex_pieces == skirt]
    assert tube[:, 1].min() < d.landmarks.knee_y - 0.05


def height(body) -> float:
    return float(body.vertices[:, 1].max() - body.vertices[:, 1].min())


def width_at(body, frac: float, band: float = 0.02) -> float:
    v = body.vertices.numpy()
    h = v[:, 1].max()
    s = v[(np.abs(v[:, 1] - frac * h) < band) & (np.abs(v[:, 0]) < 0.3)]
    return float(s[:, 0].max() - s[:, 0].min())


def test_bodies_follow_the_words(model):
    """The generator's shapes for "a very tall thin man" and "a short heavy man", a child and an adult, a
    woman and a man, measured on the bodies."""
    tall = body_for(model, (1.92, 0.75, 1.0, 1.0, 0.5), gender=0.0)
    short = body_for(model, (1.55, 1.4, 1.0, 1.0, 0.5), gender=0.0)
    assert height(tall) > 1.15 * height(short)
    assert width_at(tall, 0.6) / height(tall) < 0.85 * width_at(short, 0.6) / height(short)  # waist per height
    child = body_for(model, (1.2, 0.85, 1.3, 0.9, 0.45))
    grown = body_for(model, (1.72, 1.0, 1.0, 1.0, 0.5))
    assert height(child) < 0.8 * height(grown)

    def head_ratio(b):
        v = b.vertices.numpy()
        neck = float(b.joints[b.joint_names.index("Neck"), 1])
        return (v[:, 1].max() - neck) / height(b)

    assert head_ratio(child) > 1.1 * head_ratio(grown)
    woman = body_for(model, (1.72, 1.0, 1.0, 1.0, 0.5), gender=1.0, rest_pose="a")
    man = body_for(model, (1.72, 1.0, 1.0, 1.0, 0.5), gender=0.0, rest_pose="a")

    def hip_to_shoulder(b):
        j = b.joints.numpy()
        n = b.joint_names
        shoulders = abs(j[n.index("LeftArm"), 0] - j[n.index("RightArm"), 0])
        return width_at(b, 0.52) / shoulders

    assert hip_to_shoulder(woman) > 1.05 * hip_to_shoulder(man)


@pytest.mark.parametrize("prompt,g", [("a queen in a blue gown", 1.0), ("a businessman in a suit", 0.0),
                                      ("一个穿着西装的商务男士", 0.0), ("a knight", 0.5), ("a man and a woman", 0.5)])
def test_gender_from_the_prompt(prompt, g):
    assert gender_of(prompt) == g


def test_an_a_pose_keeps_the_hands_out_of_the_trousers(model):
    body = body_for(model, (1.75, 1.0, 1.0, 1.0, 0.5), rest_pose="a")
    d = dress(body, Layout(upper="shirt", lower="trousers", accessories=("belt",)))
    names = d.skeleton.names
    arm = [i for i, n in enumerate(names) if "Arm" in n or "Hand" in n]
    for piece in ("trousers", "belt"):
        k = [p.name for p in d.pieces].index(piece)
        assert d.weights[d.vertex_pieces == k][:, arm].sum(1).max() < 0.5, piece


def test_a_bun_and_a_ponytail_sit_behind_the_head(adult):
    """A bun: a closed shape behind the head at its height; a ponytail: hangs from the back of the head to
    below the neck, behind the body all the way, on a spring chain of its own; both outward-facing."""
    import trimesh

    lm = None
    for style in ("bun", "ponytail"):
        d = dress(adult, Layout(hair=style))
        lm = d.landmarks
        i = [p.name for p in d.pieces].index(style)
        assert d.pieces[i].region == "hair" and "hair" in [p.name for p in d.pieces]  # pulled back, close
        sel = d.vertex_pieces == i
        v = d.vertices[sel]
        keep = np.flatnonzero(sel)
        f = d.faces[np.isin(d.faces, keep).all(1)]
        remap = np.full(d.n_vertices, -1)
        remap[keep] = np.arange(len(keep))
        m = trimesh.Trimesh(v, remap[f], process=False)
        assert m.volume > 0  # wound outward (a closed bun, or a tube whose ends add little)
        assert v[:, 2].max() < lm.head_center[2] - 0.5 * lm.head_radius  # behind the head
        if style == "bun":
            assert m.is_watertight
            assert abs(v[:, 1].mean() - lm.head_center[1]) < 0.04 and 0.05 < np.ptp(v[:, 0]) < 0.12
            assert not d.skeleton.springs
        else:
            assert v[:, 1].max() > lm.head_center[1] and v[:, 1].min() < lm.shoulder_y - 0.03
            # never inside the body: behind the back of the neck and torso (skin or shirt) below the neck
            hair = [j for j, p in enumerate(d.pieces) if p.region == "hair"]
            body = d.vertices[~np.isin(d.vertex_pieces, hair)]
            for y in np.linspace(lm.shoulder_y - 0.02, lm.neck_y - 0.03, 4):
                band = body[(np.abs(body[:, 1] - y) < 0.01) & (np.abs(body[:, 0]) < 0.05)]
                tail = v[np.abs(v[:, 1] - y) < 0.01]
                assert tail[:, 2].max() < band[:, 2].min(), y
            chain = [n for n in d.skeleton.names if n.startswith("HairBack")]
            assert chain and any(s.name == "hair" for s in d.skeleton.springs)
            assert d.weights[sel][:, [d.skeleton.names.index(n) for n in chain]].sum(1).max() > 0.5
