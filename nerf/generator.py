"""ShapeGenerator: conditioning code z -> template parameters (amortised, ATT3D-style).

Heads: the body as classes (age, height, build), region colours, and the discrete layout
(garments, headwear, hair, accessories, patterns), all as logits. ``decode`` turns one output
row into TemplateParams.

The proportions (height m, girth, head, shoulders, legs) are the template's own
(``nerf.template.shape_from_spec``) for the body classes, weighted by their probabilities. A
regression head over the five numbers averaged what it was unsure of: "a stout doctor in a white
robe" came out 1.38 m, between a child (1.2) and a short adult (1.55), and a tall one next to
"short hair" 1.77 m, nearer average (1.72) than tall (1.92). ``decode`` commits to the age and the
upper garment (a child's head or an armour's shoulders are not blended) and takes the expected
height and build, so a prompt that names neither gets an average body, not a random one. It
draws a child only when sure (:data:`CHILD_MIN_P`): "kid", "child" give 0.99 and more, while an
archetype whose age no caption names ("a king", 12% of the corpus's kings are children) can
reach 0.4-0.85 from wording alone, and a doctor drawn as a child costs the user more than the
reverse.

Every output is the trunk MLP's head plus a linear shortcut from z (wide & deep): z ends with
the FusionMLP's sum over the prompt's clauses, so through the shortcut each clause adds its own
evidence ("blue trousers" -> lower garment trousers, lower colour blue) independently of the
others, which is what carries over to attribute combinations absent from training.

When the code ends with clause colour votes (``vote_dim`` > 0, see :mod:`pipeline.fusion`),
they are added to the colour logits as they are.

Colours are classified over :data:`PALETTE` (every albedo the corpus uses) per region rather
than regressed: regression averages the colours a prompt leaves open into a muddy brown,
classification commits to one. ``colors`` is the expected colour (differentiable), and
``decode`` takes each region's most likely palette entry.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nerf.artifacts import REGIONS
from nerf.synthetic.avatar_spec import (
    ACCESSORIES,
    AGES,
    BUILDS,
    COLORS,
    HAIR,
    HAIR_COLORS,
    HEADWEAR,
    HEIGHTS,
    LOWER,
    PATTERNS,
    SKIN_TONES,
    UPPER,
    AvatarSpec,
)
from nerf.template import (
    Layout,
    TemplateParams,
    colors_from_spec,
    layout_from_spec,
    shape_from_spec,
)

#: Probability of "child" the age head must reach for ``decode`` to draw a child's body.
CHILD_MIN_P = 0.9
#: Below this top probability a head is open: ``decode`` draws its value with the seed (``open_pick``).
OPEN_P = 0.5

HEADS: dict[str, int] = {"upper": len(UPPER), "lower": len(LOWER), "headwear": len(HEADWEAR), "hair": len(HAIR),
                         "upper_pattern": len(PATTERNS), "lower_pattern": len(PATTERNS),
                         "age": len(AGES), "height": len(HEIGHTS), "build": len(BUILDS)}
#: Heads whose open value is their neutral one when that is a candidate (``open_pick``'s ``neutral``): an
#: unsure headwear head ("a knight in a red tunic": hat 0.46, none 0.35, helmet 0.19) gives no headwear.
NEUTRAL_WHEN_OPEN: dict[str, int] = {"headwear": HEADWEAR.index("none")}

#: Every region albedo of the corpus: named colours, skin tones, hair colours (sRGB in [0, 1]).
PALETTE: tuple[tuple[float, float, float], ...] = tuple(dict.fromkeys(
    [rgb for rgb, _ in COLORS.values()] + list(SKIN_TONES) + list(HAIR_COLORS.values())))


@dataclass
class GeneratorConfig:
    """The shape generator."""

    hidden: int = 512
    """Hidden width of the trunk."""


class ShapeGenerator(nn.Module):
    def __init__(self, z_dim: int, config: GeneratorConfig | None = None, vote_dim: int = 0):
        super().__init__()
        config = config or GeneratorConfig()
        if vote_dim not in (0, len(REGIONS) * len(PALETTE)):
            raise ValueError(f"vote_dim {vote_dim}: 0 or {len(REGIONS) * len(PALETTE)} (regions x palette)")
        self.vote_dim = vote_dim
        self.trunk = nn.Sequential(nn.Linear(z_dim, config.hidden), nn.GELU(), nn.Linear(config.hidden, config.hidden),
                                   nn.GELU())
        self.colors = nn.Linear(config.hidden, len(REGIONS) * len(PALETTE))
        self.acc = nn.Linear(config.hidden, len(ACCESSORIES))
        self.cls = nn.ModuleDict({k: nn.Linear(config.hidden, n) for k, n in HEADS.items()})
        self.sizes = {"colors": len(REGIONS) * len(PALETTE), "acc": len(ACCESSORIES),
                      **{f"cls.{k}": n for k, n in HEADS.items()}}
        self.shortcut = nn.Linear(z_dim, sum(self.sizes.values()))
        self.register_buffer("body", body_table(), persistent=False)
        self.register_buffer("palette", torch.tensor(PALETTE), persistent=False)

    def forward(self, z: Tensor) -> dict[str, Tensor]:
        h = self.trunk(z)
        short = dict(zip(self.sizes, self.shortcut(z).split(list(self.sizes.values()), -1)))
        color_logits = self.colors(h) + short["colors"]
        if self.vote_dim:
            color_logits = color_logits + z[:, -self.vote_dim:]
        color_logits = color_logits.view(-1, len(REGIONS), len(PALETTE))
        out = {"color_logits": color_logits, "colors": color_logits.softmax(-1) @ self.palette,
               "accessories": self.acc(h) + short["acc"]}
        out.update({k: m(h) + short[f"cls.{k}"] for k, m in self.cls.items()})
        armour = out["upper"].softmax(-1)[:, UPPER.index("armour")]
        out["shape"] = body_shape(self.body, out["age"].softmax(-1), out["height"].softmax(-1),
                                  out["build"].softmax(-1), torch.stack([1 - armour, armour], -1))
        return out

    def decode(self, out: dict[str, Tensor], i: int = 0, seed: int | None = None,
               archetype: str | None = None) -> TemplateParams:
        """TemplateParams from row ``i`` of a forward pass (the body as in the module doc). A discrete head or a
        region colour the prompt decides (top probability ``OPEN_P`` or more) is taken by argmax; one it leaves
        open is drawn with ``seed`` among the values at least half as likely as the top one (``open_pick``),
        so the seed varies what the prompt leaves open (skin tone, hair, a neutral colour) and nothing else;
        an open headwear is none when none is among them (``NEUTRAL_WHEN_OPEN``). ``archetype``, the one the
        prompt names (``nerf.synthetic.archetype_words.stated_archetype``), makes an open colour it wears the
        same as the top repeat the top's (``matched_regions``: a nurse's trousers are her scrubs' colour).
        ``seed=None`` takes every argmax."""
        pick = {k: open_pick(out[k][i].softmax(-1), seed, k, NEUTRAL_WHEN_OPEN.get(k)) for k in HEADS}
        spec = AvatarSpec(upper=UPPER[pick["upper"]], lower=LOWER[pick["lower"]], headwear=HEADWEAR[pick["headwear"]],
                          hair=HAIR[pick["hair"]], upper_pattern=PATTERNS[pick["upper_pattern"]],
                          lower_pattern=PATTERNS[pick["lower_pattern"]],
                          accessories=tuple(a for a, v in zip(ACCESSORIES, out["accessories"][i]) if float(v) > 0))
        layout = layout_from_spec(spec)
        child = out["age"][i:i + 1].softmax(-1)[:, AGES.index("child")] >= CHILD_MIN_P
        age = F.one_hot(torch.where(child, AGES.index("child"), AGES.index("adult")), len(AGES)).float()
        armour = F.one_hot(torch.tensor([int(spec.upper == "armour")], device=self.body.device), 2).float()
        height, build = out["height"][i:i + 1].softmax(-1), out["build"][i:i + 1].softmax(-1)
        shape = body_shape(self.body, age, height, build, armour)
        probs = out["color_logits"][i].softmax(-1)
        colors = self.palette[[open_pick(probs[r], seed, f"color.{REGIONS[r]}") for r in range(len(REGIONS))]]
        for region in matched_regions(archetype, spec.upper):
            r = REGIONS.index(region)
            if float(probs[r].max()) < OPEN_P:
                colors[r] = colors[REGIONS.index("upper")]
        return TemplateParams(shape[0], colors.to(out["colors"].dtype), layout)


def matched_regions(archetype: str | None, upper: str) -> tuple[str, ...]:
    """The regions whose colour ``archetype`` makes the same as its top's ("same" in
    ``nerf.synthetic.avatar_spec.ARCHETYPES``: a suit, scrubs, a police cap), when ``upper`` is its top."""
    from nerf.synthetic.avatar_spec import ARCHETYPES

    fixed = ARCHETYPES.get(archetype or "", {})
    if fixed.get("upper") != upper:
        return ()
    return tuple(region for region, attr in _REGION_COLOR.items() if fixed.get(attr) == "same")


def open_pick(p: Tensor, seed: int | None, key: str, neutral: int | None = None) -> int:
    """The index ``decode`` takes from probabilities ``p`` Float[C]: the argmax when ``p.max() >= OPEN_P``;
    else ``neutral`` when it is one of the values with ``p >= p.max() / 2`` (nobody expects a hat the prompt
    may not have asked for); else the argmax when ``seed`` is None, or one of those values drawn by ``seed``
    and ``key`` (each head its own draw, the same for the same seed)."""
    top = int(p.argmax())
    if float(p[top]) >= OPEN_P:
        return top
    if neutral is not None and float(p[neutral]) >= float(p[top]) / 2:
        return neutral
    if seed is None:
        return top
    cands = torch.nonzero(p >= p[top] / 2).flatten().tolist()
    return int(cands[zlib.crc32(f"{seed}|{key}".encode()) % len(cands)])


def body_table(device=None) -> Tensor:
    """Float[age, height, build, armour (no, yes), 5]: the template's proportions for every body class."""
    rows = [[[[shape_from_spec(AvatarSpec(age=a, height=h, build=b, upper="armour" if arm else "shirt"))
               for arm in (False, True)] for b in BUILDS] for h in HEIGHTS] for a in AGES]
    return torch.tensor(rows, device=device)


def body_shape(table: Tensor, age: Tensor, height: Tensor, build: Tensor, armour: Tensor) -> Tensor:
    """Float[B, 5]: the proportions of ``table`` (``body_table``) expected under per-row class
    probabilities ``age`` Float[B, 2], ``height`` Float[B, 3], ``build`` Float[B, 3], ``armour`` Float[B, 2]."""
    return torch.einsum("na,nh,nb,nu,ahbuk->nk", age, height, build, armour, table)


def decoded_colors(out: dict[str, Tensor]) -> Tensor:
    """Float[B, R, 3]: each region's most likely palette colour."""
    palette = torch.tensor(PALETTE, device=out["color_logits"].device)
    return palette[out["color_logits"].argmax(-1)]


def targets(spec: AvatarSpec) -> dict[str, Tensor]:
    """Training targets for one spec (see ``ShapeGenerator.forward``)."""
    cols = torch.tensor(colors_from_spec(spec))
    t = {"shape": torch.tensor(shape_from_spec(spec)), "colors": cols,
         "color_index": torch.cdist(cols, torch.tensor(PALETTE)).argmin(-1),
         "accessories": torch.tensor([float(a in spec.accessories) for a in ACCESSORIES])}
    t["upper"] = torch.tensor(UPPER.index(spec.upper))
    t["lower"] = torch.tensor(LOWER.index(spec.lower))
    t["headwear"] = torch.tensor(HEADWEAR.index(spec.headwear))
    t["hair"] = torch.tensor(HAIR.index(spec.hair))
    t["upper_pattern"] = torch.tensor(PATTERNS.index(spec.upper_pattern))
    t["lower_pattern"] = torch.tensor(PATTERNS.index(spec.lower_pattern))
    t["age"] = torch.tensor(AGES.index(spec.age))
    t["height"] = torch.tensor(HEIGHTS.index(spec.height))
    t["build"] = torch.tensor(BUILDS.index(spec.build))
    return t


NEUTRAL = AvatarSpec(upper="shirt", lower="trousers", headwear="none", upper_pattern="solid", lower_pattern="solid",
                     age="adult", height="average", build="average")
"""What a prompt gets for the garments and body it does not name: plain everyday clothing on an average adult."""
NEUTRAL_COLORS = ("black", "white", "grey", "blue", "brown")
"""Garment colours a prompt leaves open are spread evenly over these (the seed picks one)."""
NEUTRAL_HAIR = ("short", "long")
NEUTRAL_HAIR_COLORS = ("black", "brown", "blond")
NEUTRAL_SHOES = ("black", "brown")
_VALUES = {"upper": UPPER, "lower": LOWER, "headwear": HEADWEAR, "hair": HAIR, "upper_pattern": PATTERNS,
           "lower_pattern": PATTERNS, "age": AGES, "height": HEIGHTS, "build": BUILDS}
_REGION_COLOR = {"hair": "hair_color", "upper": "upper_color", "lower": "lower_color", "shoes": "shoes_color",
                 "headwear": "headwear_color", "accessory": "accessory_color"}


def _spread(n: int, idx: list[int]) -> Tensor:
    t = torch.zeros(n)
    t[sorted(set(idx))] = 1.0
    return t / t.sum()


def _palette_index(rgb) -> int:
    return int(torch.cdist(torch.tensor([rgb], dtype=torch.float32), torch.tensor(PALETTE)).argmin())


def named_targets(spec: AvatarSpec, named: dict | None = None) -> dict[str, Tensor]:
    """Training targets (probabilities) for a caption of ``spec`` that names the attributes ``named``
    (``nerf.synthetic.captions.caption(named=...)``; None: everything). What it names is the spec's value;
    what it leaves open is :data:`NEUTRAL` (shirt, trousers, no headwear, solid, average adult) and, for
    colours, hair and skin, an even spread over neutral choices -- or over the archetype's own choices when
    the caption names an archetype that leaves them open (a nurse's scrubs). So "a person" learns plain
    clothing in neutral colours, not the average of the corpus."""
    from nerf.synthetic.avatar_spec import ARCHETYPES

    full = named is None
    named = named or {}
    arch = ARCHETYPES.get(spec.archetype or "") if named.get("subject") == spec.archetype else None
    arch = arch or {}

    def has(k: str) -> bool:
        return full or k in named

    t: dict[str, Tensor] = {}
    for head, values in _VALUES.items():
        if has(head):
            t[head] = _spread(len(values), [values.index(getattr(spec, head))])
        elif isinstance(arch.get(head), list):
            t[head] = _spread(len(values), [values.index(v) for v in arch[head]])
        elif head == "hair":
            t[head] = _spread(len(values), [values.index(v) for v in NEUTRAL_HAIR])
        else:
            t[head] = _spread(len(values), [values.index(getattr(NEUTRAL, head))])
    acc = set(spec.accessories) if full else set(named.get("accessories", ()))
    t["accessories"] = torch.tensor([float(a in acc) for a in ACCESSORIES])
    # the body the named classes give (armour's shoulders only when the armour is the target)
    body = replace(spec, **{k: _VALUES[k][int(t[k].argmax())] for k in ("age", "height", "build", "upper")})
    t["shape"] = torch.tensor(shape_from_spec(body))
    exact = [_palette_index(c) for c in colors_from_spec(spec)]
    cols = []
    for r, region in enumerate(REGIONS):
        attr = _REGION_COLOR.get(region)
        choices = arch.get(attr) if attr else None
        if choices == "same":
            choices = arch.get("upper_color")
        if full or (region == "skin" and "skin" in named) or (attr and attr in named) or \
                (region == "lower" and "upper_color" in named and t["upper"].argmax() in (UPPER.index("robe"),
                                                                                          UPPER.index("dress"))):
            cols.append(_spread(len(PALETTE), [exact[r]]))
        elif isinstance(choices, list):
            cols.append(_spread(len(PALETTE), [_palette_index(COLORS[c][0]) for c in choices]))
        elif region == "skin":
            cols.append(_spread(len(PALETTE), [_palette_index(c) for c in SKIN_TONES]))
        elif region == "hair":
            cols.append(_spread(len(PALETTE), [_palette_index(HAIR_COLORS[c]) for c in NEUTRAL_HAIR_COLORS]))
        else:
            neutral = NEUTRAL_SHOES if region == "shoes" else NEUTRAL_COLORS
            cols.append(_spread(len(PALETTE), [_palette_index(COLORS[c][0]) for c in neutral]))
    t["color_prob"] = torch.stack(cols)
    return t


__all__ = ["ShapeGenerator", "GeneratorConfig", "targets", "named_targets", "open_pick", "matched_regions",
           "decoded_colors", "Layout",
           "PALETTE"]
