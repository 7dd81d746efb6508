"""Caption grammar for the synthetic avatar corpus (its words are in ``nerf.synthetic.vocabulary``).

Templates are split into disjoint groups so that no model is tested on the
wording it learned from: ``train`` (the shipped embedded model), ``evaluator``
(the independent evaluator model), ``heldout`` (test prompts only) and ``paraphrase``
(``scripts/make_paraphrase_prompts.py``: the prompt file of wording no training caption has, with the
held-out synonyms of ``vocabulary.words_for``).
"""
from __future__ import annotations

import random
import re

from nerf.synthetic.avatar_spec import ARCHETYPE_GENDER, ARCHETYPES, COLORS, HAIR_COLORS, AvatarSpec, covers_legs
from nerf.synthetic.vocabulary import (
    ACC_WORDS,
    ADULT_ADJECTIVES,
    ARCHETYPE_WORDS,
    BALD_WORDS,
    BUILD_WORDS,
    CHILD_WORDS,
    COMBO_WORDS,
    ELDER_WORDS,
    GENDER_ADJECTIVES,
    HAIR_WORDS,
    HEAD_WORDS,
    HEIGHT_WORDS,
    LOWER_WORDS,
    PATTERN_WORDS,
    SUBJECT_WORDS,
    SUIT_WORDS,
    UPPER_WORDS,
    words_for,
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
    "paraphrase": (
        "i want {a_subj} in {upper}{lower}{head}",
        "make me {a_subj} wearing {upper}{lower}{head}{acc}",
        "{a_subj}, {upper}{lower}{head}",
        "please generate {a_subj} dressed in {upper}{lower}{head}",
        "character concept: {subj_bare} in {upper}{lower}{head}{acc}",
        "create {a_subj} with {upper}{lower}{head}",
    ),
}


def _pick(rng: random.Random, words: tuple[str, ...], group: str = "train") -> str:
    return rng.choice(words_for(words, group))


def _color_word(rng: random.Random, name: str, group: str = "train") -> str:
    return _pick(rng, COLORS[name][1], group)


def _article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def _implied(spec: AvatarSpec) -> dict:
    """What naming ``spec``'s archetype names: the attributes the archetype fixes to one value. Those it
    leaves to a choice (a nurse's scrubs are blue, teal, white or green) stay unnamed; the generator's
    targets spread them over the archetype's choices (``nerf.generator.named_targets``)."""
    if not spec.archetype or spec.archetype not in ARCHETYPES:
        return {}
    fixed = ARCHETYPES[spec.archetype]
    out = {}
    for k, v in fixed.items():
        if isinstance(v, list) or (v == "same" and isinstance(fixed.get("upper_color"), list)):
            continue
        if k == "lower_color" and covers_legs(spec):
            continue
        out[k] = tuple(spec.accessories) if k == "accessories" else getattr(spec, k)
    return out


def phrases(spec: AvatarSpec, rng: random.Random, full: bool = False, colors: bool = True,
            named: dict | None = None, group: str = "train", call: str | None = None) -> dict[str, str]:
    """Natural-language pieces describing ``spec``; ``full`` keeps every attribute, ``colors=False``
    names no colour at all (the prompts for which a reference image decides the colours). Synonyms come
    from ``vocabulary.words_for(words, group)`` (held-out synonyms only in the held-out groups).

    ``named``, if given, receives the attributes the pieces name (attribute -> spec value; synonyms
    such as "crimson"/"scarlet" or "tall"/"towering" give the same entry; an archetype's word names what
    the archetype fixes). Recording draws nothing from ``rng``, so captions stay the same with or without it.
    ``call`` names the subject with that archetype's word although ``spec`` does not wear its outfit
    (:func:`contradicting_caption`): the word then implies nothing.
    """
    keep = (lambda p: True) if full else (lambda p: rng.random() < p)
    named = {} if named is None else named
    # word choices that name nothing new (an age or gender adjective, a combined height-and-build word, "suit")
    # draw from rng directly, so full captions vary them too

    def pick(words: tuple[str, ...]) -> str:
        return _pick(rng, words, group)

    def color(name: str) -> list[str]:
        return [_color_word(rng, name, group)] if colors else []

    gender = spec.gender if spec.gender in SUBJECT_WORDS else "any"
    # subject with age, height and build adjectives
    if call is not None:
        noun, named["subject"], named["age"] = pick(ARCHETYPE_WORDS[call]), call, spec.age
    elif spec.archetype and spec.archetype in ARCHETYPE_WORDS and keep(0.85):
        noun = pick(ARCHETYPE_WORDS[spec.archetype])
        named["subject"] = spec.archetype
        implied = {k: v for k, v in _implied(spec).items() if colors or not k.endswith("_color")}
        named.update(implied, implied=tuple(implied))
        named["age"] = spec.age
    elif spec.age == "child":
        noun, named["subject"], named["age"] = pick(CHILD_WORDS[gender]), "child", "child"
    else:
        noun, named["subject"], named["age"] = pick(SUBJECT_WORDS[gender]), "person", "adult"
    if named["subject"] != "child" and spec.age == "child":
        noun = f"child {noun}" if rng.random() < 0.5 else f"young {noun}"
        named["age"] = "child"
    adjs = []
    if spec.age == "adult" and spec.hair_color in ("grey", "white") and spec.hair != "none" and rng.random() < 0.35:
        adjs.append(pick(ELDER_WORDS))
        named["elder"] = True
        named["hair_color"] = spec.hair_color
    elif spec.age == "adult" and rng.random() < 0.12:
        adjs.append(pick(ADULT_ADJECTIVES))
    combo = COMBO_WORDS.get((spec.height, spec.build))
    if combo and spec.age != "child" and rng.random() < 0.3:
        adjs.append(pick(combo))
        named.update(height=spec.height, build=spec.build)
    else:
        if spec.height in HEIGHT_WORDS and spec.age != "child" and keep(0.75):
            adjs.append(pick(HEIGHT_WORDS[spec.height]))
            named["height"] = spec.height
        if spec.build in BUILD_WORDS and keep(0.75):
            adjs.append(pick(BUILD_WORDS[spec.build]))
            named["build"] = spec.build
    if gender != "any" and named["subject"] not in ("child", "person") and rng.random() < 0.3:
        adjs.append(pick(GENDER_ADJECTIVES[gender]))
    subj = " ".join(adjs + [noun])
    # a plain one-colour jacket and trousers may be called a suit
    suit = (spec.upper == "jacket" and spec.lower == "trousers" and spec.upper_color == spec.lower_color
            and spec.upper_pattern == "solid" and spec.lower_pattern == "solid" and rng.random() < 0.6)
    # upper garment
    pat = PATTERN_WORDS.get(spec.upper_pattern)
    up_words = color(spec.upper_color)
    named.update(upper=spec.upper, **({"upper_color": spec.upper_color} if colors else {}))
    if pat and keep(0.9):
        up_words.append(pick(pat))
        named["upper_pattern"] = spec.upper_pattern
    up_words.append(pick(SUIT_WORDS) if suit else pick(UPPER_WORDS[spec.upper]))
    upper = _article(" ".join(up_words))
    lower = ""
    if suit:
        named.update(lower="trousers", lower_pattern="solid", **({"lower_color": spec.lower_color} if colors else {}))
    elif not covers_legs(spec) and keep(0.7):
        lp = PATTERN_WORDS.get(spec.lower_pattern)
        lw = color(spec.lower_color) + ([pick(lp)] if lp else []) + [pick(LOWER_WORDS[spec.lower])]
        lower = " ".join(lw)
        named.update(lower=spec.lower, lower_pattern=spec.lower_pattern,
                     **({"lower_color": spec.lower_color} if colors else {}))
        lower = (" and " + (lower if spec.lower != "skirt" else _article(lower)))
    head = ""
    if spec.headwear != "none" and keep(0.8):
        head = " and " + _article(" ".join(color(spec.headwear_color) + [pick(HEAD_WORDS[spec.headwear])]))
        named.update(headwear=spec.headwear, **({"headwear_color": spec.headwear_color} if colors else {}))
    elif spec.hair != "none" and spec.headwear == "none" and keep(0.3):
        hc = spec.hair_color if spec.hair_color in HAIR_COLORS else "brown"
        length = pick(HAIR_WORDS[spec.hair])
        head = f" with {length} {hc} hair" if colors else f" with {length} hair"
        named.update(headwear="none", hair=spec.hair, **({"hair_color": hc} if colors else {}))
    elif spec.hair == "none" and spec.headwear == "none" and keep(0.3):
        head = " and " + pick(BALD_WORDS)
        named.update(headwear="none", hair="none")
    acc = ""
    present = [a for a in spec.accessories if keep(0.7)]
    if present:
        bits = []
        for a in present:
            w = pick(ACC_WORDS[a])
            bits.append(w if a == "boots" else _article(" ".join(
                (color(spec.accessory_color) if a in ("cape", "backpack") else []) + [w])))
        acc = ", with " + " and ".join(bits)
        named["accessories"] = tuple(sorted(set(present) | set(named.get("accessories", ()))))
        if colors and any(a in ("cape", "backpack") for a in present):
            named["accessory_color"] = spec.accessory_color
    return {"a_subj": _article(subj), "subj_bare": subj, "upper": upper, "upper_cap": upper[0].upper() + upper[1:],
            "lower": lower, "head": head, "acc": acc}


def caption(spec: AvatarSpec, rng: random.Random, group: str = "train", full: bool = False,
            colors: bool = True, named: dict | None = None, call: str | None = None) -> str:
    """A caption of ``spec`` from the template group ``group`` (``colors=False``: no colour words).

    ``named``, if given, receives the attributes the caption names (see :func:`phrases`); a
    template that leaves out a slot (some have no ``{acc}``) leaves its entry out too. ``call``: see
    :func:`phrases`.
    """
    tpl = rng.choice(TEMPLATES[group])
    pieces: dict = {}
    text = tpl.format(**phrases(spec, rng, full=full, colors=colors, named=pieces, group=group, call=call))
    if named is not None:
        slots = set(re.findall(r"{(\w+)}", tpl))
        drop = {"acc": ("accessories", "accessory_color"), "lower": ("lower", "lower_color", "lower_pattern"),
                "head": ("headwear", "headwear_color", "hair", "hair_color")}
        implied = set(pieces.get("implied", ()))
        named.update({k: v for k, v in pieces.items() if k in implied
                      or not any(k in keys and slot not in slots for slot, keys in drop.items())})
    return re.sub(r"\s+", " ", text).strip()


def contradicting_caption(spec: AvatarSpec, rng: random.Random, group: str = "train",
                          named: dict | None = None) -> str | None:
    """A caption that calls an avatar without an archetype by an archetype's word whose outfit it contradicts:
    "a knight in a red tunic and blue jeans". What users mean by it is the garments they name on a knight's
    body, not a helmet and a cape they did not ask for: the caption names what it says and nothing more, so
    the generator's targets (``nerf.generator.named_targets``) make the rest neutral (no headwear, no
    accessories). The archetype is one whose upper garment differs from ``spec``'s, whose word names no other
    gender, and that fixes no body (a robot's metal skin). None for an avatar that has an archetype."""
    if spec.archetype:
        return None
    choices = sorted(a for a, fixed in ARCHETYPES.items() if a in ARCHETYPE_WORDS and fixed.get("upper") != spec.upper
                     and ARCHETYPE_GENDER.get(a, spec.gender) == spec.gender and "skin" not in fixed)
    return caption(spec, rng, group, named=named, call=rng.choice(choices)) if choices else None


def short_caption(spec: AvatarSpec, rng: random.Random, colors: bool = True, named: dict | None = None,
                  group: str = "train") -> str:
    """A terse prompt of the kind users type: the subject alone ("a knight", "a stout wizard"),
    or with its upper garment ("a tall person in a red shirt"). Every corpus caption names the
    upper garment and most name more, so without these a bare "a knight" lay outside what the
    generator was trained on (it drew a child: the one subject the grammar never gives a height)."""
    pieces: dict = {}
    p = phrases(spec, rng, colors=colors, named=pieces, group=group)
    bare = rng.random() < 0.5
    if named is not None:
        implied = set(pieces.get("implied", ()))
        body = {"subject", "age", "height", "build", "elder", "implied"}
        named.update({k: v for k, v in pieces.items() if k in implied or k in body or (not bare and (
            k == "upper" or k == "upper_pattern" or k == "upper_color"))})
    return p["a_subj"] if bare else f"{p['a_subj']} in {p['upper']}"


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
