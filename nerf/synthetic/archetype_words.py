"""The archetype a prompt names in words: "a nurse", "a business woman", "护士", "una enfermera".

The generator learned an archetype's outfit as one distribution per head, so it cannot say that two of them
go together: a nurse's scrubs are blue, teal, white or green, top and trousers the same one
(``nerf.synthetic.avatar_spec.ARCHETYPES``' "same"). ``ShapeGenerator.decode`` draws the open ones apart;
told the archetype by this rule, it gives the trousers the top's colour (``nerf.generator.matched_regions``).
"""
from __future__ import annotations

import functools
import re

from nerf.synthetic.languages import archetype_words
from nerf.synthetic.vocabulary import ARCHETYPE_WORDS


@functools.cache
def _pattern() -> tuple[re.Pattern, dict[str, str]]:
    owner: dict[str, str] = {}
    for arch, words in ARCHETYPE_WORDS.items():
        for w in words + archetype_words(arch):
            owner.setdefault(w.lower(), arch)
    # longest first, so "女商人" is a businesswoman before "商人" a businessman; Latin words on word boundaries
    alts = [re.escape(w) if _cjk(w) else rf"\b{re.escape(w)}\b" for w in sorted(owner, key=len, reverse=True)]
    return re.compile("|".join(alts), re.I), owner


def _cjk(word: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in word)


def stated_archetype(prompt: str) -> str | None:
    """The archetype whose word comes first in ``prompt``, or None."""
    pattern, owner = _pattern()
    m = pattern.search(prompt)
    return owner[m.group(0).lower()] if m else None


__all__ = ["stated_archetype"]
