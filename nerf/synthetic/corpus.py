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
from nerf.synthetic.avatar_spec import AvatarSpec, sample_spec
from nerf.synthetic.captions import caption
from nerf.synthetic.surface_render import Lighting, render_template
from nerf.template import TemplateParams

HELDOUT_BUCKETS = 7


def is_heldout(spec) -> bool:
    """True for the held-out attribute combinations (about 1 in 7).

    Plain avatars hold out (upper colour, upper garment, lower colour); archetypes, whose
    outfit is fixed, hold out (archetype, height, build), so every archetype is seen in
    training and tested on unseen builds and heights.
    """
    if spec.archetype:
        key = f"{spec.archetype}|{spec.height}|{spec.build}|{spec.age}"
    else:
        key = f"{spec.upper_color}|{spec.upper}|{spec.lower_color}"
    return zlib.crc32(key.encode()) % HELDOUT_BUCKETS == 0


def spec_from_dict(d: dict) -> AvatarSpec:
    d = dict(d)
    d["accessories"] = tuple(d.get("accessories", ()))
    return AvatarSpec(**d)


def captions_for(spec, split: str, rng: random.Random) -> dict[str, list[str]]:
    """Caption groups of one avatar: train+evaluator wordings for training, heldout for test."""
    groups = ("heldout",) if split == "test" else ("train", "evaluator")
    caps = {g: [caption(spec, rng, g) for _ in range(3)] for g in groups}
    caps["full"] = [caption(spec, rng, "heldout" if split == "test" else "train", full=True)]
    return caps


def apply_split(metas: list[dict]) -> int:
    """Recompute each avatar record's split with ``is_heldout`` (the single source of truth),
    regenerating its captions deterministically when the split changed. Returns how many changed."""
    changed = 0
    for m in metas:
        if m.get("kind") != "avatar":
            continue
        spec = spec_from_dict(m["spec"])
        split = "test" if is_heldout(spec) else "train"
        if split != m["split"]:
            m["split"] = split
            m["captions"] = captions_for(spec, split, random.Random(f"{m['avatar']}|{split}"))
            changed += 1
    return changed


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


def render_avatar(i: int, seed: int, views: int, size: int) -> list[dict]:
    rng = random.Random(seed * 1_000_003 + i)
    spec = sample_spec(rng)
    split = "test" if is_heldout(spec) else "train"
    params = TemplateParams.from_spec(spec)
    vs = [View(rng.uniform(0, 2 * math.pi), rng.uniform(-0.1, 0.4)) for _ in range(views)]
    # one render per view so each gets its own lighting and background
    out = []
    caps = captions_for(spec, split, rng)
    for v in vs:
        bg = random_background(rng, size)[None]
        img = render_template(params, [v], size, bg, random_lighting(rng))[0]
        out.append({"image": (img.numpy() * 255).round().astype(np.uint8),
                    "meta": {"kind": "avatar", "avatar": i, "split": split, "spec": spec.to_dict(),
                             "azimuth": v.azimuth, "elevation": v.elevation, "captions": caps}})
    return out
