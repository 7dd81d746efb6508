"""Heights stated in numbers: "2 m tall", "a 180 cm woman", "5'4\"", "6 ft 2", "five foot ten".

The embedded models learned words (tall, short), not numbers; a height the prompt states is read by this
rule instead and the body is fitted to it (``pipeline.generate.AvatarForge.amortised_template``). Only
plausible human heights count (:data:`MIN_M` to :data:`MAX_M`); "2 swords" or "a 3d model" are no height.
"""
from __future__ import annotations

import re

MIN_M, MAX_M = 0.6, 2.6
"""Heights outside this range (metres) are not read as the avatar's height."""

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_NUM = r"(\d+(?:[.,]\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
_FEET = r"(?:feet|foot|ft\.?|'|′|’)"
_INCH = r"(?:inches|inch|in\.?|\"|″|”|'')"
_PATTERNS = (
    ("ft_in", re.compile(_NUM + r"\s*" + _FEET + r"\s*(?:and\s*)?" + _NUM + r"\s*" + _INCH + r"?(?![\w.])", re.I)),
    ("ft", re.compile(_NUM + r"\s*" + _FEET + r"(?![\w'’′])", re.I)),
    ("cm", re.compile(_NUM + r"\s*(?:cm|centimet(?:re|er)s?)\b", re.I)),
    ("m", re.compile(_NUM + r"\s*(?:m|met(?:re|er)s?)\b(?!\s*(?:wide|long|away))", re.I)),
)


def _value(text: str) -> float:
    t = text.lower()
    return float(_NUMBER_WORDS[t]) if t in _NUMBER_WORDS else float(t.replace(",", "."))


def stated_height(prompt: str) -> tuple[float, str] | None:
    """(height in metres, the words that state it) for the first plausible height ``prompt`` states, or None."""
    for kind, pat in _PATTERNS:
        for m in pat.finditer(prompt):
            if kind == "ft_in":
                h = _value(m.group(1)) * 0.3048 + _value(m.group(2)) * 0.0254
            elif kind == "ft":
                h = _value(m.group(1)) * 0.3048
            elif kind == "cm":
                h = _value(m.group(1)) / 100
            else:
                h = _value(m.group(1))
            if MIN_M <= h <= MAX_M:
                return round(h, 4), m.group(0).strip()
    return None


__all__ = ["stated_height", "MIN_M", "MAX_M"]
