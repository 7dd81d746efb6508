"""Procedural material swatches: the default texture library and the CLIP corpus's close-ups.

A swatch is a small tileable-looking square of one material in one named colour
(``nerf.synthetic.avatar_spec.COLORS``). The same renderer makes the shipped library
(``scripts/make_texture_library.py``) and the swatch close-ups the embedded CLIP
model is trained on, captioned by :func:`swatch_caption`, so that ranking the
library for "a green plaid shirt" lies inside the model's training domain.

Everything is numpy on a ``size x size`` grid; a 128 px swatch takes a few ms.
A given ``random.Random`` state fixes the result.
"""
from __future__ import annotations

import random
from typing import Callable

import numpy as np
from PIL import Image

from nerf.synthetic.avatar_spec import COLORS
from nerf.synthetic.vocabulary import words_for

#: Material names, as they appear in captions and library file names.
MATERIALS: tuple[str, ...] = (
    "solid", "stripes", "plaid", "checks", "denim",
    "leather", "metal", "camouflage", "polka dots", "knit",
)

#: Words used for each material in captions (the first is the canonical adjective).
MATERIAL_WORDS: dict[str, tuple[str, ...]] = {
    "solid": ("plain", "solid", "solid-colour"),
    "stripes": ("striped", "stripes", "pinstripe"),
    "plaid": ("plaid", "tartan", "plaid"),
    "checks": ("checkered", "checked", "gingham"),
    "denim": ("denim", "jean", "denim"),
    "leather": ("leather", "leather", "grained leather"),
    "metal": ("metal", "brushed metal", "metallic"),
    "camouflage": ("camouflage", "camo", "camouflage"),
    "polka dots": ("polka dot", "polka-dot", "dotted"),
    "knit": ("knitted", "knit", "wool knit"),
}
_NOT_FABRIC = {"leather", "metal"}

Array = np.ndarray


def _rgb(color: str) -> Array:
    if color not in COLORS:
        raise ValueError(f"unknown colour {color!r}; known: {', '.join(COLORS)}")
    return np.asarray(COLORS[color][0], dtype=np.float32)


def _luma(rgb: Array) -> float:
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def contrast_color(color: str, rng: random.Random) -> str:
    """A second colour name that stands out against ``color`` (for stripes, plaid, ...)."""
    base = _luma(_rgb(color))
    far = [c for c in COLORS if c != color and abs(_luma(_rgb(c)) - base) >= 0.35
           and c not in ("silver", "gold")]
    return rng.choice(far or ["white" if base < 0.5 else "black"])


def _noise(g: np.random.Generator, size: int, cells: int) -> Array:
    """Smooth value noise in [0, 1]: a ``cells``² random grid upsampled bicubically."""
    low = (g.random((cells, cells)) * 255).astype(np.uint8)
    img = Image.fromarray(low, "L").resize((size, size), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


def _grid(size: int) -> tuple[Array, Array]:
    a = np.arange(size, dtype=np.float32)
    return a[None, :].repeat(size, 0), a[:, None].repeat(size, 1)  # x, y


def _mix(a: Array, b: Array, t: Array) -> Array:
    return a * (1.0 - t[..., None]) + b * t[..., None]


def _solid(c, c2, s, g):
    grain = (g.random((s, s)) - 0.5) * 0.06 + (_noise(g, s, 6) - 0.5) * 0.08
    return np.broadcast_to(c, (s, s, 3)) * (1.0 + grain[..., None])


def _stripes(c, c2, s, g):
    x, y = _grid(s)
    period = s / g.integers(5, 10)
    coord = x if g.random() < 0.5 else y
    band = ((coord % period) < period * g.uniform(0.2, 0.35)).astype(np.float32)
    return _mix(np.broadcast_to(c, (s, s, 3)), np.broadcast_to(c2, (s, s, 3)), band)


def _plaid(c, c2, s, g):
    """Tartan: wide half-tone bands of a dark shade, thin contrast lines, same sett in x and y."""
    x, y = _grid(s)
    period = s / g.integers(3, 5)
    off = g.uniform(0, period)

    def sett(u):
        p = (u + off) % period / period
        wide = (p < 0.32).astype(np.float32)
        thin = (np.abs(p - 0.62) < 0.035).astype(np.float32)
        return wide, thin

    wx, tx = sett(x)
    wy, ty = sett(y)
    dark = c * 0.35 + 0.02 if _luma(c) > 0.2 else c + 0.22  # half-tone visible on black too
    out = _mix(np.broadcast_to(c, (s, s, 3)), np.broadcast_to(dark, (s, s, 3)), 0.5 * (wx + wy))
    out = _mix(out, np.broadcast_to(c2, (s, s, 3)), np.maximum(tx, ty) * 0.85)
    twill = ((x + y) % 4 < 2).astype(np.float32)[..., None] * 0.06
    return out * (0.97 + twill)


def _checks(c, c2, s, g):
    x, y = _grid(s)
    period = s / g.integers(4, 9)
    t = (((x // period) + (y // period)) % 2).astype(np.float32)
    return _mix(np.broadcast_to(c, (s, s, 3)), np.broadcast_to(c2, (s, s, 3)), t)


def _denim(c, c2, s, g):
    x, y = _grid(s)
    indigo = np.array([0.16, 0.24, 0.45], np.float32)
    base = 0.35 * indigo + 0.65 * c
    twill = 0.5 + 0.5 * np.sin((x + y) * (2 * np.pi / 4.0))
    fleck = (g.random((s, s)) < 0.08).astype(np.float32) * 0.35
    shade = 0.8 + 0.25 * _noise(g, s, 5) + 0.12 * twill - 0.06 * g.random((s, s))
    return np.clip(base * shade[..., None] + fleck[..., None] * 0.6, 0, 1)


def _leather(c, c2, s, g):
    n = 0.5 * _noise(g, s, s // 6) + 0.3 * _noise(g, s, s // 12) + 0.2 * g.random((s, s))
    crease = np.abs(_noise(g, s, 10) - 0.5) < 0.025
    shade = 0.72 + 0.45 * n - 0.25 * crease
    return np.broadcast_to(c, (s, s, 3)) * shade[..., None]


def _metal(c, c2, s, g):
    """Brushed metal: fine streaks along x over a soft vertical sheen."""
    raw = g.random((s, s + 24)).astype(np.float32)
    cs = np.cumsum(raw, axis=1)
    streak = (cs[:, 24:] - cs[:, :-24]) / 24.0  # moving average along x
    streak = (streak - streak.mean()) / (streak.std() + 1e-6)
    x, y = _grid(s)
    sheen = 0.8 + 0.3 * np.sin((y / s) * np.pi * g.uniform(0.8, 1.4) + g.uniform(0, 3))
    shade = sheen + 0.07 * streak + 0.03 * (g.random((s, 1)) - 0.5)
    grey = np.full(3, _luma(c), np.float32)
    base = 0.7 * c + 0.3 * grey
    return np.clip(base * shade[..., None] + 0.08 * (sheen[..., None] - 0.8), 0, 1)


def _camouflage(c, c2, s, g):
    pal = [c, c * 0.55, 0.6 * c + 0.4 * np.array([0.45, 0.36, 0.22], np.float32),
           c * 0.3 + 0.04]
    n1, n2 = _noise(g, s, 7), _noise(g, s, 9)
    out = np.broadcast_to(pal[0], (s, s, 3)).copy()
    out[n1 > 0.62] = pal[1]
    out[n2 > 0.66] = pal[2]
    out[(n1 < 0.3) & (n2 < 0.45)] = pal[3]
    return out


def _polka(c, c2, s, g):
    x, y = _grid(s)
    period = s / g.integers(4, 8)
    r = period * g.uniform(0.18, 0.28)
    yy = y % period - period / 2
    xs = x + (np.floor(y / period) % 2) * period / 2  # staggered rows
    xx = xs % period - period / 2
    dot = (xx * xx + yy * yy < r * r).astype(np.float32)
    return _mix(np.broadcast_to(c, (s, s, 3)), np.broadcast_to(c2, (s, s, 3)), dot)


def _knit(c, c2, s, g):
    x, y = _grid(s)
    w = s / g.integers(12, 20)
    u = (x % w) / w - 0.5
    v = (y + np.abs(u) * w * 1.2) % (w * 0.8) / (w * 0.8)
    stitch = np.sin(np.pi * v) * (1 - 0.6 * np.abs(u) * 2)
    shade = 0.7 + 0.4 * stitch + 0.06 * (g.random((s, s)) - 0.5)
    return np.broadcast_to(c, (s, s, 3)) * shade[..., None]


_RENDERERS: dict[str, Callable[[Array, Array, int, np.random.Generator], Array]] = {
    "solid": _solid, "stripes": _stripes, "plaid": _plaid, "checks": _checks,
    "denim": _denim, "leather": _leather, "metal": _metal, "camouflage": _camouflage,
    "polka dots": _polka, "knit": _knit,
}


def render_swatch(material: str, color: str, size: int = 128,
                  rng: random.Random | None = None) -> Image.Image:
    """Render a ``size``² RGB swatch of ``material`` in the named ``color``.

    ``rng`` drives every random choice (contrast colour, period, noise, a small
    brightness jitter); with ``None`` a seed derived from (material, colour) is used,
    so the default output is reproducible too.
    """
    if material not in _RENDERERS:
        raise ValueError(f"unknown material {material!r}; known: {', '.join(MATERIALS)}")
    if size < 8:
        raise ValueError(f"swatch size must be >= 8 px, got {size}")
    c = _rgb(color)
    rng = rng if rng is not None else random.Random(f"{material}/{color}")
    c2 = _rgb(contrast_color(color, rng))
    g = np.random.default_rng(rng.getrandbits(63))
    c = np.clip(c * np.float32(g.uniform(0.92, 1.08)), 0, 1)
    arr = _RENDERERS[material](c, c2, size, g)
    return Image.fromarray((np.clip(arr, 0.0, 1.0) * 255 + 0.5).astype(np.uint8), "RGB")


def swatch_caption(material: str, color: str, rng: random.Random, group: str = "train") -> str:
    """A varied caption of a swatch, e.g. "a close-up of emerald plaid fabric" (colour synonyms of
    ``nerf.synthetic.vocabulary.words_for(..., group)``)."""
    if material not in MATERIAL_WORDS:
        raise ValueError(f"unknown material {material!r}; known: {', '.join(MATERIALS)}")
    if color not in COLORS:
        raise ValueError(f"unknown colour {color!r}; known: {', '.join(COLORS)}")
    col = rng.choice(words_for(COLORS[color][1], group))
    mat = rng.choice(MATERIAL_WORDS[material])
    noun = "material" if material in _NOT_FABRIC else rng.choice(("fabric", "fabric", "cloth", "textile"))
    if material == "solid":
        mat = rng.choice(("", "plain ", "solid "))
        return rng.choice((f"a close-up of {mat}{col} {noun}", f"{mat}{col} {noun}",
                           f"a swatch of {mat}{col} {noun}", f"{col} {noun} texture")).replace("  ", " ")
    return rng.choice((
        f"a close-up of {col} {mat} {noun}",
        f"{col} {mat} {noun}",
        f"a swatch of {col} {mat} {noun}",
        f"a {col} {mat} texture",
        f"{mat} {noun} in {col}",
        f"a photo of {col} {mat} {noun}",
    ))


def library_filename(color: str, material: str) -> str:
    """Descriptive library file name, e.g. ``green_plaid.png``, ``red_polka-dots.png``."""
    return f"{color}_{material.replace(' ', '-')}.png"


def refresh_swatch_captions(metas: list[dict]) -> int:
    """Re-caption the corpus's swatch records with today's words (as ``nerf.synthetic.corpus.refresh_captions``
    does for avatars); returns how many."""
    n = 0
    for i, m in enumerate(metas):
        if m.get("kind") == "swatch":
            rng = random.Random(f"swatch|{i}|{m['material']}|{m['color']}")
            m["captions"] = {g: [swatch_caption(m["material"], m["color"], rng, g) for _ in range(3)]
                             for g in ("train", "evaluator", "heldout")}
            n += 1
    return n
