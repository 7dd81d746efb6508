"""Fixtures for texture tests, including a TEST DOUBLE for the project's CLIP model.

``ColourTextureDouble`` is NOT a model: it is a hand-written, deterministic stand-in that
implements ``texture.library.embedder.ImageEmbedder`` so retrieval can be tested before the
project's trained CLIP model (``pipeline/``) exists. When that model ships, the ranking
test should receive it instead (same Protocol, no other change).

Image vector = [named-colour histogram | texture statistics]; text vector = [one-hot of the
colour word | the mean texture statistics of that material's swatches ("vocabulary lookup")].
"""
from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from nerf.synthetic.avatar_spec import COLORS
from texture.library.swatches import MATERIAL_WORDS, MATERIALS, render_swatch

_NAMES = tuple(COLORS)
_PALETTE = np.array([COLORS[c][0] for c in _NAMES], np.float32)  # [C, 3]
_COLOUR_WORDS = sorted(((syn, name) for name, (_, syns) in COLORS.items() for syn in syns),
                       key=lambda t: -len(t[0]))
_MAT_WORDS = sorted(((w, m) for m, ws in MATERIAL_WORDS.items() for w in ws + (m,) if m != "solid"),
                    key=lambda t: -len(t[0]))


def _texture_stats(lum: np.ndarray) -> np.ndarray:
    """12 numbers: FFT power of the luminance in 3 radial bands x 4 orientations (folded)."""
    f = np.abs(np.fft.fftshift(np.fft.fft2(lum - lum.mean()))) ** 2
    n = lum.shape[0]
    yy, xx = np.mgrid[:n, :n] - n // 2
    r = np.hypot(xx, yy) / (n / 2)
    ang = np.mod(np.arctan2(yy, xx), np.pi)  # orientation, folded
    axis = np.minimum(np.abs(ang - 0), np.minimum(np.abs(ang - np.pi / 2), np.abs(ang - np.pi)))
    ob = np.digitize(axis, [np.pi / 16, np.pi / 8, 3 * np.pi / 16])  # 0 = on an axis ... 3 = diagonal
    rb = np.digitize(r, [0.12, 0.35])
    feats = np.zeros((3, 4), np.float32)
    np.add.at(feats, (rb[r > 0.02], ob[r > 0.02]), f[r > 0.02])
    feats = np.sqrt(feats.ravel() / (feats.sum() + 1e-9))
    gx, gy = np.abs(np.diff(lum, axis=1)).mean(), np.abs(np.diff(lum, axis=0)).mean()
    extra = [min(float(lum.std()) * 4, 1.0), min(float(gx + gy) * 10, 1.0),
             abs(float(gx - gy)) / float(gx + gy + 1e-6)]
    return np.concatenate([feats, np.asarray(extra, np.float32)])


class ColourTextureDouble:
    """TEST DOUBLE implementing ImageEmbedder (not a learned model; see module docstring)."""

    name = "test-double/colour-texture"

    def __init__(self, colour_weight: float = 1.0, texture_weight: float = 1.0) -> None:
        self.cw, self.tw = colour_weight, texture_weight
        self.weights_hash = f"double-v2-{colour_weight:g}-{texture_weight:g}"
        self.encode_image_calls = 0
        self.images_encoded = 0
        rng = random.Random(1234)  # material prototypes: mean stats of a few rendered swatches
        self.proto = {m: np.mean([self._tex(render_swatch(m, c, 64, rng))
                                  for c in ("red", "green", "blue", "white", "black")], axis=0)
                      for m in MATERIALS}
        self.centre = np.mean(list(self.proto.values()), axis=0)
        self.proto = {m: self._unit(p - self.centre) for m, p in self.proto.items()}

    def _tex(self, im: Image.Image) -> np.ndarray:
        a = np.asarray(im.convert("RGB").resize((64, 64)), np.float32) / 255.0
        return _texture_stats(a @ np.array([0.299, 0.587, 0.114], np.float32))

    @staticmethod
    def _unit(v: np.ndarray) -> np.ndarray:
        return v / max(float(np.linalg.norm(v)), 1e-9)

    def _vec(self, colour: np.ndarray, tex: np.ndarray) -> np.ndarray:
        v = np.concatenate([colour * self.cw, tex * self.tw]).astype(np.float32)
        return v / max(float(np.linalg.norm(v)), 1e-9)

    def encode_images(self, images):
        self.encode_image_calls += 1
        self.images_encoded += len(images)
        out = []
        for im in images:
            a = np.asarray(im.convert("RGB").resize((48, 48)), np.float32).reshape(-1, 3) / 255.0
            near = np.argmin(((a[:, None, :] - _PALETTE[None]) ** 2).sum(-1), axis=1)
            hist = np.bincount(near, minlength=len(_NAMES)).astype(np.float32) / len(near)
            out.append(self._vec(hist, self._unit(self._tex(im) - self.centre)))
        return np.stack(out)

    def encode_texts(self, texts):
        out = []
        for t in texts:
            t = " " + t.lower() + " "
            colour = np.zeros(len(_NAMES), np.float32)
            for word, name in _COLOUR_WORDS:
                if f" {word} " in t:
                    colour[_NAMES.index(name)] = 1.0
                    t = t.replace(f" {word} ", " ")
                    break
            tex = np.zeros(15, np.float32)
            for word, m in _MAT_WORDS:
                if f" {word} " in t:
                    tex = self.proto[m]
                    break
            out.append(self._vec(colour, tex))
        return np.stack(out)


@pytest.fixture(scope="session")
def double_embedder() -> ColourTextureDouble:
    return ColourTextureDouble()
