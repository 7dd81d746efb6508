"""AmortisedModel: FusionMLP + ShapeGenerator, trained per CLIP model (scripts/train_generator.py).

Its weights are tied to the CLIP embedding space they were trained in: with another CLIP
model (a user's ViT-B/16, say) there is no trained generator, and the pipeline starts
from the neutral template and lets CLIP guidance do the work (recorded in the sidecar).
"""
from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import Tensor, nn

from nerf.generator import ShapeGenerator
from nerf.template import TemplateParams
from pipeline.encoders.models import ASSETS, WeightsError, check_state, file_sha256
from pipeline.fusion import FusionMLP

log = logging.getLogger(__name__)


def weights_path(clip_name: str) -> Path:
    return ASSETS / f"generator-{clip_name}.safetensors"


class AmortisedModel(nn.Module):
    def __init__(self, embed_dim: int, fusion_cfg, gen_cfg):
        super().__init__()
        self.fusion = FusionMLP(embed_dim, fusion_cfg)
        self.generator = ShapeGenerator(self.fusion.code_dim, gen_cfg, vote_dim=self.fusion.vote_dim)
        self.trained = False
        self.name = "untrained"
        self.weights_hash = ""

    @classmethod
    def load_for(cls, encoder, config, device) -> "AmortisedModel":
        model = cls(encoder.embed_dim, config.fusion, config.generator)
        path = weights_path(encoder.name)
        if path.is_file():
            from safetensors.torch import load_file

            try:
                state = load_file(str(path))
            except Exception as e:
                raise WeightsError(f"generator weights {path} are not a readable safetensors file ({e})") from e
            check_state(model, state, path)
            model.load_state_dict(state)
            model.trained = True
            model.name = path.stem
            model.weights_hash = file_sha256(path)
        else:
            log.warning("no trained generator for CLIP model %s (%s missing): starting from the neutral "
                        "template; CLIP guidance does all the work", encoder.name, path.name)
        return model.to(device).eval()

    @torch.no_grad()
    def fuse(self, text: Tensor, image: Tensor | None, clauses: Tensor | None = None) -> Tensor:
        """text Float[D], image Float[D] or None, the prompt's clause embeddings Float[C, D] or None
        -> z Float[Z]."""
        dev = next(self.parameters()).device
        t = text.to(dev).float()[None]
        i = None if image is None else image.to(dev).float()[None]
        c = None if clauses is None else clauses.to(dev).float()[None]
        return self.fusion(t, i, c)[0]

    @torch.no_grad()
    def heads(self, z: Tensor) -> dict[str, Tensor] | None:
        """The generator's outputs for code ``z`` Float[Z] (a batch of one), or None when it is untrained."""
        return self.generator(z[None]) if self.trained else None

    @torch.no_grad()
    def decode(self, z: Tensor, heads: dict[str, Tensor] | None = None, seed: int | None = None,
               archetype: str | None = None) -> TemplateParams:
        """The avatar for ``z`` (``heads``: its forward pass, when the caller has it already); ``seed`` draws what
        the prompt leaves open, ``archetype`` matches colours it wears alike
        (``nerf.generator.ShapeGenerator.decode``)."""
        if not self.trained:
            return TemplateParams.default(z.device)
        return self.generator.decode(heads if heads is not None else self.heads(z), 0, seed=seed, archetype=archetype)
