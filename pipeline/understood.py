"""What a prompt was understood as: each attribute the shape generator decoded, with its confidence, and the
words it could not use, with the reason.

``generate`` prints it after its summary line and records it in the sidecar under ``understood``;
``avatarforge explain PROMPT`` prints it without generating. It is read from the generator's own heads
(``nerf.generator.ShapeGenerator.forward``), the same outputs ``decode`` commits to, so it says what the
avatar *starts* as; CLIP-guided refinement then moves colours by at most ``field.max_color_shift``.

Confidences are the heads' probabilities for what was decoded (the softmax of a class head, the sigmoid of an
accessory). Attributes read from the words themselves (gender, a garment's named material) have none: they
are ``named`` or ``implied``.

A word counts as *used* when the embedded models learned it (the caption grammar's words,
``nerf.synthetic.vocabulary``) or a rule reads it (gender words, the texturer's garments and materials). Every
other word is listed with why it says little or nothing: a part no human has, a creature, a held object, a
negation, a number, another script, or a word outside the vocabulary (with the nearest known word when it looks
like a typo).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import torch
from torch import Tensor

from nerf.artifacts import REGIONS
from nerf.synthetic import vocabulary as V
from nerf.synthetic.avatar_spec import (
    ACCESSORIES,
    AGES,
    BUILDS,
    COLORS,
    HAIR,
    HAIR_COLORS,
    HEIGHTS,
    PATTERNS,
    SKIN_TONES,
)
from pipeline.encoders.language import grammar_words, texturer_words

#: Names of the skin tones (``SKIN_TONES``, light to dark).
SKIN_NAMES = ("very light", "light", "medium", "brown", "dark")
def _palette_names() -> tuple[str, ...]:
    """Names of the palette entries (``nerf.generator.PALETTE``, same order): colours, skin tones, hair colours."""
    names: dict[tuple, str] = {}
    for name, (rgb, _) in COLORS.items():
        names.setdefault(rgb, name)
    for rgb, n in zip(SKIN_TONES, SKIN_NAMES):
        names.setdefault(rgb, f"{n} skin")
    for name, rgb in HAIR_COLORS.items():
        names.setdefault(rgb, name)
    return tuple(names.values())


PALETTE_NAMES = _palette_names()
_COLOR_WORDS = {w for name, (_, syns) in COLORS.items() for w in (name, *syns)}
R = {r: i for i, r in enumerate(REGIONS)}


@dataclass
class Attribute:
    """One decoded attribute."""

    attribute: str
    """height, build, age, gender, skin, upper, lower, headwear, hair, accessories, shoes."""
    value: str
    """What was decoded, in words ("1.92 m, tall", "red shirt", "boots, red cape")."""
    confidence: float | None = None
    """The head's probability for ``value`` (the least of its parts'), or None when read from the words."""
    source: str = "generator"
    """"generator" (its heads), "named" (a word of the prompt says it) or "implied" (what the words imply)."""
    details: dict = field(default_factory=dict)
    """The parts: garment, colour, pattern, material, each with its own probability."""

    def line(self) -> str:
        how = f"{self.confidence:.2f}" if self.confidence is not None else self.source
        return f"{self.attribute:<12}{self.value} ({how})"


@dataclass
class Unused:
    """A word or phrase of the prompt that the embedded models could not use."""

    word: str
    reason: str

    def line(self) -> str:
        return f"{self.word!r}: {self.reason}"


@dataclass
class Understood:
    """What the prompt was understood as (the sidecar's ``understood``)."""

    prompt: str
    attributes: list[Attribute] = field(default_factory=list)
    unused: list[Unused] = field(default_factory=list)
    note: str = ""
    """How it was read (which generator; or why there is none)."""

    def lines(self) -> list[str]:
        out = [f"understood ({self.note}):" if self.note else "understood:"]
        out += [f"  {a.line()}" for a in self.attributes]
        if self.unused:
            out.append("not used:")
            out += [f"  {u.line()}" for u in self.unused]
        return out

    def outfit_text(self) -> str:
        """The decoded garments in the grammar's English ("a red shirt and blue trousers, a black hat"): what the
        texturer ranks swatches for when the prompt is in another language; "" when nothing was decoded."""
        parts = []
        for a in self.attributes:
            d = a.details
            if a.attribute in ("upper", "lower", "headwear") and d.get("garment") not in (None, "none"):
                pat = {"stripes": "striped ", "plaid": "plaid ", "checks": "checked "}.get(d.get("pattern", ""), "")
                parts.append(f"{d.get('colour', '')} {pat}{d['garment']}".strip())
        return " and ".join(("a " if i != 1 else "") + p for i, p in enumerate(parts))

    def to_dict(self) -> dict:
        return {"note": self.note,
                "attributes": [{"attribute": a.attribute, "value": a.value, "confidence": a.confidence,
                                "source": a.source, **({"details": a.details} if a.details else {})}
                               for a in self.attributes],
                "unused": [{"word": u.word, "reason": u.reason} for u in self.unused],
                "lines": self.lines()}


# ------------------------------------------------------------------ decoded attributes
def _p(x: float) -> float:
    return round(float(x), 3)


def _class(out: dict[str, Tensor], head: str, names) -> tuple[str, float]:
    p = out[head][0].softmax(-1)
    i = int(p.argmax())
    return names[i], _p(p[i])


def _color(out: dict[str, Tensor], region: str, params) -> tuple[str, float]:
    """The colour ``params`` has in ``region`` (its nearest palette entry, so the report says what was decoded,
    however ``decode`` chose it) and the head's probability for it."""
    from nerf.generator import PALETTE

    p = out["color_logits"][0, R[region]].softmax(-1)
    rgb = params.colors[R[region]].detach().float().cpu()
    i = int(((torch.tensor(PALETTE) - rgb[None]) ** 2).sum(-1).argmin())
    return PALETTE_NAMES[i], _p(p[i])


def _garment(out, params, region: str, head: str, phrases: dict) -> Attribute:
    """One garment: its kind, colour, pattern and material."""
    kind = getattr(params.layout, head)
    p_kind = _p(out[head][0].softmax(-1).max())
    color, p_color = _color(out, region, params)
    d = {"garment": kind, "garment_p": p_kind, "colour": color, "colour_p": p_color}
    mat, mat_src = None, None
    ph = phrases.get({"upper": "upper", "lower": "lower", "headwear": "head"}[region])
    if ph is not None and ph.material:  # a modifier that is not a colour names it; else the garment implies it
        mat, mat_src = ph.material, "named" if set(ph.words) - _COLOR_WORDS else "implied"
    if region in ("upper", "lower"):
        pat, p_pat = _class(out, f"{region}_pattern", PATTERNS)
        d.update(pattern=pat, pattern_p=p_pat)
        if mat is None and pat != "solid":
            mat, mat_src = pat, "generator"
    if mat is None and params.layout.metal[R[region]]:
        mat, mat_src = "metal", "implied"
    d.update(material=mat or "plain", material_source=mat_src or "default")
    value = f"{color} {kind}, {mat or 'plain'}"
    return Attribute(region, value, min(p_kind, p_color), details=d)


def decoded_attributes(prompt: str, out: dict[str, Tensor], params, height_m: float, gender: float,
                       stated: tuple[float, str] | None = None) -> list[Attribute]:
    """The attributes of row 0 of a generator forward pass ``out`` and its decoded ``params``
    (``ShapeGenerator.decode``); ``height_m`` is the standing height the body is fitted to, ``stated`` the
    height the prompt gives in numbers and its words (``nerf.synthetic.measures.stated_height``)."""
    from texture.library.regions import parse_regions

    phrases = parse_regions(prompt)
    lay = params.layout
    height, p_height = _class(out, "height", HEIGHTS)
    build, p_build = _class(out, "build", BUILDS)
    p_age = out["age"][0].softmax(-1)
    child = float(params.shape[2]) > 1.15  # decode commits to a child's head (1.3) only when sure
    age = "child" if child else "adult"
    if stated is not None:
        h_attr = Attribute("height", f"{height_m:.2f} m, stated as {stated[1]!r}", source="named")
    else:
        h_attr = Attribute("height", f"{height_m:.2f} m, {'child' if child else height}",
                           p_height if not child else None, "generator" if not child else "implied")
    attrs = [h_attr,
             Attribute("build", build, p_build),
             Attribute("age", age, _p(p_age[AGES.index(age)])),
             Attribute("gender", {0.0: "man", 1.0: "woman"}.get(gender, "unspecified (in between)"),
                       source="named" if gender in (0.0, 1.0) else "default")]
    skin, p_skin = _color(out, "skin", params)
    attrs.append(Attribute("skin", "metal" if lay.metal_skin else skin.replace(" skin", ""), p_skin))
    attrs.append(_garment(out, params, "upper", "upper", phrases))
    if lay.upper in ("robe", "dress"):  # nerf.synthetic.avatar_spec.covers_legs
        attrs.append(Attribute("lower", f"covered by the {lay.upper}", source="implied"))
    else:
        attrs.append(_garment(out, params, "lower", "lower", phrases))
    if lay.headwear == "none":
        attrs.append(Attribute("headwear", "none", _p(out["headwear"][0].softmax(-1)[0])))
    else:
        attrs.append(_garment(out, params, "headwear", "headwear", phrases))
    hair = lay.hair
    p_hair = _p(out["hair"][0].softmax(-1)[HAIR.index(hair)]) if hair in HAIR else None
    if hair not in HAIR:  # a style named in words (nerf.synthetic.hair_styles)
        hc, p_hc = _color(out, "hair", params)
        attrs.append(Attribute("hair", f"{hair} {hc}", p_hc, "named",
                               details={"style": hair, "style_p": None, "colour": hc, "colour_p": p_hc}))
    elif hair == "none":
        attrs.append(Attribute("hair", "none (bald)", p_hair))
    else:
        hc, p_hc = _color(out, "hair", params)
        attrs.append(Attribute("hair", f"{hair} {hc}", min(p_hair, p_hc),
                               details={"style": hair, "style_p": p_hair, "colour": hc, "colour_p": p_hc}))
    acc_p = out["accessories"][0].sigmoid()
    present = [a for a in ACCESSORIES if a in lay.accessories]
    if present:
        ac, p_ac = _color(out, "accessory", params)
        words = [f"{ac} {a}" if a in ("cape", "backpack") else a for a in present]
        conf = min(_p(acc_p[ACCESSORIES.index(a)]) for a in present)
        attrs.append(Attribute("accessories", ", ".join(words), conf,
                               details={a: _p(acc_p[ACCESSORIES.index(a)]) for a in present}))
    else:
        attrs.append(Attribute("accessories", "none", _p(min(1 - acc_p).item())))
    shoes, p_shoes = _color(out, "shoes", params)
    attrs.append(Attribute("shoes", shoes, p_shoes))
    return attrs


# ------------------------------------------------------------------ words not used
_TOKEN = re.compile(r"(?P<num>\d+(?:[.,]\d+)?\s*(?:cm|mm|m|metres?|meters?|ft|feet|foot|inch(?:es)?|in|yo|"
                    r"years?|y|['\"′″’”])?(?:\s*\d+\s*['\"′″’”]?)?(?![a-zA-Z]))"
                    r"|(?P<word>[a-zA-Z0-9]*[a-zA-Z][a-zA-Z0-9'’-]*)"
                    r"|(?P<other>[^\W\d_]+)")


def _nearest(word: str, known: list[str]) -> str | None:
    """The known word ``word`` is most likely a typo of: two swapped neighbours first ("shrit" -> "shirt"),
    else the closest spelling (difflib ratio >= 0.8)."""
    for i in range(len(word) - 1):
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if swapped != word and swapped in known:
            return swapped
    near = difflib.get_close_matches(word, known, n=1, cutoff=0.8)
    return near[0] if near else None


def unused_words(prompt: str, unknown_tokens: list[str] | None = None, read: tuple[str, ...] = (),
                 tower: str = "minilm") -> list[Unused]:
    """The words and phrases of ``prompt`` the embedded models cannot use, each with the reason (once each);
    ``read`` are phrases a rule reads (a stated height), left out. With ``tower`` = "e5" (the multilingual
    tower read the prompt) words outside the English grammar and other scripts are not reported: e5 reads
    them; the parts no human has, creatures, held objects and negations still are."""
    for phrase in read:
        prompt = prompt.replace(phrase, " ")
    from nerf.body.phenotypes import FEMALE_WORDS, MALE_WORDS, gender_of

    grammar, texturer = grammar_words(), texturer_words()
    gender = set(FEMALE_WORDS) | set(MALE_WORDS)
    out: dict[str, str] = {}
    for m in _TOKEN.finditer(prompt):
        if m.group("num"):
            out.setdefault(m.group("num").strip(), "a number that is no height between 0.6 and 2.6 m (heights "
                                                   "such as '2 m', '180 cm' or 5'4\" are read); sizes in "
                                                   "numbers are not: say tall, short, thin or stout")
            continue
        if m.group("other"):
            if tower == "e5":
                continue
            run = m.group("other")
            read = " except the body's gender, which it names" if gender_of(run) != 0.5 else ""
            out.setdefault(run, f"not English: the MiniLM text tower learned English captions only, so this "
                                f"says little{read}; model.text_tower=auto reads it with the multilingual e5 tower")
            continue
        w = m.group("word").lower().replace("’", "'").strip("'-")
        if w.endswith("'s"):
            w = w[:-2]
        if not w or w in grammar or w in V.FUNCTION_WORDS:
            continue
        if w in texturer:
            region = V.GARMENT_REGIONS.get(w)
            what = f"the {region} garment's colour and material" if region else "the garments' material"
            out.setdefault(w, f"read by the texturer only ({what}); the shape generator never learned it")
        elif w in gender:
            out.setdefault(w, "read for the body's gender only; the shape generator never learned it")
        elif w in V.NOT_HUMANOID:
            out.setdefault(w, "not a humanoid part; ignored")
        elif w in V.CREATURES:
            out.setdefault(w, "avatarforge builds humans only; ignored (the avatar is a person)")
        elif w in V.HELD_OBJECTS:
            out.setdefault(w, "a held object or prop: not built")
        elif w in V.NEGATIONS:
            out.setdefault(w, "negation is not read ('no hat' reads like 'hat'); name what the avatar wears")
        elif tower != "e5":
            near = _nearest(w, sorted(grammar | texturer))
            hint = f"; did you mean {near!r}?" if near else \
                "; use words it knows (garments, colours, tall, short, thin, stout) or bring an open_clip model"
            out.setdefault(w, "not a word the embedded models learned: it says little" + hint)
    for t in unknown_tokens or []:  # emoji, symbols (the characters of a reported run are not repeated)
        if not any(t in w for w in out):
            out.setdefault(t, "the text encoder has no token for it: it says nothing")
    return [Unused(w, r) for w, r in out.items()]


def understand(prompt: str, heads: dict[str, Tensor] | None, params, generator: str,
               unknown_tokens: list[str] | None = None, stated: tuple[float, str] | None = None,
               tower: str = "minilm", hair_style: tuple[str, str] | None = None) -> Understood:
    """The report for ``prompt``: ``heads`` is the generator's forward pass on its code (None when there is no
    trained generator for the CLIP model in use), ``params`` what it decoded. The height is the one the anny
    body is fitted to (``nerf.body.phenotypes.target_height``); ``stated`` a height and ``hair_style`` a hair
    style the prompt names in words, read by rules (their words are not reported unused)."""
    from nerf.body.phenotypes import gender_of, target_height

    if heads is None:
        return Understood(prompt, [], [Unused(t, "the text encoder has no token for it: it says nothing")
                                       for t in dict.fromkeys(unknown_tokens or [])],
                          note=f"no trained generator for this CLIP model ({generator}): the avatar starts from "
                               "the neutral template and CLIP guidance reads the whole prompt")
    gender = gender_of(prompt)
    with torch.no_grad():
        attrs = decoded_attributes(prompt, heads, params, target_height(params.clamped_shape(), gender), gender,
                                   stated)
    read_by = ("; read by the multilingual e5 text tower, which takes the words of any language together, so "
               "they are not checked one by one") if tower == "e5" else ""
    read = tuple(x[1] for x in (stated, hair_style) if x)
    return Understood(prompt, attrs, unused_words(prompt, unknown_tokens, read, tower),
                      note=f"{generator}, before refinement{read_by}")


__all__ = ["Understood", "Attribute", "Unused", "understand", "unused_words", "PALETTE_NAMES"]
