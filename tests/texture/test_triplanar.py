"""Tri-planar swatch colour function on a synthetic point set."""
from __future__ import annotations

import random

import numpy as np
import pytest

from nerf.artifacts import REGIONS
from nerf.synthetic.avatar_spec import COLORS
from texture.library.swatches import render_swatch
from texture.triplanar import ProjectionConfig, swatch_color_fn


def _points(n: int = 4000, seed: int = 0):
    g = np.random.default_rng(seed)
    nrm = g.normal(size=(n, 3)).astype(np.float32)
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    pts = nrm * 0.3 + np.array([0, 1.0, 0], np.float32)
    reg = np.where(pts[:, 1] > 1.0, REGIONS.index("upper"), REGIONS.index("lower"))
    reg[:200] = REGIONS.index("skin")
    return pts, nrm, reg


def test_swatches_paint_their_regions_and_leave_others():
    pts, nrm, reg = _points()
    fn = swatch_color_fn({"upper": render_swatch("solid", "green", 64, random.Random(0)),
                          "lower": render_swatch("stripes", "black", 64, random.Random(0))},
                         ProjectionConfig(blend=1.0))
    rgb = fn(pts, nrm, reg)
    assert rgb.shape == (len(pts), 3)
    skin = reg == REGIONS.index("skin")
    assert np.isnan(rgb[skin]).all() and not np.isnan(rgb[~skin]).any()
    up = rgb[reg == REGIONS.index("upper")].mean(0)
    assert np.abs(up - np.array(COLORS["green"][0])).max() < 0.08
    lo = rgb[reg == REGIONS.index("lower")]
    assert np.median(lo.mean(1)) < 0.15 and lo.std(0).max() > 0.1  # mostly black, and the stripes show
    assert np.array_equal(rgb, fn(pts, nrm, reg), equal_nan=True)  # deterministic


def test_outfit_fills_in_and_vertex_colour_blends():
    pts, nrm, reg = _points(1000)
    red = np.tile(np.array([[1.0, 0.0, 0.0]], np.float32), (len(pts), 1))
    fn = swatch_color_fn({"outfit": render_swatch("solid", "white", 32)}, ProjectionConfig(blend=0.5),
                         vertices=pts, vertex_colors=red)
    rgb = fn(pts, nrm, reg)
    clothed = reg != REGIONS.index("skin")
    assert (rgb[clothed, 0] > rgb[clothed, 1] + 0.3).all()  # half red vertex colour, half white swatch
    with pytest.raises(ValueError, match="unknown texture regions"):
        swatch_color_fn({"torso": render_swatch("solid", "red", 16)})
