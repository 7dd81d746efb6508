"""Hash-grid residual from nerfstudio's HashEncoding (tcnn on CUDA when present, else torch)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from nerf.fields.config import FieldConfig



class HashResidual(nn.Module):
    def __init__(self, config: "FieldConfig"):
        super().__init__()
        from nerfstudio.field_components.encodings import HashEncoding

        impl = "tcnn" if torch.cuda.is_available() else "torch"
        try:
            self.encoding = HashEncoding(num_levels=config.hash_levels, max_res=config.hash_max_res,
                                         log2_hashmap_size=config.hash_log2_size, implementation=impl)
        except Exception:  # tiny-cuda-nn missing: nerfstudio's torch implementation
            self.encoding = HashEncoding(num_levels=config.hash_levels, max_res=config.hash_max_res,
                                         log2_hashmap_size=config.hash_log2_size, implementation="torch")
        self.head = nn.Sequential(nn.Linear(self.encoding.get_out_dim(), 32), nn.ReLU(), nn.Linear(32, 4))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def forward(self, u: Tensor) -> Tensor:
        return self.head(self.encoding((u + 1) / 2).float())

    def regularizer(self) -> Tensor:
        return 1e-4 * sum((p ** 2).mean() for p in self.head.parameters())
