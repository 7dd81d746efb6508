"""Seam padding of baked textures."""
import numpy as np

from texture.bake import dilate


def test_dilate_extends_charts_by_the_margin_and_fills_the_rest_with_the_mean():
    img = np.zeros((32, 32, 3), np.float32)
    mask = np.zeros((32, 32), bool)
    img[4:8, 4:8] = (1.0, 0.0, 0.0)
    img[20:24, 20:24] = (0.0, 0.0, 1.0)
    mask[4:8, 4:8] = mask[20:24, 20:24] = True
    out = dilate(img, mask, 3)
    assert np.array_equal(out[mask], img[mask])  # chart texels untouched
    assert np.allclose(out[4:8, 8:11], (1, 0, 0)) and np.allclose(out[1, 1], (1, 0, 0))  # within 3 px
    assert np.allclose(out[17:20, 20:24], (0, 0, 1))
    assert np.allclose(out[14, 2], (0.5, 0, 0.5)) and np.allclose(out[31, 0], (0.5, 0, 0.5))  # beyond: mean
    assert np.array_equal(dilate(img, np.zeros_like(mask), 3), np.zeros_like(img))
