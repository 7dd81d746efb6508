"""FusionMLP: CLIP text features + ViT/16 image features -> the conditioning code z.

For ViT-B/16 CLIP that is 2x512 in, 1024 hidden, 512 out, as in the seed design; the input
width is derived from the encoder (2 x embed_dim). A missing image is a zero vector plus
a presence flag (the generator is trained with modality dropout).

Beside the whole prompt's embedding it reads the embeddings of the prompt's clauses
(:mod:`nerf.synthetic.clauses`) as a set: a shared per-clause MLP, summed over the clauses
(Deep Sets). The whole-prompt embedding says which colours and garments occur; the clauses
say which colour goes with which garment ("a red shirt", "blue trousers"). The clause sum is
also appended to the code z, so the generator's linear shortcut can add each clause's own
evidence to its outputs: "blue trousers" votes for blue trousers whatever the other clauses
say, which holds for combinations never seen in training.

Colour binding is made explicit as well: each clause casts a vote, a softmax over the
avatar's regions (plus "none") times a score for every palette colour, and the votes are
summed into per-region colour logits that end the code z (``VOTE_DIM`` values; the
generator adds them to its colour logits). "blue trousers" then has to recognise only the
garment to route its vote and only the colour word to fill it, a product that carries
over to any pairing of colour and garment; a pooled code has to learn every conjunction.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nerf.artifacts import REGIONS
from nerf.generator import PALETTE

#: Width of the clause colour votes at the end of z: one logit per region and palette colour.
VOTE_DIM = len(REGIONS) * len(PALETTE)


@dataclass
class FusionConfig:
    """The fusion MLP's widths."""

    hidden: int = 1024
    """Hidden width (at most 4096)."""
    out: int = 512
    """Width of the MLP's output; the conditioning code z is this plus ``clause_hidden`` (the clause sum);
    at most 4096."""
    dropout: float = 0.1
    """Dropout in training."""
    clause_hidden: int = 256
    """Width of the per-clause MLP over the prompt's clause embeddings; 0 reads the whole prompt only (at most
    4096)."""
    clause_votes: bool = True
    """Each clause votes for a (region, colour) pair; the votes end z (needs ``clause_hidden`` > 0)."""


class FusionMLP(nn.Module):
    def __init__(self, embed_dim: int, config: FusionConfig | None = None):
        super().__init__()
        config = config or FusionConfig()
        self.embed_dim = embed_dim
        h = config.clause_hidden
        self.clauses = nn.Sequential(nn.Linear(embed_dim, h), nn.GELU(), nn.Linear(h, h)) if h else None
        self.votes = (nn.Sequential(nn.Linear(embed_dim, h), nn.GELU(), nn.Linear(h, len(REGIONS) + 1 + len(PALETTE)))
                      if h and config.clause_votes else None)
        self.net = nn.Sequential(
            nn.Linear(2 * embed_dim + h + 2, config.hidden), nn.GELU(), nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.hidden), nn.GELU(), nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.out),
        )

    @property
    def code_dim(self) -> int:
        """Width of z: the MLP's output, the clause sum and the clause colour votes."""
        return (self.net[-1].out_features + (self.clauses[-1].out_features if self.clauses is not None else 0)
                + (VOTE_DIM if self.votes is not None else 0))

    @property
    def vote_dim(self) -> int:
        """How many values at the end of z are region colour logits (0 without clause votes)."""
        return VOTE_DIM if self.votes is not None else 0

    def forward(self, text: Tensor | None, image: Tensor | None, clauses: Tensor | None = None,
                clause_mask: Tensor | None = None) -> Tensor:
        """text, image: Float[B, D] (or None); clauses: Float[B, C, D] (or None, or given without text)
        with clause_mask Float[B, C] (1 = a clause, 0 = padding; all ones if None) -> z Float[B, code_dim]."""
        ref = text if text is not None else image
        b = ref.shape[0]
        zeros = torch.zeros(b, self.embed_dim, device=ref.device, dtype=ref.dtype)
        has_t = torch.full((b,), float(text is not None), device=ref.device, dtype=ref.dtype)
        has_i = torch.full((b,), float(image is not None), device=ref.device, dtype=ref.dtype)
        if clauses is None or text is None:
            clauses, clause_mask = zeros[:, None], zeros[:, :1]
        elif clause_mask is None:
            clause_mask = torch.ones(clauses.shape[:2], device=ref.device, dtype=ref.dtype)
        return self.fuse(text if text is not None else zeros, image if image is not None else zeros, has_t, has_i,
                         clauses, clause_mask)

    def fuse(self, text: Tensor, image: Tensor, has_text: Tensor, has_image: Tensor, clauses: Tensor,
             clause_mask: Tensor) -> Tensor:
        """Per-row form for training with modality dropout: absent inputs are zeros with a 0 flag
        (``has_*`` Float[B]); a row without text has an all-zero ``clause_mask``."""
        if self.clauses is None:
            return self.net(torch.cat([text, image, has_text[:, None], has_image[:, None]], -1))
        pooled = (self.clauses(clauses) * clause_mask[..., None]).sum(1)
        z = self.net(torch.cat([text, image, pooled, has_text[:, None], has_image[:, None]], -1))
        if self.votes is None:
            return torch.cat([z, pooled], -1)
        return torch.cat([z, pooled, self.colour_votes(clauses, clause_mask)], -1)

    def colour_votes(self, clauses: Tensor, clause_mask: Tensor) -> Tensor:
        """Float[B, C, D] clause embeddings -> Float[B, VOTE_DIM]: sum over clauses of
        route(clause)[region] * score(clause)[colour], route a softmax over the regions and "none"."""
        v = self.votes(clauses)
        r = len(REGIONS)
        route = v[..., :r + 1].softmax(-1)[..., :r] * clause_mask[..., None]
        return torch.einsum("bcr,bcp->brp", route, v[..., r + 1:]).flatten(1)
