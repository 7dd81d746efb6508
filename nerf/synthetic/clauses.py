"""Split a prompt into its descriptive clauses: "a short knight in a red shirt and blue trousers"
-> ["a short knight", "a red shirt", "blue trousers"].

A CLIP-style text embedding of the whole prompt is a mean over its tokens: it knows that
"red", "blue", "shirt" and "trousers" occur, but only weakly which colour goes with which
garment. Encoded one by one, each clause binds its own words ("blue trousers"), and the
FusionMLP reads the set of clause embeddings beside the whole-prompt embedding (Deep Sets:
a shared per-clause MLP, summed). The split is on punctuation, conjunctions and the
prepositions and verbs that join a subject to what it wears; no vocabulary of the avatar
domain is involved (``vocabulary.CLAUSE_JOINERS``), so any prompt splits the same way.
"""
from __future__ import annotations

import re

from nerf.synthetic.vocabulary import CLAUSE_JOINERS

#: Most clauses a prompt contributes (the rest are dropped; the whole-prompt embedding still sees them).
MAX_CLAUSES = 8

_SPLIT = re.compile(r"[,;:()]|\b(?:" + "|".join(re.escape(j) for j in CLAUSE_JOINERS) + r")\b", re.IGNORECASE)


def split_clauses(prompt: str, max_clauses: int = MAX_CLAUSES) -> list[str]:
    """The prompt's clauses, in order, at most ``max_clauses``; ``[prompt]`` when nothing splits it."""
    parts = [" ".join(p.split()) for p in _SPLIT.split(prompt)]
    parts = [p for p in parts if p and re.search(r"\w", p)]
    return parts[:max_clauses] or [" ".join(prompt.split())]
