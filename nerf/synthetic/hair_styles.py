"""Hair styles named in words: "a woman with her hair in a bun", "a girl with a ponytail", "马尾辫", "coleta".

The corpus renders hair in three lengths (none, short, long) and the embedded models learned those. A bun or
a ponytail the prompt names is read by this rule instead, in every language the grammar has, and built on
the scalp (``nerf.body.garments``): the hair pulled back close to the head, with a bun at the back of the
head or a ponytail hanging from it on a spring chain (``pipeline.generate.AvatarForge.amortised_template``
sets ``Layout.hair``). When the corpus renders these styles the generator can learn them as classes.
"""
from __future__ import annotations

import re

STYLES: tuple[str, ...] = ("bun", "ponytail")
"""Hair styles read from words, beyond the generator's lengths (``nerf.synthetic.avatar_spec.HAIR``)."""
_WORDS: dict[str, tuple[str, ...]] = {
    "bun": (r"\b(?:hair ?)?buns?\b", r"\btop ?knot\b", r"\bchignon\b", r"\bhair ?knot\b", "发髻", "丸子头", "盘发",
            "お団子", "おだんご", "シニヨン", r"\bmoño\b", r"\brodete\b", r"\bcoque\b", r"\bDutt\b", r"\bHaarknoten\b"),
    "ponytail": (r"\bpony ?tails?\b", "马尾", "ポニーテール", r"\bcoleta\b", r"\bcola de caballo\b",
                 r"\brabo[- ]de[- ]cavalo\b", r"\bqueue[- ]de[- ]cheval\b", r"\bPferdeschwanz\b"),
}
_PATTERNS = {style: re.compile("|".join(words), re.I) for style, words in _WORDS.items()}


def stated_hair_style(prompt: str) -> tuple[str, str] | None:
    """(style, the words that name it) for the first hair style ``prompt`` names, or None."""
    hits = [(m.start(), style, m.group(0)) for style, pat in _PATTERNS.items() for m in [pat.search(prompt)] if m]
    if not hits:
        return None
    _, style, words = min(hits)
    return style, words


__all__ = ["STYLES", "stated_hair_style"]
