"""Ground-truth avatar renders for the corpus, evaluation ceilings and tests.

``is_heldout`` defines the held-out attribute combinations (about 1 in 7 of
(upper colour, upper garment, lower colour)); nothing trains on them.
"""
from __future__ import annotations

import math
import random
import zlib

import numpy as np
import torch

from nerf.cameras import View
from nerf.synthetic.avatar_spec import AGES, BUILDS, HEIGHTS, AvatarSpec, sample_spec
from nerf.synthetic.captions import caption
from nerf.synthetic.surface_render import Lighting, render_template
from nerf.template import TemplateParams

HELDOUT_BUCKETS = 7


def is_heldout(spec) -> bool:
    """True for the held-out attribute combinations (about 1 in 7).

    Plain avatars hold out (upper colour, upper garment, lower colour); archetypes, whose
    outfit is fixed, hold out (height, build, age) combinations: the 18 combinations are numbered and those
    whose number plus the archetype's hash falls in the bucket are held out, so every archetype is seen in
    training and tested on 2 or 3 unseen bodies (a hash of the whole key left some archetypes none).
    """
    if spec.archetype:
        combo = (HEIGHTS.index(spec.height) * len(BUILDS) + BUILDS.index(spec.build)) * len(AGES) + \
            AGES.index(spec.age)
        return (zlib.crc32(spec.archetype.encode()) + combo) % HELDOUT_BUCKETS == 0
    key = f"{spec.upper_color}|{spec.upper}|{spec.lower_color}"
    return zlib.crc32(key.encode()) % HELDOUT_BUCKETS == 0


def spec_from_dict(d: dict) -> AvatarSpec:
    d = dict(d)
    d["accessories"] = tuple(d.get("accessories", ()))
    return AvatarSpec(**d)


def captions_for(spec, split: str, rng: random.Random, named: dict | None = None) -> dict[str, list[str]]:
    """Caption groups of one avatar: train+evaluator wordings for training, heldout for test. ``named``, if
    given, receives caption -> the attributes it names (``nerf.synthetic.captions.caption``)."""
    groups = ("heldout",) if split == "test" else ("train", "evaluator")
    named = {} if named is None else named

    def one(group: str, full: bool = False) -> str:
        n: dict = {}
        text = caption(spec, rng, group, full=full, named=n)
        named.setdefault(text, n)
        return text

    caps = {g: [one(g) for _ in range(3)] for g in groups}
    caps["full"] = [one("heldout" if split == "test" else "train", full=True)]
    return caps


def refresh_captions(metas: list[dict]) -> int:
    """Re-caption every avatar record from its spec with today's grammar (deterministic per avatar and split),
    so a change of wording needs no re-render; each record gets ``named`` (caption -> what it names) too.
    Returns how many avatars were captioned."""
    done: dict[int, tuple[dict, dict, str]] = {}
    for m in metas:
        if m.get("kind") != "avatar":
            continue
        if m["avatar"] not in done:
            spec = spec_from_dict(m["spec"])
            m["split"] = "test" if is_heldout(spec) else "train"
            named: dict = {}
            caps = captions_for(spec, m["split"], random.Random(f"{m['avatar']}|{m['split']}|captions"), named)
            done[m["avatar"]] = (caps, named, m["split"])
        m["captions"], m["named"], m["split"] = done[m["avatar"]]
    return len(done)


def random_background(rng: random.Random, size: int) -> torch.Tensor:
    kind = rng.random()
    c1 = torch.tensor([rng.random() for _ in range(3)])
    if kind < 0.4:
        return c1.expand(size, size, 3).clone()
    if kind < 0.75:
        c2 = torch.tensor([rng.random() for _ in range(3)])
        t = torch.linspace(0, 1, size)[:, None, None]
        return (c1 * (1 - t) + c2 * t).expand(size, size, 3).clone()
    g = torch.Generator().manual_seed(rng.randrange(2**31))
    lowres = torch.rand(3, 8, 8, generator=g)
    noise = torch.nn.functional.interpolate(lowres[None], size=(size, size), mode="bilinear", align_corners=False)[0]
    return (0.5 * noise.permute(1, 2, 0) + 0.5 * c1).clamp(0, 1)


def random_lighting(rng: random.Random) -> Lighting:
    az = rng.uniform(-math.pi, math.pi)
    el = rng.uniform(0.2, 1.2)
    d = (math.sin(az) * math.cos(el), math.sin(el), math.cos(az) * math.cos(el))
    return Lighting(direction=d, ambient=rng.choice([1.0, rng.uniform(0.4, 0.9)]), specular=rng.uniform(0.2, 0.7))


def render_avatar(i: int, seed: int, views: int, size: int, body=None) -> list[dict]:
    """Avatar ``i`` of the corpus drawn with ``seed``: one record per view, each with its own background and
    lighting. ``body`` renders the spec (``body(spec, views, size, backgrounds, lightings)`` -> images, such
    as ``pipeline.corpus_render.BodyRenderer``, the dressed anny body); None renders the procedural template."""
    rng = random.Random(seed * 1_000_003 + i)
    spec = sample_spec(rng)
    split = "test" if is_heldout(spec) else "train"
    vs = [View(rng.uniform(0, 2 * math.pi), rng.uniform(-0.1, 0.4)) for _ in range(views)]
    caps = captions_for(spec, split, rng)
    bgs = [random_background(rng, size) for _ in vs]
    lights = [random_lighting(rng) for _ in vs]
    if body is None:
        params = TemplateParams.from_spec(spec)
        images = [render_template(params, [v], size, bg[None], light)[0] for v, bg, light in zip(vs, bgs, lights)]
    else:
        images = body(spec, vs, size, bgs, lights)
    return [{"image": (img.numpy() * 255).round().astype(np.uint8),
             "meta": {"kind": "avatar", "avatar": i, "split": split, "spec": spec.to_dict(),
                      "azimuth": v.azimuth, "elevation": v.elevation, "captions": caps}}
            for v, img in zip(vs, images)]
