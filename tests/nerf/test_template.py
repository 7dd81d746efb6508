"""The humanoid template: proportions follow the attributes, feet on the ground, a sane skeleton."""
import dataclasses
import random

import numpy as np
import pytest
import torch

from nerf.synthetic.avatar_spec import AvatarSpec, apply_archetype, sample_spec
from nerf.synthetic.corpus import is_heldout, render_avatar
from nerf.template import (
    JOINT_NAMES,
    JOINT_PARENTS,
    TemplateParams,
    bounds,
    joints,
    primitive_distances,
    primitives,
    sdf,
    skeleton,
)


def inside_points(spec: AvatarSpec, res: int = 56) -> torch.Tensor:
    p = TemplateParams.from_spec(spec)
    lo, hi = bounds(p.shape)
    axes = [torch.linspace(float(lo[i]), float(hi[i]), res) for i in range(3)]
    pts = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    return pts[sdf(pts, primitives(p)) < 0]


def occupied_extent(spec: AvatarSpec) -> tuple[np.ndarray, np.ndarray]:
    inside = inside_points(spec)
    return inside.min(0).values.numpy(), inside.max(0).values.numpy()


def test_the_cape_hangs_from_the_shoulders():
    """The cape was a round cone whose top cap rose behind the head to the crown: it must start at the
    shoulders (above the arm joints, below the neck) and end off the ground, for every body."""
    rng = random.Random(3)
    for _ in range(30):
        spec = sample_spec(rng)
        spec = dataclasses.replace(spec, accessories=tuple(sorted(set(spec.accessories) | {"cape"})))
        p = TemplateParams.from_spec(spec)
        prims = primitives(p)
        cape = int((prims["scale"][:, 2] - 0.1).abs().argmin())
        lo, hi = bounds(p.shape)
        axes = [torch.linspace(float(lo[i]), float(hi[i]), n) for i, n in enumerate((24, 160, 48))]
        pts = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
        d = primitive_distances(pts, {k: v[cape: cape + 1] for k, v in prims.items()})[:, 0]
        y = pts[d < 0][:, 1]
        j = joints(p.clamped_shape())
        assert float(j["LeftArm"][1]) < float(y.max()) < float(j["Neck"][1]), spec
        assert float(y.min()) > 0.03, spec


@pytest.mark.parametrize("height,expected", [("tall", 1.92), ("average", 1.72), ("short", 1.55)])
def test_height_and_ground(height, expected):
    lo, hi = occupied_extent(AvatarSpec(height=height, hair="none"))
    assert abs(lo[1]) < 0.04, "feet must stand on y = 0"
    assert abs(hi[1] - expected) / expected < 0.05


def test_build_changes_width_not_height():
    def chest_depth(spec):
        pts = inside_points(spec)
        band = pts[(pts[:, 1] > 1.0) & (pts[:, 1] < 1.2) & (pts[:, 0].abs() < 0.08)]
        return float(band[:, 2].max() - band[:, 2].min())

    thin, stout = AvatarSpec(build="thin", hair="none"), AvatarSpec(build="stout", hair="none")
    assert chest_depth(stout) > 1.4 * chest_depth(thin)
    (tl, th), (sl, sh) = occupied_extent(thin), occupied_extent(stout)
    assert abs((sh[1] - sl[1]) - (th[1] - tl[1])) < 0.05


def test_skeleton_is_a_tree_with_retargeting_names():
    sk = skeleton(TemplateParams.from_spec(AvatarSpec()).shape)
    assert len(sk.names) >= 20 and sk.names == list(JOINT_NAMES)
    assert all(p < i for i, p in enumerate(JOINT_PARENTS))
    pos = dict(zip(sk.names, sk.positions))
    assert pos["LeftHand"][0] > 0 > pos["RightHand"][0], "the avatar's left is +X (facing +Z)"
    assert pos["Head"][1] > pos["Neck"][1] > pos["Hips"][1] > pos["LeftLeg"][1] > pos["LeftFoot"][1]
    assert pos["LeftToeBase"][2] > pos["LeftFoot"][2], "toes point forward (+Z)"


def test_corpus_render_is_deterministic_and_colourful():
    a = render_avatar(5, 0, 2, 48)
    b = render_avatar(5, 0, 2, 48)
    assert np.array_equal(a[0]["image"], b[0]["image"])
    assert a[0]["image"].shape == (48, 48, 3)
    assert a[0]["image"].std() > 10  # not a blank frame


def test_archetype_and_heldout_split():
    spec = apply_archetype(AvatarSpec(), "knight")
    assert spec.upper == "armour" and spec.headwear == "helmet"
    # about 1 in 7 combinations is held out, and the split depends on the attributes it names
    import random

    from nerf.synthetic.avatar_spec import sample_spec

    specs = [sample_spec(random.Random(i)) for i in range(2000)]
    share = sum(map(is_heldout, specs)) / len(specs)
    assert 0.09 < share < 0.2, share
    plain = AvatarSpec(upper_color="red", upper="shirt", lower_color="blue")
    assert is_heldout(plain) == is_heldout(AvatarSpec(upper_color="red", upper="shirt", lower_color="blue",
                                                      height="tall", hair="long"))
    with pytest.raises(ValueError, match="unknown archetype"):
        apply_archetype(AvatarSpec(), "wizzard")


def test_every_archetype_is_both_trained_on_and_held_out():
    """Held-out combinations must never remove a whole archetype from training."""
    import random

    from nerf.synthetic.avatar_spec import ARCHETYPES, sample_spec

    seen: dict[str, set] = {a: set() for a in ARCHETYPES}
    rng = random.Random(0)
    for _ in range(4000):
        s = sample_spec(rng, archetype_prob=1.0)
        seen[s.archetype].add(is_heldout(s))
    assert all(v == {True, False} for v in seen.values()), seen
