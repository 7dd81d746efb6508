"""The corpus is rendered as the avatar users get: the dressed anny body, its colours and patterns baked."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nerf.cameras import View
from nerf.synthetic.avatar_spec import COLORS, AvatarSpec
from nerf.synthetic.corpus import render_avatar
from nerf.synthetic.surface_render import Lighting


@pytest.fixture(scope="module")
def renderer():
    from pipeline.corpus_render import BodyRenderer

    return BodyRenderer()


def test_a_render_shows_the_specs_colours_on_the_anny_body(renderer):
    spec = AvatarSpec(upper="shirt", upper_color="red", lower="trousers", lower_color="blue", hair="short")
    bg = torch.ones(64, 64, 3)
    img = renderer(spec, [View(0.0, 0.1)], 64, [bg], [Lighting(ambient=1.0)])[0].numpy()
    fg = np.abs(img - 1.0).sum(-1) > 0.05
    rows = np.flatnonzero(fg.any(1))
    assert 0.3 * 64 < rows.max() - rows.min() < 64  # a standing figure, not an empty frame
    red, blue = (np.abs(img - np.asarray(COLORS[c][0])).sum(-1) < 0.12 for c in ("red", "blue"))
    assert red.sum() > 20 and blue.sum() > 20
    assert np.median(np.nonzero(red)[0]) < np.median(np.nonzero(blue)[0])  # the shirt above the trousers


def test_patterns_are_painted_into_the_atlas(renderer):
    """A striped shirt is striped in the baked texture (a plain one is one colour), as in the GLB."""
    def upper_texels(pattern: str) -> np.ndarray:
        r = renderer.rigged(AvatarSpec(upper="shirt", upper_color="green", upper_pattern=pattern))
        tex = np.asarray(r.texture, np.float32) / 255
        green = np.asarray(COLORS["green"][0])
        dark = 0.22 * green  # nerf.template.secondary_color of a light colour
        return np.array([(np.abs(tex - c).sum(-1) < 0.08).sum() for c in (green, dark)])

    plain, striped = upper_texels("solid"), upper_texels("stripes")
    assert plain[0] > 500 and plain[1] < 50
    assert striped[1] > 0.3 * striped[0]


def test_render_avatar_takes_the_body_renderer(renderer):
    recs = render_avatar(3, 0, 2, 32, body=renderer)
    assert len(recs) == 2 and recs[0]["image"].shape == (32, 32, 3)
    assert recs[0]["meta"]["spec"]["gender"] in ("female", "male", "any")
    assert not np.array_equal(recs[0]["image"], recs[1]["image"])
    assert math.isfinite(recs[0]["meta"]["azimuth"])
