"""Caption grammar for the synthetic avatar corpus (its words are in ``nerf.synthetic.vocabulary``).

Templates are split into three disjoint groups so that no model is tested on the
wording it learned from: ``train`` (the shipped embedded model), ``evaluator``
(the independent evaluator model) and ``heldout`` (test prompts only).
"""
from __future__ import annotations

import random
import re

from nerf.synthetic.avatar_spec import COLORS, HAIR_COLORS, AvatarSpec, covers_legs
from nerf.synthetic.vocabulary import (
    ACC_WORDS,
    BUILD_WORDS,
    CHILD_SUBJECTS,
    HEAD_WORDS,
    HEIGHT_WORDS,
    LOWER_WORDS,
    PATTERN_WORDS,
    SUBJECTS,
    UPPER_WORDS,
)

TEMPLATES: dict[str, tuple[str, ...]] = {
    "train": (
        "{a_subj} wearing {upper}{lower}{head}{acc}",
        "a 3d model of {a_subj} in {upper}{lower}{head}",
        "{a_subj} dressed in {upper}{lower}{acc}{head}",
        "a render of {a_subj} with {upper}{lower}{head}",
        "{upper_cap} worn by {a_subj}{lower}{head}",
        "game avatar: {subj_bare}, {upper}{lower}{head}{acc}",
        "{a_subj} who wears {upper}{lower}{head}",
        "full body shot of {a_subj} in {upper}{lower}{acc}",
        "{a_subj}{head}, in {upper}{lower}",
        "low poly {subj_bare} wearing {upper}{lower}{head}",
        "a cartoon {subj_bare} in {upper}{lower}{head}{acc}",
        "{a_subj} clad in {upper}{lower}{head}",
    ),
    "evaluator": (
        "an image of {a_subj} sporting {upper}{lower}{head}{acc}",
        "{a_subj}; outfit: {upper}{lower}{head}",
        "picture showing {a_subj} with {upper} on{lower}{head}",
        "a 3d character, {subj_bare}, {upper}{lower}{head}{acc}",
        "digital avatar of {a_subj} in {upper}{lower}{head}",
        "{a_subj} standing, wearing {upper}{lower}{head}",
    ),
    "heldout": (
        "a photo of {a_subj} that has {upper}{lower}{head}",
        "{a_subj} having put on {upper}{lower}{head}{acc}",
        "3d avatar: {a_subj} in {upper}{lower}{head}",
        "{a_subj} with {upper}{lower}{head}{acc}",
        "there is {a_subj} wearing {upper}{lower}{head}",
        "a video game {subj_bare} in {upper}{lower}{head}",
    ),
}


def _pick(rng: random.Random, words: tuple[str, ...]) -> str:
    return rng.choice(words)


def _color_word(rng: random.Random, name: str) -> str:
    return _pick(rng, COLORS[name][1])


def _article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def phrases(spec: AvatarSpec, rng: random.Random, full: bool = False, colors: bool = True,
            named: dict | None = None) -> dict[str, str]:
    """Natural-language pieces describing ``spec``; ``full`` keeps every attribute, ``colors=False``
    names no colour at all (the prompts for which a reference image decides the colours).

    ``named``, if given, receives the attributes the pieces name (attribute -> spec value; synonyms
    such as "crimson"/"scarlet" or "tall"/"towering" give the same entry). Recording draws nothing
    from ``rng``, so captions stay the same with or without it.
    """
    keep = (lambda p: True) if full else (lambda p: rng.random() < p)
    named = {} if named is None else named

    def color(name: str) -> list[str]:
        return [_color_word(rng, name)] if colors else []

    # subject with height/build adjectives
    if spec.archetype and keep(0.85):
        noun = named["subject"] = spec.archetype
    elif spec.age == "child":
        noun, named["subject"] = _pick(rng, CHILD_SUBJECTS), "child"
    else:
        noun, named["subject"] = _pick(rng, SUBJECTS), "person"
    adjs = []
    if spec.height in HEIGHT_WORDS and spec.age != "child" and keep(0.75):
        adjs.append(_pick(rng, HEIGHT_WORDS[spec.height]))
        named["height"] = spec.height
    if spec.build in BUILD_WORDS and keep(0.75):
        adjs.append(_pick(rng, BUILD_WORDS[spec.build]))
        named["build"] = spec.build
    subj = " ".join(adjs + [noun])
    # upper garment
    pat = PATTERN_WORDS.get(spec.upper_pattern)
    up_words = color(spec.upper_color)
    named.update(upper=spec.upper, **({"upper_color": spec.upper_color} if colors else {}))
    if pat and keep(0.9):
        up_words.append(_pick(rng, pat))
        named["upper_pattern"] = spec.upper_pattern
    up_words.append(_pick(rng, UPPER_WORDS[spec.upper]))
    upper = _article(" ".join(up_words))
    lower = ""
    if not covers_legs(spec) and keep(0.7):
        lp = PATTERN_WORDS.get(spec.lower_pattern)
        lw = color(spec.lower_color) + ([_pick(rng, lp)] if lp else []) + \
             [_pick(rng, LOWER_WORDS[spec.lower])]
        lower = " ".join(lw)
        named.update(lower=spec.lower, lower_pattern=spec.lower_pattern,
                     **({"lower_color": spec.lower_color} if colors else {}))
        lower = (" and " + (lower if spec.lower != "skirt" else _article(lower)))
    head = ""
    if spec.headwear != "none" and keep(0.8):
        head = " and " + _article(" ".join(color(spec.headwear_color) + [_pick(rng, HEAD_WORDS[spec.headwear])]))
        named.update(headwear=spec.headwear, **({"headwear_color": spec.headwear_color} if colors else {}))
    elif spec.hair != "none" and spec.headwear == "none" and keep(0.3):
        hc = spec.hair_color if spec.hair_color in HAIR_COLORS else "brown"
        head = f" with {spec.hair} {hc} hair" if colors else f" with {spec.hair} hair"
        named.update(headwear="none", hair=spec.hair, **({"hair_color": hc} if colors else {}))
    elif spec.hair == "none" and spec.headwear == "none" and keep(0.3):
        head = " and a bald head"
        named.update(headwear="none", hair="none")
    acc = ""
    present = [a for a in spec.accessories if keep(0.7)]
    if present:
        bits = []
        for a in present:
            w = _pick(rng, ACC_WORDS[a])
            bits.append(w if a == "boots" else _article(" ".join(
                (color(spec.accessory_color) if a in ("cape", "backpack") else []) + [w])))
        acc = ", with " + " and ".join(bits)
        named["accessories"] = tuple(present)
        if colors and any(a in ("cape", "backpack") for a in present):
            named["accessory_color"] = spec.accessory_color
    return {"a_subj": _article(subj), "subj_bare": subj, "upper": upper, "upper_cap": upper[0].upper() + upper[1:],
            "lower": lower, "head": head, "acc": acc}


def caption(spec: AvatarSpec, rng: random.Random, group: str = "train", full: bool = False,
            colors: bool = True, named: dict | None = None) -> str:
    """A caption of ``spec`` from the template group ``group`` (``colors=False``: no colour words).

    ``named``, if given, receives the attributes the caption names (see :func:`phrases`); a
    template that leaves out a slot (some have no ``{acc}``) leaves its entry out too.
    """
    tpl = rng.choice(TEMPLATES[group])
    pieces: dict = {}
    text = tpl.format(**phrases(spec, rng, full=full, colors=colors, named=pieces))
    if named is not None:
        slots = set(re.findall(r"{(\w+)}", tpl))
        drop = {"acc": ("accessories", "accessory_color"), "lower": ("lower", "lower_color", "lower_pattern"),
                "head": ("headwear", "headwear_color", "hair", "hair_color")}
        named.update({k: v for k, v in pieces.items()
                      if not any(k in keys and slot not in slots for slot, keys in drop.items())})
    return re.sub(r"\s+", " ", text).strip()


def short_caption(spec: AvatarSpec, rng: random.Random, colors: bool = True) -> str:
    """A terse prompt of the kind users type: the subject alone ("a knight", "a stout wizard"),
    or with its upper garment ("a tall person in a red shirt"). Every corpus caption names the
    upper garment and most name more, so without these a bare "a knight" lay outside what the
    generator was trained on (it drew a child: the one subject the grammar never gives a height)."""
    p = phrases(spec, rng, colors=colors)
    return p["a_subj"] if rng.random() < 0.5 else f"{p['a_subj']} in {p['upper']}"


def attribute_prompts(attribute: str) -> dict[str, str]:
    """Zero-shot class prompts for one attribute (class name -> prompt)."""
    from nerf.synthetic.avatar_spec import ARCHETYPES, GARMENT_COLORS, HEADWEAR, UPPER

    if attribute == "upper_color":
        return {c: f"a person wearing a {c} {'top'}" for c in GARMENT_COLORS}
    if attribute == "archetype":
        return {a: f"a 3d avatar of a {a}" for a in ARCHETYPES}
    if attribute == "upper":
        return {u: f"a person wearing {_article(UPPER_WORDS[u][0])}" for u in UPPER}
    if attribute == "headwear":
        return {h: ("a person with no hat" if h == "none" else f"a person wearing {_article(HEAD_WORDS[h][0])}")
                for h in HEADWEAR}
    if attribute == "height":
        return {"short": "a short person", "average": "a person of average height", "tall": "a tall person"}
    if attribute == "build":
        return {"thin": "a thin person", "average": "a person of average build", "stout": "a stout person"}
    raise ValueError(f"no zero-shot prompts for attribute {attribute!r}")
