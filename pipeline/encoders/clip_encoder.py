"""ClipEncoder: one object for text and image features from any loaded CLIP model.

Implements the ``texture.library.embedder.ImageEmbedder`` protocol (numpy in/out), and the
differentiable ``encode_image_tensor`` that guidance uses.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from pipeline.encoders import models as clip_models

log = logging.getLogger(__name__)


@dataclass
class TokenizedText:
    ids: Tensor
    """Long[N, context_length] token ids."""
    truncated: list[bool]
    """Whether each text was longer than the context and got cut."""
    unknown: list[list[str]] = field(default_factory=list)
    """Parts of each text the tokenizer has no token for (they read as one unknown token); empty lists for
    byte-level tokenizers (open_clip's), which can spell anything, and for texts the e5 tower reads."""
    texts: list[str] = field(default_factory=list)
    """The texts themselves."""
    towers: list[str] = field(default_factory=list)
    """The tower that reads each text: ``minilm`` (the model's own) or ``e5`` (the multilingual one)."""


class ClipEncoder:
    """Text and image features from a CLIP model (embedded default or any open_clip model)."""

    def __init__(self, model, name: str, weights: str, device: str | torch.device = "cpu",
                 text_tower: str = "minilm"):
        self.model = model.to(device).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.name = name
        self.weights_hash = weights
        """sha256 of the weights file (or the pretrained tag): what indexes and sidecars record."""
        self.device = torch.device(device)
        cfg = getattr(model.visual, "preprocess_cfg", {}) or {}
        self.mean = torch.tensor(cfg.get("mean", (0.48145466, 0.4578275, 0.40821073)), device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(cfg.get("std", (0.26862954, 0.26130258, 0.27577711)), device=device).view(1, 3, 1, 1)
        size = getattr(model.visual, "image_size", 224)
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        self.embed_dim = int(model.text_projection.shape[1]) if getattr(model, "text_projection", None) is not None \
            else int(model.visual.output_dim)
        self._minilm = name in clip_models.EMBEDDED_CONFIGS  # else open_clip's tokenizer for that model
        if self._minilm:
            from pipeline.encoders.embedded import MiniLMTokenizer

            self._tok = MiniLMTokenizer(clip_models.minilm_dir(), clip_models.CONTEXT_LENGTH)
            self.context_length = clip_models.CONTEXT_LENGTH
        else:
            self._tok = clip_models.import_open_clip().get_tokenizer(name)
            self.context_length = int(getattr(model, "context_length", 77))
        self.text_tower = text_tower
        """``model.text_tower``: minilm, e5 or auto (:func:`pipeline.encoders.language.tower_for`)."""
        self.multilingual = None
        """The e5 tower (:class:`pipeline.encoders.multilingual.MultilingualText`), loaded on first use."""
        if text_tower != "minilm" and name != clip_models.DEFAULT_MODEL:
            if text_tower == "e5":
                raise clip_models.WeightsError(f"text_tower=e5 maps text into {clip_models.DEFAULT_MODEL}'s space, "
                                               f"not {name!r}'s: use auto or minilm")
            self.text_tower = "minilm"  # auto: a model of the user's reads every text with its own tower

    # ----------------------------------------------------------------- loading
    @classmethod
    def load(cls, model_name: str | None = None, pretrained: str | None = None,
             device: str | torch.device = "cpu", text_tower: str = "minilm") -> "ClipEncoder":
        """The embedded default when ``model_name`` is None, else any open_clip model. ``text_tower`` (minilm,
        e5 or auto) chooses how the embedded default reads text; other models read it with their own tower."""
        if model_name is None or model_name in clip_models.EMBEDDED_CONFIGS:
            name = model_name or clip_models.DEFAULT_MODEL
            path = Path(pretrained) if pretrained else clip_models.WEIGHT_FILES[name]
            model = clip_models.load_embedded(name, path, device)
            tower = text_tower if not pretrained else ("minilm" if text_tower == "auto" else text_tower)
            return cls(model, name, clip_models.file_sha256(path), device, tower)
        model = clip_models.load_open_clip(model_name, pretrained, device)
        wh = clip_models.file_sha256(pretrained) if pretrained and Path(pretrained).is_file() else str(pretrained)
        return cls(model, model_name, wh, device, text_tower)

    # ----------------------------------------------------------------- text
    def tokenize(self, texts: list[str], towers: list[str] | None = None) -> TokenizedText:
        """Tokens of ``texts`` for the model's own tower, and which tower reads each (``towers``, else
        :meth:`tower_for` each text); the e5 tower reads its texts whole (no truncation, no unknown token)."""
        towers = list(towers) if towers is not None else [self.tower_for(t) for t in texts]
        if self._minilm:
            ids, trunc, unknown = self._tok(texts)
        else:
            ids = self._tok(texts)
            encode = getattr(self._tok, "encode", None)  # open_clip's SimpleTokenizer; others can't tell
            trunc = [encode is not None and len(encode(t)) + 2 > self.context_length for t in texts]  # + start/end
            unknown = [[] for _ in texts]
        e5 = [t == "e5" for t in towers]
        return TokenizedText(ids, [tr and not m for tr, m in zip(trunc, e5)],
                             [[] if m else u for u, m in zip(unknown, e5)], list(texts), towers)

    @property
    def text_head_hash(self) -> str | None:
        """sha256 of the e5 tower's head file (for the sidecar), hashed once; None with ``text_tower=minilm``."""
        if self.text_tower == "minilm":
            return None
        if self.multilingual is not None:
            return self.multilingual.weights_hash
        if not hasattr(self, "_head_hash"):
            from pipeline.encoders.multilingual import HEAD_FILE

            self._head_hash = clip_models.file_sha256(HEAD_FILE) if HEAD_FILE.is_file() else None
        return self._head_hash

    def tower_for(self, text: str) -> str:
        """``minilm`` or ``e5``: the tower that reads ``text`` (``model.text_tower``)."""
        from pipeline.encoders.language import tower_for

        return tower_for(text, self.text_tower)

    def encode_text_tensor(self, texts: list[str]) -> Tensor:
        """Float[N, D] L2-normalised text features."""
        return self.encode_tokens(self.tokenize(texts))

    @torch.no_grad()
    def encode_tokens(self, tok: TokenizedText) -> Tensor:
        """Float[N, D] L2-normalised features of texts already through ``tokenize``."""
        e5 = [i for i, t in enumerate(tok.towers) if t == "e5"]
        own = sorted(set(range(len(tok.ids))) - set(e5))
        feats = torch.zeros(len(tok.ids), self.embed_dim, device=self.device)
        for i in range(0, len(own), 256):
            rows = own[i:i + 256]
            feats[rows] = F.normalize(self.model.encode_text(tok.ids[rows].to(self.device)).float(), dim=-1)
        if e5:
            if self.multilingual is None:
                from pipeline.encoders.multilingual import MultilingualText

                self.multilingual = MultilingualText.load(self.embed_dim)
            feats[e5] = self.multilingual.encode([tok.texts[i] for i in e5]).to(self.device)
        return feats

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        return self.encode_text_tensor(list(texts)).cpu().numpy().astype(np.float32)

    # ----------------------------------------------------------------- images
    def encode_image_tensor(self, images: Tensor, normalize: bool = True) -> Tensor:
        """Differentiable image features.

        Args:
            images: Float[B, 3, H, W] in [0, 1]; resized to the model's input size.
        Returns:
            Float[B, D], L2-normalised when ``normalize``.
        """
        if images.shape[-1] != self.image_size or images.shape[-2] != self.image_size:
            images = F.interpolate(images, size=(self.image_size, self.image_size), mode="bilinear",
                                   align_corners=False, antialias=images.shape[-1] > self.image_size)
        x = (images.to(self.device) - self.mean) / self.std
        f = self.model.encode_image(x).float()
        return F.normalize(f, dim=-1) if normalize else f

    @torch.no_grad()
    def encode_images(self, images) -> np.ndarray:
        """PIL images (any size/mode) to Float[N, D] L2-normalised numpy features."""
        out = []
        for i in range(0, len(images), 64):
            batch = [np.asarray(im.convert("RGB").resize((self.image_size, self.image_size)), dtype=np.float32) / 255
                     for im in images[i:i + 64]]
            t = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2)
            out.append(self.encode_image_tensor(t).cpu())
        if not out:
            return np.zeros((0, self.embed_dim), np.float32)
        return torch.cat(out).numpy().astype(np.float32)

    @property
    def logit_scale(self) -> float:
        return float(self.model.logit_scale.exp())
