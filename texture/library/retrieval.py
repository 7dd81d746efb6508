"""CLIP retrieval of library swatches for each region a prompt describes.

Each region phrase ("green plaid shirt") becomes material queries in the wording the
embedded CLIP model was trained on for swatch close-ups (``texture.library.swatches``:
"a close-up of green plaid fabric", "green plaid fabric", ...). The query embeddings
are averaged (prompt ensembling, as in CLIP's zero-shot classifiers), the library
is searched, and the candidates may be re-ranked by a conditioning vector (e.g. the
fused text+image embedding of the whole avatar, in the same space).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nerf.synthetic.avatar_spec import COLORS
from texture.library.embedder import ImageEmbedder, l2_normalize
from texture.library.regions import RegionPhrase, parse_regions
from texture.library.search import LibraryIndex
from texture.library.swatches import MATERIAL_WORDS

_NOT_FABRIC = {"leather", "metal"}


@dataclass
class RetrievalConfig:
    """How region phrases become queries and how candidates are ranked."""

    templates: tuple[str, ...] = ("a close-up of {desc} {noun}", "{desc} {noun}", "a swatch of {desc} {noun}")
    """Query templates; ``{desc}`` is "<colour> <material>", ``{noun}`` fabric or material."""
    conditioning_weight: float = 0.3
    """Weight w of the conditioning similarity: score = (1 - w) * query + w * conditioning."""
    candidates: int = 50
    """How many nearest swatches are re-ranked when a conditioning vector is given."""
    embedding_fallback: bool = True
    """Place prompt chunks without vocabulary words by embedding similarity to region descriptions."""
    whole_prompt_fallback: bool = True
    """If no region is found at all, query the whole prompt as the ``outfit`` region."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.conditioning_weight <= 1.0:
            raise ValueError(f"RetrievalConfig.conditioning_weight must be in [0, 1], got {self.conditioning_weight}")
        if not self.templates or any("{desc}" not in t for t in self.templates):
            raise ValueError(f"every RetrievalConfig.templates entry needs '{{desc}}', got {self.templates!r}")


def region_queries(phrase: RegionPhrase, config: RetrievalConfig | None = None) -> list[str]:
    """The texts encoded for one region phrase, e.g. ["a close-up of green plaid fabric", ...]."""
    cfg = config or RetrievalConfig()
    if phrase.color is None and phrase.material is None:  # no vocabulary: use the phrase itself
        desc, noun = phrase.text, "fabric"
    else:
        col = COLORS[phrase.color][1][0] if phrase.color else ""
        mat = MATERIAL_WORDS[phrase.material][0] if phrase.material and phrase.material != "solid" else ""
        desc = " ".join(w for w in (col, mat) if w)
        noun = "material" if phrase.material in _NOT_FABRIC else "fabric"
    return [t.format(desc=desc, noun=noun).strip() for t in cfg.templates]


def retrieve_regions(prompt: str, index: LibraryIndex, embedder: ImageEmbedder, k: int = 5,
                     conditioning: np.ndarray | None = None,
                     config: RetrievalConfig | None = None) -> dict[str, list[tuple[Path, float]]]:
    """Best ``k`` library images per region of ``prompt``: {region: [(path, score), ...]}.

    ``conditioning``: optional float [D] vector in the index's embedding space; when
    given, the ``config.candidates`` nearest swatches are re-ranked by
    ``(1 - w) * query_sim + w * conditioning_sim``. Regions the prompt does not
    mention are absent. Raises ``ValueError`` if the index was built by another model.
    """
    cfg = config or RetrievalConfig()
    if index.model_name and (index.model_name, index.weights_hash) != (embedder.name, embedder.weights_hash):
        raise ValueError(f"index was built by {index.model_name!r} (weights {index.weights_hash}) but the "
                         f"embedder is {embedder.name!r} (weights {embedder.weights_hash}); re-index the library")
    if len(index) == 0:
        return {}
    phrases = parse_regions(prompt, embedder if cfg.embedding_fallback else None)
    if not phrases and cfg.whole_prompt_fallback and prompt.strip():
        phrases = {"outfit": RegionPhrase("outfit", prompt.strip(), source="prompt")}
    if not phrases:
        return {}
    cond = None
    if conditioning is not None:
        cond = np.asarray(conditioning, np.float32).reshape(1, -1)
        if cond.shape[1] != index.dim:
            raise ValueError(f"conditioning has dimension {cond.shape[1]}, the index has {index.dim}")
        cond = l2_normalize(cond)[0]

    regions = list(phrases)
    texts = [region_queries(phrases[r], cfg) for r in regions]
    flat = np.asarray(embedder.encode_texts([t for ts in texts for t in ts]), np.float32)
    n_t = len(cfg.templates)
    queries = l2_normalize(flat.reshape(len(regions), n_t, -1).mean(axis=1))
    pool = max(k, cfg.candidates) if cond is not None else k
    scores, ids = index.search(queries, pool)
    out: dict[str, list[tuple[Path, float]]] = {}
    for r, s, i in zip(regions, scores, ids):
        s = s.astype(np.float32)
        if cond is not None:
            w = cfg.conditioning_weight
            s = (1.0 - w) * s + w * (index.embeddings[i] @ cond)
            order = np.argsort(-s, kind="stable")
            s, i = s[order], i[order]
        out[r] = [(index.abspath(int(j)), float(v)) for j, v in zip(i[:k], s[:k])]
    return out
