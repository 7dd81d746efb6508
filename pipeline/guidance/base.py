"""The guidance protocol (rendered views in, a scalar loss and a score to log out) and DreamFields' sparsity term."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import torch
from torch import Tensor

if TYPE_CHECKING:
    from pipeline.guidance.config import GuidanceConfig


class TransmittanceRegulariser:
    """DreamFields' sparsity term, ``-weight * min(transmittance, target)``, with the target capped
    at the transmittance of the first views it sees (the avatar refinement starts from) minus
    ``transmittance_slack``. One instance per refinement run."""

    def __init__(self, config: "GuidanceConfig"):
        self.config = config
        self.target: float | None = None

    def __call__(self, acc: Tensor) -> tuple[Tensor, Tensor]:
        """acc Float[V,S,S] -> (loss term, mean transmittance)."""
        trans = 1 - acc.mean()
        c = self.config
        if self.target is None:
            self.target = c.transmittance_target if c.transmittance_slack < 0 else \
                min(c.transmittance_target, float(trans.detach()) - c.transmittance_slack)
        return -c.transmittance_weight * torch.clamp(trans, max=self.target), trans


class Guidance(Protocol):
    def loss(self, images: Tensor, acc: Tensor) -> tuple[Tensor, dict]:
        """images Float[V,S,S,3] in [0,1], acc Float[V,S,S] -> (loss, {"clip_score": ...})."""
        ...
