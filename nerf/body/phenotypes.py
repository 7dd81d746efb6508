"""From what the generator predicts (and the prompt says) to anny's body parameters, in realistic ranges.

The shape generator predicts five numbers (``nerf.template.SHAPE_NAMES``: height in metres, girth, head
scale, shoulder scale, leg ratio); :func:`body_parameters` turns them into anny phenotypes and local
changes: the height is fitted in metres (anny's ``height`` phenotype spans 1.36-2.45 m for an adult man,
so words must not map to its extremes), girth becomes ``weight``, a child's big head and short legs
become ``age``, and what is left of head, shoulders and legs becomes local changes. An "average adult"
is a 25-year-old (age 2/3), not all-0.5 (a 1.63 m adolescent).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

#: Words that say the body is a woman's (1) or a man's (0); anything else is in between (0.5).
FEMALE_WORDS = ("woman", "women", "female", "girl", "lady", "ladies", "queen", "princess", "mother", "mum",
                "mom", "she", "her", "actress", "businesswoman", "witch", "sorceress", "priestess", "empress",
                "heroine", "wife", "daughter", "sister", "grandmother", "nun", "ballerina", "waitress")
MALE_WORDS = ("man", "men", "male", "boy", "gentleman", "king", "prince", "father", "dad", "he", "his",
              "actor", "businessman", "wizard", "sorcerer", "priest", "emperor", "hero", "husband", "son",
              "brother", "grandfather", "monk", "waiter", "guy", "lord", "sir", "viking", "samurai")
#: The same in Spanish, Portuguese, French and German (what the multilingual text tower reads).
FEMALE_WORDS_INTL = ("mujer", "chica", "niña", "señora", "dama", "reina", "princesa", "ella", "abuela", "enfermera",
                     "mulher", "menina", "moça", "garota", "senhora", "rainha", "avó", "femme", "fille", "reine",
                     "dame", "grand-mère", "infirmière", "frau", "mädchen", "königin", "prinzessin", "oma",
                     "krankenschwester")
MALE_WORDS_INTL = ("hombre", "chico", "niño", "señor", "rey", "príncipe", "abuelo", "homem", "menino", "rapaz",
                   "garoto", "senhor", "rei", "avô", "homme", "monsieur", "garçon", "roi", "prince", "grand-père",
                   "mann", "junge", "könig", "prinz", "opa", "herr")
_CJK_FEMALE, _CJK_MALE = "女妇娘姐妹婆后", "男夫爷哥弟公王"


def gender_of(prompt: str) -> float:
    """anny's ``gender`` for ``prompt``: 1.0 when it names a woman, 0.0 a man, 0.5 when it names neither
    (or both)."""
    words = set(re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", prompt.lower()))
    words |= {p for w in words for p in w.split("-")}
    f = bool(words & set(FEMALE_WORDS + FEMALE_WORDS_INTL)) or any(c in prompt for c in _CJK_FEMALE)
    m = bool(words & set(MALE_WORDS + MALE_WORDS_INTL)) or any(c in prompt for c in _CJK_MALE) or "少年" in prompt
    return 1.0 if f and not m else 0.0 if m and not f else 0.5


@dataclass
class BodyParameters:
    """anny's inputs for one avatar (``nerf.body.BodyModel.forward``)."""

    phenotypes: dict[str, float] = field(default_factory=dict)
    """gender, age, muscle, weight, height, proportions in [0, 1]."""
    local_changes: dict[str, float] = field(default_factory=dict)
    """Named local changes in [-1, 1] (``nerf.body.LOCAL_CHANGES``)."""
    height_m: float = 0.0
    """The standing height the phenotypes were fitted to."""


def _clamp(x: float, lo: float, hi: float) -> float:
    return float(min(max(x, lo), hi))


def _child(head: float) -> float:
    """How much of a child the generator's head scale says (its child: head 1.3, legs 0.45), in [0, 1]."""
    return _clamp((head - 1.0) / 0.3, 0.0, 1.0)


def _height_factor(shape, gender: float) -> float:
    """Standing height over the template height: women are ~7% shorter than men for the same words (children
    are not)."""
    head = float(torch.as_tensor(shape).detach().cpu().reshape(-1)[2])
    return 1.0 - 0.07 * _clamp(gender, 0, 1) * (1.0 - _child(head))


def target_height(shape, gender: float) -> float:
    """The standing height in metres :func:`body_parameters` fits for template ``shape`` and ``gender``."""
    return float(torch.as_tensor(shape).detach().cpu().reshape(-1)[0]) * _height_factor(shape, gender)


def with_height(shape, height_m: float, gender: float):
    """``shape`` (Float[5]) changed so that :func:`target_height` is ``height_m`` (a height the prompt states)."""
    shape = torch.as_tensor(shape).detach().clone()
    shape[0] = height_m / _height_factor(shape, gender)
    return shape


def body_parameters(shape, gender: float, model, fit_steps: int = 6) -> BodyParameters:
    """Phenotypes and local changes for template ``shape`` (Float[5]: height m, girth, head, shoulders, legs)
    and ``gender`` (0 man ... 1 woman), the height fitted with ``model`` (a ``BodyModel``) to within ~5 mm."""
    h, girth, head, shoulders, legs = (float(x) for x in torch.as_tensor(shape).detach().cpu().reshape(-1)[:5])
    child = _child(head)
    age = 2 / 3 - child * (2 / 3 - 0.3)
    weight = 0.5 + (girth - 1.0) * (1.6 if girth < 1.0 else 1.0)
    muscle = 0.5 + _clamp((shoulders - 1.0) * 3.0, 0.0, 0.3)
    ph = {"gender": _clamp(gender, 0, 1), "age": age, "muscle": _clamp(muscle, 0, 1),
          "weight": _clamp(weight, 0.02, 0.98), "proportions": 0.5}
    lc = {"measure-shoulder-dist-incr": _clamp((shoulders - 1.0) * 3.0, -1, 1),
          "upperlegs-height-incr": _clamp((legs - (0.5 - 0.05 * child)) * 10.0, -1, 1),
          "head-scale-vert-incr": _clamp((head - (1.0 + 0.3 * child)) * 2.0, -1, 1),
          "head-scale-horiz-incr": _clamp((head - (1.0 + 0.3 * child)) * 2.0, -1, 1)}
    lc = {k: v for k, v in lc.items() if abs(v) > 1e-3}
    target = target_height(shape, gender)
    ph["height"] = fit_height(model, ph, lc, target, fit_steps)
    return BodyParameters(ph, lc, target)


@torch.no_grad()
def standing_height(model, phenotypes: dict, local_changes: dict) -> float:
    return float(model.forward(phenotypes, local_changes, rest_pose="a").vertices[:, 1].max())


def fit_height(model, phenotypes: dict, local_changes: dict, target_m: float, steps: int = 6) -> float:
    """The ``height`` phenotype in [0, 1] whose body stands ``target_m`` tall (secant steps on anny's
    monotone height; the nearest end when the target is out of its range)."""
    def height_at(p: float) -> float:
        return standing_height(model, {**phenotypes, "height": p}, local_changes)

    lo, hi = 0.0, 1.0
    h_lo, h_hi = height_at(lo), height_at(hi)
    if target_m <= h_lo:
        return lo
    if target_m >= h_hi:
        return hi
    for _ in range(steps):  # regula falsi, Illinois variant: converges in a few steps on a smooth curve
        p = lo + (target_m - h_lo) * (hi - lo) / (h_hi - h_lo)
        hp = height_at(p)
        if abs(hp - target_m) < 0.002:
            return p
        if hp < target_m:
            lo, h_lo = p, hp
        else:
            hi, h_hi = p, hp
    return lo + (target_m - h_lo) * (hi - lo) / (h_hi - h_lo)
