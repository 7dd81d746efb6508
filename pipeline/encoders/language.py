"""Which text tower reads a prompt: the English words the embedded models learned, and a prompt's language.

``model.text_tower = auto`` reads a prompt in English with the MiniLM tower the embedded models were trained
with, and any other with the multilingual e5 tower (:mod:`pipeline.encoders.multilingual`). A prompt counts as
English when it is in Latin letters without accents and at least half of its words are English words the
grammar knows (:func:`grammar_words`, the function words, the texturer's garment and material words): typos and
words outside the grammar keep an English prompt English, while "una mujer alta con camisa roja" or
"ein großer Mann mit rotem Hemd" have almost none.
"""
from __future__ import annotations

import re
from functools import lru_cache

TEXT_TOWERS = ("auto", "minilm", "e5")
"""The values of ``model.text_tower``."""
ENGLISH_SHARE = 0.5
"""Least share of known English words for a prompt to be read as English."""

_LATIN_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def words_of(*groups) -> set[str]:
    """The lower-case words of every phrase in ``groups`` (dicts of phrase lists, lists, tuples)."""
    out: set[str] = set()
    for g in groups:
        items = g.values() if isinstance(g, dict) else g
        for it in items:
            for phrase in (it if isinstance(it, (tuple, list)) else (it,)):
                out.update(re.findall(r"[a-z0-9]+(?:-[a-z]+)*", str(phrase).lower()))
    return out


@lru_cache(maxsize=1)
def grammar_words() -> frozenset[str]:
    """Every word the embedded models learned from the caption grammar (the negations left out: the grammar
    says "no hair", but a negation is still reported as one)."""
    from nerf.synthetic import vocabulary as V
    from nerf.synthetic.avatar_spec import ARCHETYPES, COLORS, HAIR_COLORS
    from nerf.synthetic.captions import TEMPLATES

    templates = [re.sub(r"{\w+}", " ", t) for t in TEMPLATES["train"]]  # what the embedded models read
    return frozenset(words_of(
        V.UPPER_WORDS, V.LOWER_WORDS, V.HEAD_WORDS, V.PATTERN_WORDS, V.HEIGHT_WORDS, V.BUILD_WORDS, V.ACC_WORDS,
        V.SUBJECTS, V.CHILD_SUBJECTS, V.CLAUSE_JOINERS, V.STOP_WORDS, V.COMBO_WORDS, V.ADULT_ADJECTIVES,
        V.ELDER_WORDS, V.GENDER_ADJECTIVES, V.SUIT_WORDS, V.BALD_WORDS, V.HAIR_WORDS, V.ARCHETYPE_WORDS,
        {c: syns for c, (_, syns) in COLORS.items()}, list(COLORS), list(HAIR_COLORS), list(ARCHETYPES), templates,
        ("hair", "bald", "head", "long", "short", "blonde", "bald-headed")) - set(V.NEGATIONS))


@lru_cache(maxsize=1)
def texturer_words() -> frozenset[str]:
    """Garment and material words the texturer reads (the shape generator may not)."""
    from nerf.synthetic import vocabulary as V
    from texture.library.swatches import MATERIAL_WORDS

    return frozenset(set(V.GARMENT_REGIONS) | words_of(MATERIAL_WORDS, list(MATERIAL_WORDS)))


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Words that mark a prompt as English: the grammar's, the function words, the texturer's and the words
    the understood-report explains (parts no human has, creatures, held objects, negations, gender words)."""
    from nerf.body.phenotypes import FEMALE_WORDS, MALE_WORDS
    from nerf.synthetic import vocabulary as V

    return frozenset(grammar_words() | texturer_words() | set(V.FUNCTION_WORDS) | set(V.NEGATIONS)
                     | words_of(V.NOT_HUMANOID, V.CREATURES, V.HELD_OBJECTS, FEMALE_WORDS, MALE_WORDS)
                     | {"make", "me", "please", "generate", "create", "render", "model", "i", "want", "my", "your"})


def looks_english(text: str) -> bool:
    """Whether ``text`` reads as English to the embedded models (see the module's docstring)."""
    words = [w.lower().replace("’", "'") for w in _LATIN_WORD.findall(text)]
    if not words:
        return True  # numbers and symbols only: nothing to tell
    known = english_words()
    hits = sum(1 for w in words if w.isascii() and (w in known or w.rstrip("s") in known or w.split("'")[0] in known))
    return hits >= ENGLISH_SHARE * len(words)


def tower_for(text: str, choice: str) -> str:
    """``minilm`` or ``e5``: the tower ``model.text_tower = choice`` reads ``text`` with."""
    if choice not in TEXT_TOWERS:
        raise ValueError(f"text_tower={choice!r}: one of {', '.join(TEXT_TOWERS)}")
    if choice != "auto":
        return choice
    return "minilm" if looks_english(text) else "e5"


@lru_cache(maxsize=1)
def _colour_lexicon() -> tuple[frozenset[str], tuple[str, ...]]:
    """(colour and material words between spaces, in English and the other grammar languages; Chinese and
    Japanese colour words, found anywhere in the text)."""
    from nerf.synthetic.avatar_spec import COLORS, HAIR_COLORS
    from nerf.synthetic.languages import colour_words
    from texture.library.swatches import MATERIAL_WORDS

    spaced = words_of({c: syns for c, (_, syns) in COLORS.items()}, list(COLORS), list(HAIR_COLORS),
                      MATERIAL_WORDS, [m for m in MATERIAL_WORDS if m != "solid"]) - {"solid", "plain"}
    other = colour_words()
    for lang in ("es", "pt", "fr", "de"):
        spaced |= {w.lower() for w in other[lang]}
    # the stems of declined German colours ("rotem" -> "rot") and plurals ("rojos", "azules")
    return frozenset(spaced), tuple(w.removesuffix("の").removesuffix("い") for lang in ("zh", "ja")
                                    for w in other[lang])


def names_colour(text: str) -> bool:
    """Whether ``text`` names a colour or a material, in English or another language of the grammar."""
    spaced, cjk = _colour_lexicon()
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if any(w in spaced or w.rstrip("s") in spaced or w.removesuffix("es") in spaced or w[:-2] in spaced
           for w in words):
        return True
    return any(w and w in text for w in cjk)
