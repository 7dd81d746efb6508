"""Volume rendering of a field with nerfstudio's ray bundles, samplers and renderers.

Empty-space skipping in plain torch (nerfacc's occupancy grid is CUDA-only): rays are clipped
to the avatar's box and then, with ``sampling="surface"``, to the interval where the field can
be visible at all. The residual moves the baked prior's surface by at most ``max_offset``, so
density is negligible wherever the prior SDF exceeds ``max_offset + 8 beta``; a sphere trace
of the prior SDF (no grad, one gather per ray and iteration) finds where each
ray first reaches that shell, and rays that never do are not sampled at all. Ray directions of
fixed views (eval, previews) are cached.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from nerf.cameras import View, box_intersect, rays


@dataclass
class RenderConfig:
    """Volume rendering of the field for guidance and previews."""

    image_size: int = 64
    """Rendered image side in pixels (the guidance model resizes as it needs)."""
    samples_per_ray: int = 32
    """Stratified samples per ray over its sampled interval (see ``sampling``)."""
    views_per_step: int = 4
    """Views rendered per optimisation step."""
    sampling: Literal["surface", "box"] = "surface"
    """Where samples go along a ray: surface (the first-hit interval of the prior's surface
    shell, skipping rays that miss it) or box (the ray's whole chord through the box)."""

    def check(self) -> None:
        if self.image_size < 8:
            raise ValueError(f"image_size={self.image_size}: at least 8 pixels")
        if self.samples_per_ray < 2:
            raise ValueError(f"samples_per_ray={self.samples_per_ray}: at least 2")
        if self.views_per_step < 1:
            raise ValueError(f"views_per_step={self.views_per_step}: at least 1")


@lru_cache(maxsize=256)
def _cached_rays(azimuth: float, elevation: float, size: int, device: str) -> tuple[Tensor, Tensor]:
    return rays(View(azimuth, elevation), size, device)


_CELL_MIN: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def cell_min_grid(prior) -> tuple[Tensor, Tensor]:
    """Flat Float[C] of each grid cell's smallest corner SDF (a lower bound of the trilinear SDF
    inside the cell) and Long[3] cell counts (x, y, z). Cached per prior until its grid changes."""
    grid = prior.sdf_grid
    key = (grid.data_ptr(), grid._version, grid.device)
    hit = _CELL_MIN.get(prior)
    if hit is not None and hit[0] == key:
        return hit[1], hit[2]
    cmin = -F.max_pool3d(-grid, kernel_size=2, stride=1)[0, 0]  # [D-1, H-1, W-1]
    dims = torch.tensor([cmin.shape[2], cmin.shape[1], cmin.shape[0]], device=grid.device)
    _CELL_MIN[prior] = (key, cmin.reshape(-1).contiguous(), dims)
    return _CELL_MIN[prior][1], dims


@torch.no_grad()
def surface_intervals(field, o: Tensor, d: Tensor, near: Tensor, far: Tensor, iters: int = 20
                      ) -> tuple[Tensor, Tensor]:
    """Where each ray (inside its box interval ``near``..``far``, Float[R]) can meet the field.

    Sphere-traces the baked prior SDF to the outer edge of the shell the residual can reach
    (``max_offset + 8 beta``; density is below 0.05/m beyond it). Returns the new near
    Float[R] and Bool[R] keep (False: the ray never comes near the surface). Each step reads
    the cell-minimum of the prior SDF grid (a lower bound of what the field interpolates) and
    moves 0.9 of it, a safe step for a smooth minimum of conservative primitive distances; the
    minimum step ``h`` is made up for by ``h`` of slack in the level. Rays not converged in
    ``iters`` steps keep the rest of their interval (always safe). Fields without a baked
    prior SDF keep every ray whole.
    """
    cfg, prior = getattr(field, "config", None), getattr(field, "prior", None)
    if prior is None or not hasattr(prior, "sdf_grid") or not hasattr(cfg, "max_offset"):
        return near, torch.ones_like(near, dtype=torch.bool)
    beta, off = float(cfg.beta), float(cfg.max_offset)
    h = max(0.25 * off, 2 * beta)
    level = off + 8 * beta + h
    cells, dims = cell_min_grid(prior)
    # cell coordinates: c = co + t cd, cell index = floor(c) (x, y, z), flat = (z * ny + y) * nx + x
    scale = dims / (prior.hi - prior.lo)
    co, cd = (o - prior.lo) * scale, d * scale
    stride = torch.stack([torch.ones_like(dims[0]), dims[0], dims[0] * dims[1]])
    top = dims - 1
    t = near.clone()
    idx = torch.arange(t.shape[0], device=t.device)  # the rays still marching, and their state
    wt, wco, wcd, wfar = t.clone(), co, cd, far
    active = torch.ones_like(t, dtype=torch.bool)
    for i in range(iters):
        c = torch.addcmul(wco, wt[:, None], wcd).long().clamp_(min=0).minimum(top)
        s = cells.take((c * stride).sum(-1)) - level
        moving = active & (s > 0)
        wt = torch.where(moving, wt + (0.9 * s).clamp_min(h), wt)
        active = moving & (wt < wfar)
        if i % 4 == 3:  # masked steps are cheap; compact only when most rays are done
            n = int(active.sum())
            if n == 0:
                break
            if n < active.numel() // 2:
                t.index_copy_(0, idx, wt)
                keep = active.nonzero().squeeze(1)
                idx, wt, wco, wcd, wfar = idx[keep], wt[keep], wco[keep], wcd[keep], wfar[keep]
                active = torch.ones_like(wt, dtype=torch.bool)
    t.index_copy_(0, idx, wt)
    return t, t < far


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
    if config.sampling == "surface":
        n_hit, keep = surface_intervals(field, o[hit], d[hit], near[hit], far[hit])
        near = near.index_copy(0, hit, n_hit)
        hit = hit[keep]
    elif config.sampling != "box":
        raise ValueError(f"render.sampling {config.sampling!r}: choose surface or box")
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
