"""Orbit cameras around the avatar, shared by the corpus renderer, guidance and previews.

All views look at a fixed target with a fixed field of view and distance, so an
avatar's size in the image carries its real height (a tall avatar fills more of
the frame than a short one): CLIP can then judge "tall" and "short".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

TARGET = (0.0, 1.0, 0.0)
DISTANCE = 3.4
FOV_Y_DEG = 38.0


@dataclass
class View:
    """One camera on the orbit: azimuth 0 looks at the avatar's front (+Z side)."""

    azimuth: float
    """Radians; 0 = front, pi/2 = the avatar's left side, pi = back."""
    elevation: float = 0.0
    """Radians above the horizon."""
    distance: float = DISTANCE
    fov_y_deg: float = FOV_Y_DEG

    def eye(self) -> Tensor:
        ce = math.cos(self.elevation)
        return torch.tensor([
            TARGET[0] + self.distance * math.sin(self.azimuth) * ce,
            TARGET[1] + self.distance * math.sin(self.elevation),
            TARGET[2] + self.distance * math.cos(self.azimuth) * ce,
        ])


def rays(view: View, size: int, device: str | torch.device = "cpu") -> tuple[Tensor, Tensor]:
    """Pixel-centre rays of a square image.

    Returns origins and unit directions, each Float[Tensor, "size*size 3"], row-major from the top-left.
    """
    eye = view.eye().to(device)
    fwd = torch.tensor(TARGET, device=device) - eye
    fwd = fwd / fwd.norm()
    right = torch.linalg.cross(fwd, torch.tensor([0.0, 1.0, 0.0], device=device))
    right = right / right.norm()
    up = torch.linalg.cross(right, fwd)
    t = math.tan(math.radians(view.fov_y_deg) / 2)
    s = (torch.arange(size, device=device, dtype=torch.float32) + 0.5) / size * 2 - 1
    yy, xx = torch.meshgrid(-s * t, s * t, indexing="ij")
    d = fwd[None] + xx.reshape(-1, 1) * right[None] + yy.reshape(-1, 1) * up[None]
    d = d / d.norm(dim=-1, keepdim=True)
    return eye.expand_as(d).contiguous(), d


def box_intersect(o: Tensor, d: Tensor, lo: Tensor, hi: Tensor) -> tuple[Tensor, Tensor]:
    """Ray/axis-aligned-box entry and exit distances Float[N] (exit < entry means a miss)."""
    inv = 1.0 / torch.where(d.abs() < 1e-9, torch.full_like(d, 1e-9), d)
    t0 = (lo.to(o) - o) * inv
    t1 = (hi.to(o) - o) * inv
    near = torch.minimum(t0, t1).amax(-1).clamp_min(0.0)
    far = torch.maximum(t0, t1).amin(-1)
    return near, far


def standard_views(n: int = 4, elevation: float = 0.1) -> list[View]:
    """``n`` views evenly around the avatar starting at the front."""
    return [View(2 * math.pi * i / n, elevation) for i in range(n)]
