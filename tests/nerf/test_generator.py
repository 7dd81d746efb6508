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


def test_unnamed_attributes_are_trained_towards_plain_neutral_clothing():
    """A caption that names only the subject ("a person") is trained towards a shirt, trousers, no headwear on
    an average adult, its colours spread over neutral ones; what a caption names is the spec's value."""
    from nerf.artifacts import REGIONS
    from nerf.generator import NEUTRAL_COLORS, PALETTE, named_targets
    from nerf.synthetic.avatar_spec import COLORS, HEADWEAR, LOWER, UPPER, apply_archetype

    spec = AvatarSpec(height="tall", build="stout", upper="robe", upper_color="purple", headwear="crown",
                      accessories=("cape",))
    t = named_targets(spec, {"subject": "person", "age": "adult"})
    assert UPPER[int(t["upper"].argmax())] == "shirt" and float(t["upper"].max()) == 1.0
    assert LOWER[int(t["lower"].argmax())] == "trousers" and HEADWEAR[int(t["headwear"].argmax())] == "none"
    assert HEIGHTS[int(t["height"].argmax())] == "average" and float(t["accessories"].sum()) == 0
    upper = t["color_prob"][REGIONS.index("upper")]
    neutral = {PALETTE.index(COLORS[c][0]) for c in NEUTRAL_COLORS}
    assert set(torch.nonzero(upper).flatten().tolist()) == neutral and torch.isclose(upper.sum(), torch.tensor(1.0))
    named = named_targets(spec, {"subject": "person", "upper": "robe", "upper_color": "purple", "height": "tall"})
    assert UPPER[int(named["upper"].argmax())] == "robe" and HEIGHTS[int(named["height"].argmax())] == "tall"
    assert int(named["color_prob"][REGIONS.index("upper")].argmax()) == PALETTE.index(COLORS["purple"][0])
    assert BUILDS[int(named["build"].argmax())] == "average"
    # an archetype's word names what it fixes, and spreads what it leaves to a choice over its choices
    nurse = apply_archetype(AvatarSpec(), "nurse")
    t = named_targets(nurse, {"subject": "nurse", "upper": "shirt", "lower": "trousers", "headwear": "none"})
    choices = {PALETTE.index(COLORS[c][0]) for c in ("blue", "teal", "white", "green")}
    assert set(torch.nonzero(t["color_prob"][REGIONS.index("upper")]).flatten().tolist()) == choices


def test_the_seed_draws_only_what_the_heads_leave_open():
    from nerf.generator import open_pick

    sure = torch.tensor([0.05, 0.8, 0.15])
    assert {open_pick(sure, s, "upper") for s in range(20)} == {1}
    spread = torch.tensor([0.3, 0.32, 0.3, 0.08])
    picks = [open_pick(spread, s, "upper") for s in range(40)]
    assert set(picks) == {0, 1, 2}  # never the unlikely one
    assert picks == [open_pick(spread, s, "upper") for s in range(40)]  # the same seed, the same draw
    assert open_pick(spread, None, "upper") == 1


def test_an_unsure_headwear_head_gives_no_headwear():
    """Nobody expects a hat the prompt may not have asked for: an open head with a neutral value takes it
    when it is a candidate, whatever the seed; a sure head or a neutral too unlikely keeps the model's pick."""
    from nerf.generator import NEUTRAL_WHEN_OPEN, open_pick
    from nerf.synthetic.avatar_spec import HEADWEAR

    none = NEUTRAL_WHEN_OPEN["headwear"]
    assert HEADWEAR[none] == "none"
    unsure = torch.tensor([0.35, 0.46, 0.19, 0.0, 0.0])  # "a tall knight in a red tunic": none, hat, helmet
    assert {open_pick(unsure, s, "headwear", none) for s in range(20)} | {open_pick(unsure, None, "headwear", none)} \
        == {none}
    assert open_pick(torch.tensor([0.06, 0.02, 0.92, 0.0, 0.0]), 3, "headwear", none) == 2
    assert {open_pick(torch.tensor([0.1, 0.45, 0.45, 0.0, 0.0]), s, "headwear", none) for s in range(20)} == {1, 2}


def test_an_archetype_wearing_one_colour_draws_it_once():
    """A nurse's scrubs are blue, teal, white or green, top and trousers alike: told the archetype, decode
    gives open trousers the top's colour; a decided colour, another top or no archetype keeps its own draw."""
    from nerf.artifacts import REGIONS
    from nerf.generator import HEADS, PALETTE, ShapeGenerator, matched_regions
    from nerf.synthetic.avatar_spec import COLORS, UPPER

    assert matched_regions("nurse", "shirt") == ("lower",)
    assert set(matched_regions("police officer", "jacket")) == {"lower", "headwear"}
    assert matched_regions("nurse", "robe") == () and matched_regions(None, "shirt") == ()
    gen = ShapeGenerator(8)
    scrubs = [PALETTE.index(COLORS[c][0]) for c in ("blue", "teal", "white", "green")]
    out = {k: torch.zeros(1, n) for k, n in HEADS.items()}
    out["upper"][0, UPPER.index("shirt")] = 9.0
    out["accessories"] = torch.full((1, 4), -5.0)
    logits = torch.full((len(REGIONS), len(PALETTE)), -20.0)
    logits[:, scrubs] = 0.0
    out["color_logits"], out["colors"] = logits[None], torch.zeros(1, len(REGIONS), 3)
    up, lo = REGIONS.index("upper"), REGIONS.index("lower")
    apart = [gen.decode(out, seed=s).colors for s in range(12)]
    assert any(not torch.equal(c[up], c[lo]) for c in apart)  # drawn apart without the archetype
    for s in range(12):
        c = gen.decode(out, seed=s, archetype="nurse").colors
        assert torch.equal(c[up], c[lo])
    sure = out["color_logits"].clone()
    sure[0, lo, scrubs[1]] = 9.0  # "a nurse in teal trousers" decides the trousers
    assert any(not torch.equal(c[up], c[lo]) for c in
               (gen.decode(dict(out, color_logits=sure), seed=s, archetype="nurse").colors for s in range(12)))
