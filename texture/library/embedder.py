"""What the texturer needs from a CLIP model: the :class:`ImageEmbedder` protocol.

``texture`` never imports ``pipeline``; the pipeline passes its CLIP model in as an
object with this shape. :class:`OpenClipEmbedder` adapts any ``open_clip`` model
(the project's embedded model, or ``ViT-B-16`` with local weights) to it.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np
from PIL import Image


@runtime_checkable
class ImageEmbedder(Protocol):
    """A joint image/text embedding model (CLIP-style).

    Both encoders return float32 ``[N, D]`` arrays whose rows are L2-normalised,
    in the same space, so ``image_vecs @ text_vecs.T`` is the cosine similarity.
    """

    name: str
    """Model name, stored in an index so that vectors of different models never mix."""
    weights_hash: str
    """Hash of the weights (a checkpoint sha256, say); a change invalidates an index."""

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        """float32 [N, D] L2-normalised embeddings of RGB images."""
        ...

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """float32 [N, D] L2-normalised embeddings of texts."""
        ...


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows of ``x`` (float32 [N, D]) scaled to unit length; zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"expected a [N, D] array of embeddings, got shape {x.shape}")
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), eps)


def state_dict_hash(model: Any) -> str:
    """sha256 (hex, 16 chars) over a torch module's parameter names, shapes and bytes."""
    import torch

    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        t = v.detach().cpu().contiguous()
        h.update(k.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.view(-1).view(dtype=torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


class OpenClipEmbedder:
    """:class:`ImageEmbedder` around an ``open_clip`` model, its preprocess and tokenizer.

    >>> model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-16", pretrained=path)
    >>> emb = OpenClipEmbedder(model, preprocess, open_clip.get_tokenizer("ViT-B-16"), "ViT-B-16")
    """

    def __init__(self, model: Any, preprocess: Callable, tokenizer: Callable, name: str,
                 weights_hash: str | None = None, device: str = "cpu") -> None:
        import torch  # heavy; only when a real model is used

        self._torch = torch
        self.model = model.to(device).eval()
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.device = device
        self.name = name
        self.weights_hash = weights_hash or state_dict_hash(model)

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        torch = self._torch
        if not images:
            return np.zeros((0, self._dim()), np.float32)
        batch = torch.stack([self.preprocess(im.convert("RGB")) for im in images]).to(self.device)
        with torch.inference_mode():
            f = self.model.encode_image(batch)
        return l2_normalize(f.float().cpu().numpy())

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        if not texts:
            return np.zeros((0, self._dim()), np.float32)
        with torch.inference_mode():
            f = self.model.encode_text(self.tokenizer(list(texts)).to(self.device))
        return l2_normalize(f.float().cpu().numpy())

    def _dim(self) -> int:
        return int(getattr(self.model, "embed_dim", 0) or self.encode_texts(["x"]).shape[1])
