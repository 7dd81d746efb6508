"""FusionMLP: CLIP text features + ViT/16 image features -> the conditioning code z.

For ViT-B/16 CLIP that is 2x512 in, 1024 hidden, 512 out, as in the seed design; the input
width is derived from the encoder (2 x embed_dim). A missing image is a zero vector plus
a presence flag (the generator is trained with modality dropout).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass
class FusionConfig:
    """The fusion MLP's widths."""

    hidden: int = 1024
    """Hidden width."""
    out: int = 512
    """Width of the conditioning code z."""
    dropout: float = 0.1
    """Dropout in training."""


class FusionMLP(nn.Module):
    def __init__(self, embed_dim: int, config: FusionConfig | None = None):
        super().__init__()
        config = config or FusionConfig()
        self.embed_dim = embed_dim
        self.net = nn.Sequential(
            nn.Linear(2 * embed_dim + 2, config.hidden), nn.GELU(), nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.hidden), nn.GELU(), nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.out),
        )

    def forward(self, text: Tensor | None, image: Tensor | None) -> Tensor:
        """text, image: Float[B, D] (or None) -> z Float[B, out]."""
        ref = text if text is not None else image
        b = ref.shape[0]
        zeros = torch.zeros(b, self.embed_dim, device=ref.device, dtype=ref.dtype)
        has_t = torch.full((b, 1), float(text is not None), device=ref.device, dtype=ref.dtype)
        has_i = torch.full((b, 1), float(image is not None), device=ref.device, dtype=ref.dtype)
        x = torch.cat([text if text is not None else zeros, image if image is not None else zeros, has_t, has_i], -1)
        return self.net(x)
