"""The procedural humanoid template: a differentiable SDF of round cones with named joints.

The template is the density prior of every field (every output is a plausible body
before any optimisation), the body the synthetic corpus renders, and the source of
the skeleton. It is parameterised by

* ``shape``: Float[Tensor, "5"] = (height m, girth, head scale, shoulder scale, leg ratio),
  continuous and differentiable;
* ``colors``: Float[Tensor, "R 3"] region albedo (``REGIONS`` order), differentiable;
* a discrete :class:`Layout` (which garments, headwear, hair, accessories) fixed per avatar.

Round cones are capsules whose radius varies linearly along the axis, evaluated in a
per-primitive axis-scaled space so that torsos are flatter front-to-back.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from nerf.artifacts import REGIONS, Skeleton
from nerf.synthetic.avatar_spec import BUILD_W, COLORS, HAIR_COLORS, PATTERNS, SKIN_TONES, AvatarSpec, covers_legs

R = {name: i for i, name in enumerate(REGIONS)}
JOINT_NAMES: tuple[str, ...] = (
    "Hips", "Spine", "Spine1", "Spine2", "Neck", "Head",
    "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
    "RightShoulder", "RightArm", "RightForeArm", "RightHand",
    "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase",
    "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase",
)
JOINT_PARENTS: tuple[int, ...] = (
    -1, 0, 1, 2, 3, 4,
    3, 6, 7, 8,
    3, 10, 11, 12,
    0, 14, 15, 16,
    0, 18, 19, 20,
)
SHAPE_NAMES = ("height", "girth", "head", "shoulders", "legs")
#: Plausible range of each shape parameter (used to clamp optimised values).
SHAPE_MIN = (0.9, 0.6, 0.8, 0.8, 0.42)
SHAPE_MAX = (2.2, 1.7, 1.45, 1.25, 0.56)
_FAR = (0.0, -50.0, 0.0)
SMOOTH_K = 0.012
"""Smooth-union radius in metres."""


@dataclass(frozen=True)
class Layout:
    """The discrete part of an avatar: which optional pieces exist and their regions."""

    upper: str = "shirt"
    lower: str = "trousers"
    headwear: str = "none"
    hair: str = "short"
    """none, short or long (the generator's classes, ``nerf.synthetic.avatar_spec.HAIR``), or a style the prompt
    names in words (``nerf.synthetic.hair_styles.STYLES``: bun, ponytail)."""
    accessories: tuple[str, ...] = ()
    metal_skin: bool = False
    patterns: tuple[int, ...] = field(default_factory=lambda: (0,) * len(REGIONS))
    """Pattern id (index into ``PATTERNS``) per region."""
    metal: tuple[bool, ...] = field(default_factory=lambda: (False,) * len(REGIONS))
    """Whether each region is metallic (shiny in corpus renders)."""


def shape_from_spec(spec: AvatarSpec) -> list[float]:
    child = spec.age == "child"
    return [
        spec.height_m,
        BUILD_W[spec.build] * (0.85 if child else 1.0),
        1.3 if child else 1.0,
        0.9 if child else (1.08 if spec.upper == "armour" else 1.0),
        0.45 if child else 0.5,
    ]


def colors_from_spec(spec: AvatarSpec) -> list[tuple[float, float, float]]:
    skin = COLORS["silver"][0] if spec.skin == "metal" else SKIN_TONES[int(spec.skin)]
    hair = HAIR_COLORS.get(spec.hair_color, HAIR_COLORS["brown"])
    lower = spec.upper_color if covers_legs(spec) else spec.lower_color
    return [skin, hair, COLORS[spec.upper_color][0], COLORS[lower][0], COLORS[spec.shoes_color][0],
            COLORS[spec.headwear_color][0], COLORS[spec.accessory_color][0]]


def layout_from_spec(spec: AvatarSpec) -> Layout:
    pats = [0] * len(REGIONS)
    pats[R["upper"]] = PATTERNS.index(spec.upper_pattern)
    pats[R["lower"]] = PATTERNS.index(spec.upper_pattern if covers_legs(spec) else spec.lower_pattern)
    metallic = {"silver", "gold"}
    metal = [False] * len(REGIONS)
    metal[R["skin"]] = spec.skin == "metal"
    metal[R["upper"]] = spec.upper == "armour" or spec.upper_color in metallic
    metal[R["headwear"]] = spec.headwear in ("helmet", "crown") and spec.headwear_color in metallic | {"grey"}
    return Layout(upper=spec.upper, lower=spec.lower, headwear=spec.headwear, hair=spec.hair,
                  accessories=tuple(spec.accessories), metal_skin=spec.skin == "metal",
                  patterns=tuple(pats), metal=tuple(metal))


@dataclass
class TemplateParams:
    """Differentiable template parameters of one avatar plus its discrete layout."""

    shape: Tensor
    """Float[Tensor, "5"] see ``SHAPE_NAMES``."""
    colors: Tensor
    """Float[Tensor, "R 3"] albedo per region in [0, 1]."""
    layout: Layout

    @classmethod
    def from_spec(cls, spec: AvatarSpec, device: str | torch.device = "cpu") -> "TemplateParams":
        return cls(torch.tensor(shape_from_spec(spec), device=device),
                   torch.tensor(colors_from_spec(spec), device=device), layout_from_spec(spec))

    @classmethod
    def default(cls, device: str | torch.device = "cpu") -> "TemplateParams":
        """A neutral grey-clothed adult: the unconditioned prior."""
        spec = AvatarSpec(upper_color="grey", lower_color="grey", hair="short")
        return cls.from_spec(spec, device)

    def clamped_shape(self) -> Tensor:
        lo = torch.tensor(SHAPE_MIN, device=self.shape.device)
        hi = torch.tensor(SHAPE_MAX, device=self.shape.device)
        return torch.maximum(torch.minimum(self.shape, hi), lo)


def joints(shape: Tensor) -> dict[str, Tensor]:
    """World-space rest positions (A-pose) of the named joints. Each value is Float[Tensor, "3"]."""
    h, w, hs, ss, lr = shape.unbind(-1)
    z0 = torch.zeros_like(h)

    def v(x, y, z=None):
        return torch.stack([x, y, z0 if z is None else z])

    r_head = 0.062 * h * hs
    head_c = h - 1.05 * r_head
    neck_y = head_c - 1.35 * r_head
    hip_y = lr * h
    tl = neck_y - hip_y
    sh_y = hip_y + 0.86 * tl
    sh_x = 0.1 * h * ss + 0.03 * (w - 1.0) * h
    c45 = math.cos(math.radians(48.0))
    s45 = math.sin(math.radians(48.0))
    hip_x = 0.052 * h * (0.65 + 0.35 * w)
    knee_y = 0.52 * hip_y + 0.01 * h
    out = {
        "Hips": v(z0, hip_y), "Spine": v(z0, hip_y + 0.2 * tl), "Spine1": v(z0, hip_y + 0.45 * tl),
        "Spine2": v(z0, hip_y + 0.7 * tl), "Neck": v(z0, neck_y), "Head": v(z0, head_c - 0.4 * r_head),
    }
    for side, sx in (("Left", 1.0), ("Right", -1.0)):
        arm = v(sx * sh_x, sh_y)
        ua, fa, hd = 0.17 * h, 0.15 * h, 0.05 * h
        d = v(sx * c45 + z0, -s45 + z0)
        out[f"{side}Shoulder"] = v(sx * 0.03 * h, sh_y - 0.01 * h)
        out[f"{side}Arm"] = arm
        out[f"{side}ForeArm"] = arm + d * ua
        out[f"{side}Hand"] = arm + d * (ua + fa)
        out[f"{side}HandEnd"] = arm + d * (ua + fa + hd)
        out[f"{side}UpLeg"] = v(sx * hip_x, hip_y - 0.03 * h)
        out[f"{side}Leg"] = v(sx * hip_x, knee_y, 0.005 * h)
        out[f"{side}Foot"] = v(sx * hip_x, 0.05 * h, -0.01 * h)
        out[f"{side}ToeBase"] = v(sx * hip_x, 0.02 * h, 0.085 * h)
    out["HeadTop"] = v(z0, h)
    out["_head_c"] = v(z0, head_c)
    out["_r_head"] = r_head
    return out


def skeleton(shape: Tensor) -> Skeleton:
    """The template's joint hierarchy for ``shape`` (detached, numpy)."""
    j = joints(shape.detach().float().cpu())
    pos = np.stack([j[n].numpy() for n in JOINT_NAMES]).astype(np.float32)
    return Skeleton(names=list(JOINT_NAMES), parents=list(JOINT_PARENTS), positions=pos)


def primitives(params: TemplateParams) -> dict[str, Tensor]:
    """Round-cone primitives of the avatar.

    Returns a dict of tensors: ``a``/``b`` Float[P, 3] end points, ``ra``/``rb`` Float[P]
    radii, ``scale`` Float[P, 3] per-axis scale, ``region`` Long[P].
    """
    lay = params.layout
    shape = params.clamped_shape()
    h, w = shape[0], shape[1]
    j = joints(shape)
    rh = j["_r_head"]
    hc = j["_head_c"]
    dev = shape.device
    prims: list[tuple] = []  # (a, b, ra, rb, scale, region)

    def add(a, b, ra, rb, scale=(1.0, 1.0, 1.0), region="skin"):
        prims.append((a, b, ra, rb, torch.tensor(scale, device=dev), R[region]))

    def P(x, y, z):
        return torch.stack([torch.as_tensor(c, device=dev, dtype=shape.dtype).expand(()) if not torch.is_tensor(c)
                            else c for c in (x, y, z)])

    robe = lay.upper == "robe"
    dress = lay.upper == "dress"
    armour = lay.upper == "armour"
    legs_region = "upper" if (robe or dress) else "lower"
    tw = w * (1.15 if armour else 1.0)
    hip, chest, neck = j["Hips"], j["Spine2"], j["Neck"]
    sh_y = j["LeftArm"][1]
    # torso, pelvis, neck, head, nose
    add(hip, P(0.0, sh_y - 0.02 * h, 0.0), 0.085 * h * tw, 0.092 * h * torch.maximum(tw, shape[3]),
        (1.0, 1.0, 0.62), "upper")
    add(hip, hip + P(0.0, 0.001, 0.0), 0.088 * h * w, 0.088 * h * w, (1.0, 0.75, 0.7), legs_region)
    add(neck - P(0.0, 0.03 * h, 0.0), hc - P(0.0, 0.5 * rh, 0.0), 0.026 * h * (0.8 + 0.2 * w),
        0.024 * h * (0.8 + 0.2 * w), region="skin")
    add(hc, hc + P(0.0, 0.001, 0.0), rh, rh, (0.9, 1.06, 1.0), "skin")
    add(hc + P(0.0, -0.15 * rh, 0.9 * rh), hc + P(0.0, -0.12 * rh, 0.92 * rh), 0.17 * rh, 0.17 * rh, region="skin")
    # hair
    if lay.hair != "none" and lay.headwear not in ("helmet", "hood"):
        add(hc + P(0.0, 0.14 * rh, -0.14 * rh), hc + P(0.0, 0.141 * rh, -0.14 * rh), 1.03 * rh, 1.03 * rh,
            (0.94, 1.0, 1.0), "hair")
    else:
        add(P(*_FAR), P(*_FAR), 0.01, 0.01)
    if lay.hair == "long" and lay.headwear not in ("helmet",):
        add(hc + P(0.0, 0.0, -0.45 * rh), neck + P(0.0, -0.08 * h, -0.7 * rh), 0.85 * rh, 0.55 * rh,
            (1.0, 1.0, 0.5), "hair")
    else:
        add(P(*_FAR), P(*_FAR), 0.01, 0.01)
    # arms
    wa = 0.6 + 0.4 * w
    fore_region = "upper" if lay.upper in ("jacket", "robe", "armour") else "skin"
    for side in ("Left", "Right"):
        add(j[f"{side}Arm"], j[f"{side}ForeArm"], 0.036 * h * wa * (1.1 if armour else 1.0), 0.03 * h * wa,
            region="skin" if dress else "upper")
        add(j[f"{side}ForeArm"], j[f"{side}Hand"], 0.029 * h * wa, 0.024 * h * wa, region=fore_region)
        add(j[f"{side}Hand"], j[f"{side}HandEnd"], 0.026 * h, 0.021 * h, (1.0, 1.0, 0.7), "skin")
    # legs
    thigh_region = legs_region
    shin_region = "skin" if lay.lower in ("shorts", "skirt") and not robe else legs_region
    if dress:
        thigh_region, shin_region = "skin", "skin"
    for side in ("Left", "Right"):
        add(j[f"{side}UpLeg"], j[f"{side}Leg"], 0.06 * h * w, 0.043 * h * w, region=thigh_region)
        add(j[f"{side}Leg"], j[f"{side}Foot"], 0.042 * h * w, 0.03 * h * (0.7 + 0.3 * w), region=shin_region)
        add(j[f"{side}Foot"] * torch.tensor([1.0, 0.0, 1.0], device=dev) + P(0.0, 0.027 * h, -0.02 * h),
            j[f"{side}ToeBase"] * torch.tensor([1.0, 0.0, 1.0], device=dev) + P(0.0, 0.025 * h, 0.0),
            0.03 * h, 0.026 * h, (1.0, 0.95, 1.0), "shoes")
    # skirt / robe / dress cone
    knee_y = j["LeftLeg"][1]
    if robe:
        add(hip + P(0.0, 0.02 * h, 0.0), P(0.0, 0.06 * h, 0.0), 0.09 * h * w, 0.17 * h * w, (1.0, 1.0, 0.8), "upper")
    elif dress or lay.lower == "skirt":
        add(hip + P(0.0, 0.02 * h, 0.0), P(0.0, knee_y - 0.02 * h, 0.0), 0.09 * h * w, 0.15 * h * w,
            (1.0, 1.0, 0.8), "upper" if dress else "lower")
    else:
        add(P(*_FAR), P(*_FAR), 0.01, 0.01)
    # headwear (two slots)
    top = hc[1] + 1.05 * rh
    if lay.headwear == "hat":
        add(P(0.0, top - 0.35 * rh, 0.0), P(0.0, top + 0.95 * rh, 0.0), 0.9 * rh, 0.72 * rh, region="headwear")
        add(P(0.0, top - 0.3 * rh, 0.0), P(0.0, top - 0.299 * rh, 0.0), 1.9 * rh, 1.9 * rh, (1.0, 0.07, 1.0),
            "headwear")
    elif lay.headwear == "helmet":
        add(hc + P(0.0, 0.08 * rh, 0.0), hc + P(0.0, 0.081 * rh, 0.0), 1.2 * rh, 1.2 * rh, region="headwear")
        add(P(*_FAR), P(*_FAR), 0.01, 0.01)
    elif lay.headwear == "crown":
        add(P(0.0, top - 0.3 * rh, 0.0), P(0.0, top + 0.4 * rh, 0.0), 0.8 * rh, 0.85 * rh, region="headwear")
        add(P(*_FAR), P(*_FAR), 0.01, 0.01)
    elif lay.headwear == "hood":
        add(hc + P(0.0, 0.1 * rh, -0.2 * rh), hc + P(0.0, 0.11 * rh, -0.2 * rh), 1.22 * rh, 1.22 * rh,
            (1.0, 1.0, 1.0), "headwear")
        add(hc + P(0.0, -0.2 * rh, -0.5 * rh), neck + P(0.0, -0.04 * h, -0.6 * rh), 1.0 * rh, 0.9 * rh,
            (1.15, 1.0, 0.8), "headwear")
    else:
        add(P(*_FAR), P(*_FAR), 0.01, 0.01)
        add(P(*_FAR), P(*_FAR), 0.01, 0.01)
    # accessories
    acc = set(lay.accessories)
    if "cape" in acc:
        # squashed to half height so its top is a low arch over the shoulders (round, it rose to the
        # crown of the head) and its hem flat; it hangs from the upper back and flares backwards
        ra, rb = 0.12 * h * tw, 0.17 * h * tw
        add(P(0.0, sh_y + 0.035 * h - 0.5 * ra, -0.068 * h * tw), P(0.0, knee_y - 0.2 * h + 0.5 * rb, -0.13 * h * tw),
            ra, rb, (1.0, 0.5, 0.1), "accessory")
    else:
        add(P(*_FAR), P(*_FAR), 0.01, 0.01)
    if "backpack" in acc:
        add(chest + P(0.0, 0.0, -0.07 * h * tw - 0.06), chest + P(0.0, -0.1 * h, -0.07 * h * tw - 0.06),
            0.085 * h, 0.085 * h, (1.0, 1.0, 0.55), "accessory")
    else:
        add(P(*_FAR), P(*_FAR), 0.01, 0.01)
    if "belt" in acc and not dress:
        add(hip + P(0.0, 0.07 * h, 0.0), hip + P(0.0, 0.095 * h, 0.0), 0.089 * h * tw, 0.089 * h * tw,
            (1.03, 1.0, 0.66), "accessory")
    else:
        add(P(*_FAR), P(*_FAR), 0.01, 0.01)
    for side in ("Left", "Right"):
        if "boots" in acc:
            add(j[f"{side}Foot"], j[f"{side}Foot"] * 0.55 + j[f"{side}Leg"] * 0.45, 0.036 * h * (0.7 + 0.3 * w),
                0.04 * h * (0.7 + 0.3 * w), region="shoes")
        else:
            add(P(*_FAR), P(*_FAR), 0.01, 0.01)

    def rad(x):
        return x if torch.is_tensor(x) else torch.tensor(float(x), device=dev)

    return {
        "a": torch.stack([p[0] for p in prims]).float(),
        "b": torch.stack([p[1] for p in prims]).float(),
        "ra": torch.stack([rad(p[2]) for p in prims]).float(),
        "rb": torch.stack([rad(p[3]) for p in prims]).float(),
        "scale": torch.stack([p[4] for p in prims]).float(),
        "region": torch.tensor([p[5] for p in prims], device=dev, dtype=torch.long),
    }


def primitive_distances(x: Tensor, prims: dict[str, Tensor], metric: bool = False) -> Tensor:
    """Approximate signed distance of points ``x`` Float[N, 3] to each primitive: Float[N, P].

    A primitive is a round cone in axis-scaled space; its distance there times the smallest scale
    never overestimates (what sphere tracing needs) but is far too short beside a flattened
    primitive: 20 cm to the side of the cape (scale 0.1 front-to-back) it reads 2 cm, so a volume
    renderer's density, sigmoid(-sdf / beta) / beta, draws a haze around it. ``metric`` divides the
    outside distance by its gradient's length instead (first order: exact on the surface and for
    uniform scale, close to metric elsewhere, but it may overestimate, so not for sphere tracing).
    The zero level set is the same either way.
    """
    s = prims["scale"]  # [P, 3]
    q = x[:, None, :] / s  # [N, P, 3]
    a = prims["a"] / s
    b = prims["b"] / s
    ba = b - a
    pa = q - a
    t = ((pa * ba).sum(-1) / (ba * ba).sum(-1).clamp_min(1e-9)).clamp(0.0, 1.0)
    v = pa - ba * t[..., None]  # from the axis to the point, in scaled space
    dist = v.norm(dim=-1)
    d = dist - (prims["ra"] + (prims["rb"] - prims["ra"]) * t)
    short = d * s.min(dim=-1).values
    if not metric:
        return short
    grad = (v / dist.clamp_min(1e-9)[..., None] / s).norm(dim=-1)  # |gradient of d| in world units
    return torch.where(d > 0, d / grad.clamp_min(1e-6), short)


def sdf(x: Tensor, prims: dict[str, Tensor], k: float = SMOOTH_K) -> Tensor:
    """Smooth-union SDF of the template: Float[N] (negative inside)."""
    d = primitive_distances(x, prims)
    return -k * torch.logsumexp(-d / k, dim=-1)


def region_weights(d: Tensor, region: Tensor, tau: float = 0.004) -> Tensor:
    """Soft region membership Float[N, R] from per-primitive distances ``d`` Float[N, P]."""
    wp = torch.softmax(-d / tau, dim=-1)
    out = torch.zeros(d.shape[0], len(REGIONS), device=d.device, dtype=d.dtype)
    return out.index_add_(1, region, wp)


def pattern_mask(x: Tensor, pattern: int) -> Tensor:
    """1 where a region's secondary colour shows, for pattern id ``pattern`` (see ``PATTERNS``)."""
    if pattern == 0:
        return torch.zeros(x.shape[0], device=x.device)
    y, xx = x[:, 1], x[:, 0] + 0.6 * x[:, 2]
    if pattern == 1:  # horizontal stripes
        return (torch.sin(y * (2 * math.pi / 0.09)) > 0.0).float()
    if pattern == 2:  # plaid: thin stripes both ways
        sy = (torch.sin(y * (2 * math.pi / 0.11)) > 0.55).float()
        sx = (torch.sin(xx * (2 * math.pi / 0.11)) > 0.55).float()
        return torch.clamp(sy + sx, 0, 1)
    # checks
    return ((torch.floor(y / 0.06) + torch.floor(xx / 0.06)) % 2).float()


def secondary_color(c: Tensor) -> Tensor:
    """The second colour of a pattern: dark for light colours, light for dark ones."""
    lum = (c * torch.tensor([0.3, 0.59, 0.11], device=c.device)).sum(-1, keepdim=True)
    return torch.where(lum > 0.35, 0.22 * c, 0.55 + 0.45 * c)


def albedo(x: Tensor, d: Tensor, params: TemplateParams, prims: dict[str, Tensor]) -> Tensor:
    """Albedo Float[N, 3] at points ``x`` given their primitive distances ``d``."""
    wr = region_weights(d, prims["region"])
    cols = params.colors.clamp(0, 1)
    out = torch.zeros(x.shape[0], 3, device=x.device, dtype=x.dtype)
    for r in range(len(REGIONS)):
        c = cols[r].expand(x.shape[0], 3)
        pat = params.layout.patterns[r]
        if pat:
            m = pattern_mask(x, pat)[:, None]
            c = c * (1 - m) + secondary_color(cols[r])[None] * m
        out = out + wr[:, r: r + 1] * c
    return out


def metalness(d: Tensor, params: TemplateParams, prims: dict[str, Tensor]) -> Tensor:
    """Float[N] in [0, 1]: how metallic the surface near each point is."""
    wr = region_weights(d, prims["region"])
    m = torch.tensor(params.layout.metal, dtype=wr.dtype, device=wr.device)
    return wr @ m


def bounds(shape: Tensor) -> tuple[Tensor, Tensor]:
    """A loose axis-aligned box Float[3], Float[3] enclosing the avatar (capes, hats included)."""
    h = float(shape[0])
    w = float(shape[1])
    half_x = 0.5 * h * 0.62 + 0.1
    half_z = 0.25 * h * max(w, 1.0) + 0.06
    return (torch.tensor([-half_x, -0.02, -half_z]), torch.tensor([half_x, 1.12 * h + 0.05, half_z]))
