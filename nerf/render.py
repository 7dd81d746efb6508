"""Volume rendering of a field with nerfstudio's ray bundles, samplers and renderers.

Only rays that cross the avatar's bounding box are sampled, and only inside it (the
empty-space skipping nerfacc would do on CUDA, done here with the template's box so it
works on CPU). Ray directions per view are cached.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from nerf.cameras import View, box_intersect, rays


@dataclass
class RenderConfig:
    """Volume rendering of the field for guidance and previews."""

    image_size: int = 64
    """Rendered image side in pixels (the guidance model resizes as it needs)."""
    samples_per_ray: int = 32
    """Uniform samples per ray inside the avatar's box."""
    views_per_step: int = 4
    """Views rendered per optimisation step."""


@lru_cache(maxsize=256)
def _cached_rays(azimuth: float, elevation: float, size: int, device: str) -> tuple[Tensor, Tensor]:
    return rays(View(azimuth, elevation), size, device)


def render_views(field, views: list[View], config: RenderConfig, backgrounds: Tensor) -> dict[str, Tensor]:
    """Render ``views`` of ``field``.

    Args:
        field: callable Float[N,3] -> (density Float[N], rgb Float[N,3]) with ``prior.lo/hi`` bounds.
        backgrounds: Float[V, S, S, 3] background colours.
    Returns:
        ``rgb`` Float[V, S, S, 3] and ``acc`` (opacity) Float[V, S, S].
    """
    from nerfstudio.cameras.rays import RayBundle
    from nerfstudio.model_components.ray_samplers import UniformSampler
    from nerfstudio.model_components.renderers import AccumulationRenderer, RGBRenderer

    dev = backgrounds.device
    size = config.image_size
    o, d = zip(*(_cached_rays(round(v.azimuth, 6), round(v.elevation, 6), size, str(dev)) for v in views))
    o, d = torch.cat(o), torch.cat(d)
    lo, hi = field.prior.lo, field.prior.hi
    near, far = box_intersect(o, d, lo, hi)
    hit = torch.nonzero(far > near + 1e-4).squeeze(-1)
    bg = backgrounds.reshape(-1, 3)
    rgb_out = bg.clone()
    acc_out = torch.zeros(o.shape[0], device=dev)
    if hit.numel():
        bundle = RayBundle(origins=o[hit], directions=d[hit], pixel_area=torch.ones(hit.numel(), 1, device=dev),
                           nears=near[hit, None], fars=far[hit, None])
        samples = UniformSampler(num_samples=config.samples_per_ray, single_jitter=False)(bundle)
        pos = samples.frustums.get_positions()  # [R, S, 3]
        density, rgb = field(pos.reshape(-1, 3))
        density = density.view(*pos.shape[:2], 1)
        weights = samples.get_weights(density)
        acc = AccumulationRenderer()(weights)
        comp = RGBRenderer.combine_rgb(rgb.view(*pos.shape), weights, background_color=bg[hit])
        rgb_out = rgb_out.index_copy(0, hit, comp)
        acc_out = acc_out.index_copy(0, hit, acc[:, 0])
    n = len(views)
    return {"rgb": rgb_out.view(n, size, size, 3), "acc": acc_out.view(n, size, size)}
