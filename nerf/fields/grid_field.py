"""Dense residual grids sampled with ``F.grid_sample`` (the CPU default)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from nerf.prior import grid_sample_3d

if TYPE_CHECKING:
    from nerf.fields.config import FieldConfig


class GridResidual(nn.Module):
    """Float[1, 4, D, H, W] grid (SDF offset + 3 colour logit offsets), zero-initialised."""

    def __init__(self, config: "FieldConfig"):
        super().__init__()
        r = config.grid_resolution
        # box aspect of a standing avatar: narrow in x/z, tall in y
        self.grid = nn.Parameter(torch.zeros(1, 4, max(4, r // 2), r, max(4, r // 2)))

    def forward(self, u: Tensor) -> Tensor:
        return grid_sample_3d(self.grid, u)

    def regularizer(self) -> Tensor:
        """Total variation + magnitude, to keep residuals smooth and small."""
        g = self.grid
        tv = sum((g.diff(dim=d) ** 2).mean() for d in (2, 3, 4))
        return tv + 1e-3 * (g ** 2).mean()
