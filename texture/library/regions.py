"""Split a prompt into per-region phrases: "a person in a green plaid shirt and black trousers"
gives upper = "green plaid shirt", lower = "black trousers".

Rule-based over the avatar vocabulary (``nerf.synthetic.vocabulary``) (garments, colours with their
synonyms, patterns) plus the texture materials; modifiers before a garment belong to
it ("green plaid shirt"), and modifiers after a garment introduced by "in"/"of"
belong to it when it had none ("a shirt in green plaid"). Chunks with no known word
can be placed by embedding similarity to short region descriptions (optional).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from nerf.synthetic.avatar_spec import ACCESSORIES, COLORS, PATTERNS
from nerf.synthetic.vocabulary import (
    GARMENT_REGIONS,
    IMPLIED_MATERIALS,
    LONG_GARMENTS,
    PHRASE_SEPARATORS,
    POSTFIX_WORDS,
    STOP_WORDS,
)
from texture.library.embedder import ImageEmbedder
from texture.library.swatches import MATERIAL_WORDS

#: Texture regions, and the mesh regions (``nerf.artifacts.REGIONS``) each one paints.
TEXTURE_REGIONS: tuple[str, ...] = ("upper", "lower", "head", "feet", "outfit")
MESH_REGIONS: dict[str, tuple[str, ...]] = {
    "upper": ("upper",), "lower": ("lower",), "head": ("headwear", "hair"),
    "feet": ("shoes",), "outfit": ("upper", "lower", "accessory"),
}
#: Region descriptions for the embedding fallback.
REGION_DESCRIPTIONS: dict[str, str] = {
    "upper": "a shirt, jacket, coat or top worn on the upper body",
    "lower": "trousers, a skirt or shorts worn on the legs",
    "head": "a hat, helmet, hood or hairstyle on the head",
    "feet": "shoes, boots or sandals on the feet",
    "outfit": "a whole outfit, costume or uniform",
}

_ACCESSORIES = set(ACCESSORIES) - {"boots", "cape"}
_COLOR_WORDS = {syn: name for name, (_, syns) in COLORS.items() for syn in syns + (name,)}
_MATERIAL_WORDS = {w: m for m, ws in MATERIAL_WORDS.items() for w in ws + (m,) if m != "solid"}
_MATERIAL_WORDS.update({p: p for p in PATTERNS if p != "solid"}, stripe="stripes", checkered="checks",
                       check="checks", tartan="plaid", jean="denim", camo="camouflage", dots="polka dots",
                       dot="polka dots", spotted="polka dots", woolen="knit", wool="knit", woollen="knit",
                       knitted="knit", plain="solid", solid="solid", steel="metal", iron="metal")
_MATERIAL_WORDS["metallic"] = "metal"
_MODIFIERS = sorted(set(_COLOR_WORDS) | set(_MATERIAL_WORDS), key=lambda w: -len(w.split()))



@dataclass
class RegionPhrase:
    """What the prompt says about one texture region."""

    region: str
    """One of :data:`TEXTURE_REGIONS`."""
    text: str
    """The phrase as a noun group, e.g. "green plaid shirt"."""
    color: str | None = None
    """Canonical colour name (a key of ``COLORS``), if one was named."""
    material: str | None = None
    """Canonical material (one of ``texture.library.swatches.MATERIALS``), named or implied."""
    garment: str | None = None
    """The garment word, if any."""
    source: str = "rule"
    """"rule" (vocabulary), "embedding" (similarity fallback) or "prompt" (whole prompt)."""
    words: list[str] = field(default_factory=list)


def _tokens(prompt: str) -> list[str]:
    toks = re.findall(r"[a-z]+(?:-[a-z]+)*|[,;.]", prompt.lower())
    out, i = [], 0
    while i < len(toks):  # join multi-word vocabulary ("jet black", "polka dots", "brushed metal")
        for w in _MODIFIERS:
            n = len(w.split())
            if n > 1 and " ".join(toks[i:i + n]) == w:
                out.append(w)
                i += n
                break
        else:
            out.append(toks[i])
            i += 1
    return out


def _phrase(region: str, mods: list[str], garment: str | None) -> RegionPhrase:
    color = next((_COLOR_WORDS[m] for m in mods if m in _COLOR_WORDS), None)
    material = next((_MATERIAL_WORDS[m] for m in mods if m in _MATERIAL_WORDS and m not in _COLOR_WORDS), None)
    if material is None and garment in IMPLIED_MATERIALS:
        material = IMPLIED_MATERIALS[garment]
    if material is None and "metallic" in mods or (material is None and color in ("silver", "gold")):
        material = "metal"
    text = " ".join(mods + ([garment] if garment else []))
    return RegionPhrase(region, text, color, material, garment, "rule", list(mods))


def parse_regions(prompt: str, embedder: ImageEmbedder | None = None,
                  min_similarity: float = 0.2) -> dict[str, RegionPhrase]:
    """Region phrases of ``prompt`` (only the regions it mentions).

    The first phrase for a region wins; a robe or dress also gives ``lower`` when no
    lower garment is named; colours/materials attached to no garment go to ``outfit``.
    With ``embedder``, a chunk without vocabulary words but with content ("a tuxedo")
    goes to the most similar region description if the cosine is >= ``min_similarity``.
    """
    out: dict[str, RegionPhrase] = {}
    pending: list[str] = []
    chunk: list[str | None] = []
    unplaced: list[str] = []
    last: RegionPhrase | None = None
    open_last = False  # last garment had no modifiers and may take postfix ones

    def flush_chunk() -> None:  # a chunk between separators with no vocabulary word at all
        content = [t for t in chunk if t not in STOP_WORDS and t not in _ACCESSORIES]
        if content and None not in chunk:
            unplaced.append(" ".join(content))
        chunk.clear()

    for tok in _tokens(prompt) + ["."]:
        if tok in GARMENT_REGIONS:
            region = GARMENT_REGIONS[tok]
            ph = _phrase(region, pending, tok)
            if region not in out or (region == "head" and out[region].garment == "hair" and tok != "hair"):
                out[region] = ph
            last, open_last, pending = ph, not pending, []
            chunk.append(None)  # marks the chunk as placed by the vocabulary
        elif tok in _COLOR_WORDS or tok in _MATERIAL_WORDS:
            pending.append(tok)
            chunk.append(None)
        elif tok in PHRASE_SEPARATORS:
            if pending and last is not None and open_last:
                ph = _phrase(last.region, pending, last.garment)
                if out.get(last.region) is last:
                    out[last.region] = ph
                last, pending = ph, []
            elif pending:
                out.setdefault("outfit", _phrase("outfit", pending, None))
                pending = []
            open_last = False
            flush_chunk()
        else:
            if tok not in POSTFIX_WORDS:
                open_last = open_last and tok in STOP_WORDS
            chunk.append(tok)
    for long_ph in [p for p in out.values() if p.garment in LONG_GARMENTS]:
        out.setdefault("lower", RegionPhrase("lower", long_ph.text, long_ph.color, long_ph.material,
                                             long_ph.garment, "rule", list(long_ph.words)))
    if embedder is not None and unplaced:
        _place_by_embedding(unplaced, out, embedder, min_similarity)
    return {r: out[r] for r in TEXTURE_REGIONS if r in out}


def _place_by_embedding(chunks: list[str], out: dict[str, RegionPhrase], embedder: ImageEmbedder,
                        min_similarity: float) -> None:
    names = list(REGION_DESCRIPTIONS)
    desc = embedder.encode_texts([REGION_DESCRIPTIONS[r] for r in names])
    sims = np.asarray(embedder.encode_texts(chunks), np.float32) @ np.asarray(desc, np.float32).T
    for c, row in zip(chunks, sims):
        j = int(np.argmax(row))
        if row[j] >= min_similarity and names[j] not in out:
            out[names[j]] = RegionPhrase(names[j], c, source="embedding", words=c.split())
