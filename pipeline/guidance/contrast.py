"""Counterfactual prompts for contrastive guidance: the prompt with its body words swapped.

Refinement keeps the generator's colours and only reshapes, so the attributes it can make more (or
less) legible are the body's: height and build. Plain DreamFields guidance raises the render's
similarity to the prompt, which "a tall thin soldier" and "a tall stout soldier" share almost all
of; scored against the prompt's counterfactuals as well (an InfoNCE term), the guidance pushes along
what tells the prompt apart from them instead.
"""
from __future__ import annotations

import itertools
import re

from nerf.synthetic.captions import BUILD_WORDS, HEAD_WORDS, HEIGHT_WORDS, LOWER_WORDS, UPPER_WORDS

BODY_WORDS = {"height": HEIGHT_WORDS, "build": BUILD_WORDS}
"""attribute -> class -> synonyms, of the attributes a counterfactual changes."""

_GARMENTS = sorted({w for words in (UPPER_WORDS, LOWER_WORDS, HEAD_WORDS) for syn in words.values() for w in syn
                    if " " in w}, key=len, reverse=True)  # "tall hat", "short pants": not body words


def _find(prompt: str, words: dict[str, tuple[str, ...]], masked: str) -> tuple[str, int, int] | None:
    """(class, start, end) of the first of ``words``' synonyms in ``masked`` (longest match first)."""
    syns = sorted(((s, c) for c, ss in words.items() for s in ss), key=lambda x: len(x[0]), reverse=True)
    for syn, cls in syns:
        m = re.search(rf"(?<![\w-]){re.escape(syn)}(?![\w-])", masked, flags=re.IGNORECASE)
        if m:
            return cls, m.start(), m.end()
    return None


def counterfactual_prompts(prompt: str) -> list[str]:
    """``prompt`` with every other combination of the height and build classes it names, a changed
    word replaced by its class's first word ("a very tall thin knight" -> "a very tall stout knight",
    "a short thin knight", "a short stout knight"). Empty when the prompt names neither."""
    masked = prompt
    for g in _GARMENTS:
        masked = re.sub(re.escape(g), lambda m: "#" * len(m.group()), masked, flags=re.IGNORECASE)
    found = []
    for words in BODY_WORDS.values():
        hit = _find(prompt, words, masked)
        if hit:
            found.append((words, *hit))
    if not found:
        return []
    options = [[(cls, prompt[start:end] if cls == own else words[cls][0]) for cls in words]
               for words, own, start, end in found]
    out = []
    for combo in itertools.product(*options):
        if all(cls == f[1] for (cls, _), f in zip(combo, found)):
            continue  # the prompt itself
        text = prompt
        for (_, word), (_, _, start, end) in sorted(zip(combo, found), key=lambda x: -x[1][2]):
            text = text[:start] + word + text[end:]
        out.append(text)
    return out
