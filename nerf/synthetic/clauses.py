"""Split a prompt into its descriptive clauses: "a short knight in a red shirt and blue trousers"
-> ["a short knight", "a red shirt", "blue trousers"].

A CLIP-style text embedding of the whole prompt is a mean over its tokens: it knows that
"red", "blue", "shirt" and "trousers" occur, but only weakly which colour goes with which
garment. Encoded one by one, each clause binds its own words ("blue trousers"), and the
FusionMLP reads the set of clause embeddings beside the whole-prompt embedding (Deep Sets:
a shared per-clause MLP, summed). The split is on punctuation, conjunctions and the
prepositions and verbs that join a subject to what it wears; no vocabulary of the avatar
domain is involved (``vocabulary.CLAUSE_JOINERS``), so any prompt splits the same way. Prompts in
Spanish, Portuguese, French and German split on their own conjunctions and "with"/"wearing" words, Chinese
and Japanese ones on their punctuation and particles (``vocabulary.CLAUSE_JOINERS_INTL``, ``CJK_JOINERS``):
the multilingual text tower reads those clauses.
"""
from __future__ import annotations

import re

from nerf.synthetic.vocabulary import CJK_JOINERS, CLAUSE_JOINERS, CLAUSE_JOINERS_INTL

#: Most clauses a prompt contributes (the rest are dropped; the whole-prompt embedding still sees them).
MAX_CLAUSES = 8

_WORD_JOINERS = sorted(CLAUSE_JOINERS + CLAUSE_JOINERS_INTL, key=len, reverse=True)
_SPLIT = re.compile(r"[,;:()，、。；：！？（）]|" + "|".join(re.escape(j) for j in CJK_JOINERS)
                    + r"|(?<!\w)(?:" + "|".join(re.escape(j) for j in _WORD_JOINERS) + r")(?!\w)", re.IGNORECASE)


def _split_zh_de(part: str) -> list[str]:
    """A Chinese clause cut after a garment and its 的 ("蓝色裤子的高个子男人" -> "蓝色裤子", "高个子男人"): the garment
    and the one wearing it are two clauses; "红色的衬衫" (a colour and 的) stays whole."""
    if "的" not in part:
        return [part]
    from nerf.synthetic.languages import garment_words

    words = sorted(garment_words("zh"), key=len, reverse=True)
    out, start = [], 0
    for i, ch in enumerate(part):
        if ch == "的" and any(part[start:i].endswith(w) for w in words):
            out.append(part[start:i])
            start = i + 1
    return out + [part[start:]]


def _split_ja_ni(part: str) -> list[str]:
    """A Japanese clause cut at the に that pairs two garments ("青いジャケットにグレーのスカート" -> "青いジャケット",
    "グレーのスカート"): where the words before it end in a garment or the words after it start with a colour.
    に elsewhere ("非常に背の高い", very tall) stays."""
    if "に" not in part:
        return [part]
    from nerf.synthetic.languages import colour_words, garment_words

    garments, colours = garment_words("ja"), colour_words()["ja"] + _JA_COLOUR_STARTS
    out, start = [], 0
    for i, ch in enumerate(part):
        if ch == "に" and i > start and (part[start:i].endswith(garments) or part[i + 1:].startswith(colours)):
            out.append(part[start:i])
            start = i + 1
    return out + [part[start:]]


#: Colour words a Japanese garment phrase starts with beyond the grammar's own (their stems: 青緑色の, 水色の, ...).
_JA_COLOUR_STARTS = ("青緑", "水色", "紺", "ベージュ", "クリーム", "ワイン", "カーキ", "ブラウン", "ブラック",
                     "ホワイト", "レッド", "ブルー", "グリーン", "イエロー", "パープル", "黄緑", "深緑", "濃い",
                     "薄い", "明るい", "暗い")


def split_clauses(prompt: str, max_clauses: int = MAX_CLAUSES) -> list[str]:
    """The prompt's clauses, in order, at most ``max_clauses``; ``[prompt]`` when nothing splits it."""
    parts = [" ".join(p.split()) for p in _SPLIT.split(prompt) if p]
    parts = [q for p in parts for q in _split_zh_de(p)]
    parts = [q for p in parts for q in _split_ja_ni(p)]
    parts = [p for p in parts if p and re.search(r"\w", p)]
    return parts[:max_clauses] or [" ".join(prompt.split())]
