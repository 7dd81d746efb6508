"""ShapeGenerator: conditioning code z -> template parameters (amortised, ATT3D-style).

Heads: continuous shape (height, girth, head, shoulders, legs) within the template's
plausible range, region colours, and the discrete layout (garments, headwear, hair,
accessories, patterns) as logits. ``decode`` turns one output row into TemplateParams.

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

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nerf.artifacts import REGIONS
from nerf.avatar_spec import (
    ACCESSORIES,
    COLORS,
    HAIR,
    HAIR_COLORS,
    HEADWEAR,
    LOWER,
    PATTERNS,
    SKIN_TONES,
    UPPER,
    AvatarSpec,
)
from nerf.template import (
    SHAPE_MAX,
    SHAPE_MIN,
    Layout,
    TemplateParams,
    colors_from_spec,
    layout_from_spec,
    shape_from_spec,
)

HEADS: dict[str, int] = {"upper": len(UPPER), "lower": len(LOWER), "headwear": len(HEADWEAR), "hair": len(HAIR),
                         "upper_pattern": len(PATTERNS), "lower_pattern": len(PATTERNS)}

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
        self.shape = nn.Linear(config.hidden, len(SHAPE_MIN))
        self.colors = nn.Linear(config.hidden, len(REGIONS) * len(PALETTE))
        self.acc = nn.Linear(config.hidden, len(ACCESSORIES))
        self.cls = nn.ModuleDict({k: nn.Linear(config.hidden, n) for k, n in HEADS.items()})
        self.sizes = {"shape": len(SHAPE_MIN), "colors": len(REGIONS) * len(PALETTE), "acc": len(ACCESSORIES),
                      **{f"cls.{k}": n for k, n in HEADS.items()}}
        self.shortcut = nn.Linear(z_dim, sum(self.sizes.values()))
        self.register_buffer("lo", torch.tensor(SHAPE_MIN))
        self.register_buffer("hi", torch.tensor(SHAPE_MAX))
        self.register_buffer("palette", torch.tensor(PALETTE), persistent=False)

    def forward(self, z: Tensor) -> dict[str, Tensor]:
        h = self.trunk(z)
        short = dict(zip(self.sizes, self.shortcut(z).split(list(self.sizes.values()), -1)))
        color_logits = self.colors(h) + short["colors"]
        if self.vote_dim:
            color_logits = color_logits + z[:, -self.vote_dim:]
        color_logits = color_logits.view(-1, len(REGIONS), len(PALETTE))
        out = {"shape": self.lo + (self.hi - self.lo) * torch.sigmoid(self.shape(h) + short["shape"]),
               "color_logits": color_logits, "colors": color_logits.softmax(-1) @ self.palette,
               "accessories": self.acc(h) + short["acc"]}
        out.update({k: m(h) + short[f"cls.{k}"] for k, m in self.cls.items()})
        return out

    @staticmethod
    def decode(out: dict[str, Tensor], i: int = 0) -> TemplateParams:
        """TemplateParams from row ``i`` of a forward pass (discrete heads by argmax)."""
        pick = {k: int(out[k][i].argmax()) for k in HEADS}
        spec = AvatarSpec(upper=UPPER[pick["upper"]], lower=LOWER[pick["lower"]], headwear=HEADWEAR[pick["headwear"]],
                          hair=HAIR[pick["hair"]], upper_pattern=PATTERNS[pick["upper_pattern"]],
                          lower_pattern=PATTERNS[pick["lower_pattern"]],
                          accessories=tuple(a for a, v in zip(ACCESSORIES, out["accessories"][i]) if float(v) > 0))
        layout = layout_from_spec(spec)
        return TemplateParams(out["shape"][i], decoded_colors(out)[i], layout)


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
    return t


__all__ = ["ShapeGenerator", "GeneratorConfig", "targets", "decoded_colors", "Layout", "PALETTE"]
