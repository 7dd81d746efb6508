"""The project's own surface renderer for the humanoid template (sphere tracing + shading).

Renders ground-truth avatars for the synthetic corpus, evaluation ceilings and tests,
with random lighting and backgrounds. Pure torch, CPU friendly: rays that miss the
avatar's bounding box are never marched.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from nerf.cameras import View, box_intersect, rays
from nerf.template import TemplateParams, albedo, bounds, metalness, primitive_distances, primitives, sdf


@dataclass
class Lighting:
    """Simple directional light with ambient term."""

    direction: tuple[float, float, float] = (0.4, 0.8, 0.6)
    """Direction towards the light (normalised on use)."""
    ambient: float = 0.6
    """Ambient fraction in [0, 1]; the rest is Lambertian diffuse."""
    specular: float = 0.5
    """Strength of the highlight on metallic regions."""


def render_template(params: TemplateParams, views: list[View], size: int = 64,
                    backgrounds: Tensor | None = None, lighting: Lighting | None = None,
                    steps: int = 40) -> Tensor:
    """Render ``params`` from ``views``.

    Args:
        backgrounds: Float[V, size, size, 3] in [0, 1], or None for white.
    Returns:
        Float[Tensor, "V size size 3"] images in [0, 1].
    """
    lighting = lighting or Lighting()
    with torch.no_grad():
        prims = primitives(params)
        lo, hi = bounds(params.shape)
        o_all, d_all = zip(*(rays(v, size) for v in views))
        o = torch.cat(o_all)
        d = torch.cat(d_all)
        n = o.shape[0]
        img = torch.ones(n, 3) if backgrounds is None else backgrounds.reshape(-1, 3).clone()
        near, far = box_intersect(o, d, lo, hi)
        idx = torch.nonzero(far > near).squeeze(-1)
        t = near[idx].clone()
        tfar = far[idx]
        oo, dd = o[idx], d[idx]
        alive = torch.ones_like(t, dtype=torch.bool)
        hit = torch.zeros_like(alive)
        for _ in range(steps):
            a = torch.nonzero(alive).squeeze(-1)
            if a.numel() == 0:
                break
            s = sdf(oo[a] + dd[a] * t[a, None], prims)
            t[a] = t[a] + torch.clamp(s * 0.9, min=0.0015)
            done_hit = s < 1e-3
            gone = t[a] > tfar[a]
            hit[a[done_hit]] = True
            alive[a[done_hit | gone]] = False
        hi_idx = torch.nonzero(hit).squeeze(-1)
        if hi_idx.numel():
            p = oo[hi_idx] + dd[hi_idx] * t[hi_idx, None]
            e = 1.5e-3
            offs = torch.tensor([[1, -1, -1], [-1, -1, 1], [-1, 1, -1], [1, 1, 1]], dtype=p.dtype) * e
            sd = torch.stack([sdf(p + k, prims) for k in offs], -1)
            nrm = (offs[None] * sd[..., None]).sum(1)
            nrm = nrm / nrm.norm(dim=-1, keepdim=True).clamp_min(1e-9)
            dist = primitive_distances(p, prims)
            col = albedo(p, dist, params, prims)
            met = metalness(dist, params, prims)
            ldir = torch.tensor(lighting.direction, dtype=p.dtype)
            # light moves with the camera a little so backs are lit too
            ldir = ldir / ldir.norm()
            view_dir = -dd[hi_idx]
            lam = (nrm @ ldir).clamp_min(0.0)
            lam = torch.maximum(lam, 0.5 * (nrm * view_dir).sum(-1).clamp_min(0.0))
            shade = lighting.ambient + (1 - lighting.ambient) * lam
            refl = 2 * (nrm * view_dir).sum(-1, keepdim=True) * nrm - view_dir
            spec = (refl @ ldir).clamp_min(0.0) ** 16 * lighting.specular * met
            img[idx[hi_idx]] = (col * shade[:, None] + spec[:, None]).clamp(0, 1)
        return img.reshape(len(views), size, size, 3)
