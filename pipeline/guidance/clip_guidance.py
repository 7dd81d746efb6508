"""DreamFields-style CLIP guidance: maximise cosine similarity between renders and the prompt.

Renders come from random views over random backgrounds (the optimiser chooses them), are
augmented with random shifts/zooms, encoded by the CLIP image tower and compared with the
prompt's text embedding (and, with a weight, the reference image's embedding). A
transmittance regulariser keeps empty space empty.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from pipeline.guidance.base import TransmittanceRegulariser

if TYPE_CHECKING:
    from pipeline.guidance.config import GuidanceConfig


class ClipGuidance:
    def __init__(self, config: "GuidanceConfig", encoder, text: Tensor, image: Tensor | None = None,
                 generator: torch.Generator | None = None, prompt: str | None = None):
        """``text`` Float[D] is the prompt's features, ``image`` Float[D] the reference's (or None); ``prompt``
        (the text itself, which score distillation needs) is not used."""
        self.config = config
        self.sparsity = TransmittanceRegulariser(config)
        self.encoder = encoder
        self.text = F.normalize(text.to(encoder.device).float(), dim=-1)
        self.image = None if image is None else F.normalize(image.to(encoder.device).float(), dim=-1)
        self.gen = generator or torch.Generator().manual_seed(0)

    def augment(self, x: Tensor) -> Tensor:
        """Random shift/zoom of Float[B,3,S,S] (small, as in training, so size keeps meaning)."""
        b = x.shape[0]
        r = torch.rand(b, 3, generator=self.gen).to(x.device)
        theta = torch.zeros(b, 2, 3, device=x.device)
        s = 1 + (r[:, 0] - 0.5) * 0.1
        theta[:, 0, 0] = s
        theta[:, 1, 1] = s
        theta[:, 0, 2] = (r[:, 1] - 0.5) * 0.16
        theta[:, 1, 2] = (r[:, 2] - 0.5) * 0.08
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, padding_mode="border", align_corners=False)

    def score(self, images: Tensor) -> Tensor:
        """Mean cosine similarity of views Float[V,S,S,3] to the prompt (no augmentation)."""
        f = self.encoder.encode_image_tensor(images.permute(0, 3, 1, 2))
        return (f @ self.text).mean()

    def loss(self, images: Tensor, acc: Tensor) -> tuple[Tensor, dict]:
        x = images.permute(0, 3, 1, 2)
        if self.config.augmentations > 0:
            x = torch.cat([self.augment(x) for _ in range(self.config.augmentations)])
        f = self.encoder.encode_image_tensor(x)
        clip = (f @ self.text).mean()
        loss = -clip
        if self.image is not None and self.config.image_weight > 0:
            loss = loss - self.config.image_weight * (f @ self.image).mean()
        sparsity, trans = self.sparsity(acc)
        loss = loss + sparsity
        return loss, {"clip_score": float(clip.detach()), "transmittance": float(trans.detach())}
