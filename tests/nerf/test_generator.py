"""The shape generator's body: age, height and build classes mapped to the template's proportions."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from nerf.generator import ShapeGenerator, body_shape, body_table
from nerf.synthetic.avatar_spec import AGES, BUILDS, HEIGHTS, AvatarSpec
from nerf.template import shape_from_spec


def one_hot(index: int, n: int) -> torch.Tensor:
    return F.one_hot(torch.tensor([index]), n).float()


@pytest.mark.parametrize("age,height,build,upper", itertools.product(AGES, HEIGHTS, BUILDS, ("shirt", "armour")))
def test_certain_classes_give_the_templates_proportions(age, height, build, upper):
    got = body_shape(body_table(), one_hot(AGES.index(age), 2), one_hot(HEIGHTS.index(height), 3),
                     one_hot(BUILDS.index(build), 3), one_hot(int(upper == "armour"), 2))[0]
    want = shape_from_spec(AvatarSpec(age=age, height=height, build=build, upper=upper))
    assert torch.allclose(got, torch.tensor(want), atol=1e-5), (got, want)


@pytest.mark.parametrize("p_child,child", [(0.95, True), (0.6, False)])
def test_decode_commits_to_the_age_and_averages_height_and_build(p_child, child):
    """A likely child gets a child's proportions, not a body between a child's and an adult's (and
    only a sure one: see ``CHILD_MIN_P``); height and build split evenly over their classes give
    the average of the classes."""
    gen = ShapeGenerator(8)
    with torch.no_grad():
        out = gen(torch.zeros(1, 8))
        out["age"] = torch.log(torch.tensor([[1 - p_child, p_child]]))
        out["height"] = torch.zeros(1, 3)
        out["build"] = torch.zeros(1, 3)
        out["upper"] = torch.tensor([[5.0, 0, 0, 0, 0]])  # a shirt
        shape = gen.decode(out, 0).shape
    age = "child" if child else "adult"
    want = shape_from_spec(AvatarSpec(age=age))
    assert float(shape[2]) == pytest.approx(want[2]) and float(shape[4]) == pytest.approx(want[4])
    if child:
        assert float(shape[0]) == pytest.approx(want[0])
    else:  # height split evenly over short, average and tall
        assert float(shape[0]) == pytest.approx(sum(shape_from_spec(AvatarSpec(height=h))[0] for h in HEIGHTS) / 3)
    mean_girth = sum(shape_from_spec(AvatarSpec(age=age, build=b))[1] for b in BUILDS) / 3
    assert float(shape[1]) == pytest.approx(mean_girth, abs=1e-5)
