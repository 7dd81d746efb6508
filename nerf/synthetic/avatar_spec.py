"""AvatarSpec: the attribute description of a humanoid avatar.

The same attribute space drives the synthetic corpus (``scripts/make_corpus.py``),
the captions the embedded CLIP model learns from (``nerf.synthetic.captions``), the
parameters the amortised generator regresses, and the region vocabulary the
texturer uses. Colours are named; each name has synonyms used only in captions.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

# name -> (sRGB in [0,1], synonyms used in captions)
COLORS: dict[str, tuple[tuple[float, float, float], tuple[str, ...]]] = {
    "red": ((0.80, 0.10, 0.10), ("red", "crimson", "scarlet", "cherry red", "ruby", "bright red", "blood red",
                                 "fire-engine red")),
    "orange": ((0.95, 0.50, 0.08), ("orange", "tangerine", "amber", "bright orange", "pumpkin", "burnt orange")),
    "yellow": ((0.95, 0.85, 0.15), ("yellow", "golden yellow", "lemon", "mustard", "canary yellow", "bright yellow",
                                    "sunflower yellow")),
    "green": ((0.12, 0.62, 0.18), ("green", "emerald", "leaf green", "olive", "lime green", "forest green",
                                   "kelly green", "grass green")),
    "blue": ((0.12, 0.25, 0.85), ("blue", "cobalt", "royal blue", "navy", "navy blue", "sky blue", "azure",
                                  "dark blue", "light blue", "denim blue")),
    "purple": ((0.52, 0.16, 0.70), ("purple", "violet", "lilac", "lavender", "plum", "mauve", "deep purple")),
    "pink": ((0.96, 0.52, 0.72), ("pink", "rose", "bubblegum pink", "magenta", "fuchsia", "hot pink", "salmon pink")),
    "brown": ((0.45, 0.28, 0.12), ("brown", "chocolate", "tan", "khaki", "beige", "camel", "coffee brown",
                                   "dark brown")),
    "black": ((0.07, 0.07, 0.08), ("black", "jet black", "ebony", "pitch black", "inky black", "coal black")),
    "white": ((0.94, 0.94, 0.92), ("white", "snow white", "ivory", "cream", "off-white", "pure white",
                                   "pearl white")),
    "grey": ((0.50, 0.50, 0.52), ("grey", "gray", "ash grey", "charcoal", "dark grey", "light grey", "slate grey",
                                  "dove grey")),
    "teal": ((0.05, 0.55, 0.55), ("teal", "turquoise", "cyan", "aqua", "aquamarine", "sea green")),
    "silver": ((0.78, 0.79, 0.82), ("silver", "steel", "metallic", "chrome", "silvery")),
    "gold": ((0.85, 0.65, 0.15), ("gold", "golden", "gilded", "gold-plated", "brass")),
}
#: Colours a garment may take (silver/gold are reserved for metal pieces).
GARMENT_COLORS: tuple[str, ...] = tuple(c for c in COLORS if c not in ("silver", "gold"))

SKIN_TONES: tuple[tuple[float, float, float], ...] = (
    (0.96, 0.80, 0.69), (0.89, 0.67, 0.53), (0.76, 0.54, 0.38), (0.55, 0.37, 0.24), (0.36, 0.23, 0.15),
)
HAIR_COLORS: dict[str, tuple[float, float, float]] = {
    "black": (0.06, 0.05, 0.05), "brown": (0.35, 0.20, 0.10), "blond": (0.90, 0.78, 0.45),
    "red": (0.70, 0.25, 0.10), "grey": (0.65, 0.65, 0.65), "white": (0.95, 0.95, 0.95),
}

UPPER: tuple[str, ...] = ("shirt", "jacket", "robe", "dress", "armour")
LOWER: tuple[str, ...] = ("trousers", "skirt", "shorts")
HEADWEAR: tuple[str, ...] = ("none", "hat", "helmet", "crown", "hood")
HAIR: tuple[str, ...] = ("none", "short", "long")
ACCESSORIES: tuple[str, ...] = ("cape", "backpack", "belt", "boots")
PATTERNS: tuple[str, ...] = ("solid", "stripes", "plaid", "checks")
HEIGHTS: tuple[str, ...] = ("short", "average", "tall")
BUILDS: tuple[str, ...] = ("thin", "average", "stout")
AGES: tuple[str, ...] = ("adult", "child")

#: Height in metres of each height class (adults); children are scaled separately.
HEIGHT_M = {"short": 1.55, "average": 1.72, "tall": 1.92}
CHILD_HEIGHT_M = 1.2
#: Girth multiplier of each build class.
BUILD_W = {"thin": 0.75, "average": 1.0, "stout": 1.4}

# archetype -> attribute overrides (colours by name, garments, headwear, accessories)
ARCHETYPES: dict[str, dict] = {
    "knight": dict(upper="armour", upper_color="silver", lower="trousers", lower_color="grey",
                   headwear="helmet", headwear_color="silver", accessories=("cape", "boots")),
    "wizard": dict(upper="robe", upper_color="purple", headwear="hat", headwear_color="purple",
                   hair="long", hair_color="white"),
    "astronaut": dict(upper="jacket", upper_color="white", lower="trousers", lower_color="white",
                      headwear="helmet", headwear_color="white", accessories=("backpack", "boots")),
    "robot": dict(upper="armour", upper_color="grey", lower="trousers", lower_color="grey",
                  headwear="helmet", headwear_color="grey", skin="metal", hair="none"),
    "pirate": dict(upper="shirt", upper_color="white", lower="trousers", lower_color="black",
                   headwear="hat", headwear_color="black", accessories=("belt", "boots")),
    "ninja": dict(upper="jacket", upper_color="black", lower="trousers", lower_color="black",
                  headwear="hood", headwear_color="black", hair="none"),
    "chef": dict(upper="jacket", upper_color="white", lower="trousers", lower_color="black",
                 headwear="hat", headwear_color="white"),
    "doctor": dict(upper="robe", upper_color="white", lower="trousers", lower_color="blue",
                   headwear="none"),
    "king": dict(upper="robe", upper_color="red", headwear="crown", headwear_color="gold",
                 accessories=("cape",)),
    "soldier": dict(upper="jacket", upper_color="green", lower="trousers", lower_color="green",
                    headwear="helmet", headwear_color="green", accessories=("boots", "backpack")),
    # A list is a choice: ``apply_archetype`` draws one of its values; "same" repeats the upper colour (a suit).
    "businessman": dict(upper="jacket", upper_color=["black", "grey", "blue", "brown"], lower="trousers",
                        lower_color="same", headwear="none", hair="short"),
    "businesswoman": dict(upper="jacket", upper_color=["black", "grey", "blue", "white"],
                          lower=["trousers", "skirt"], lower_color="same", headwear="none"),
    "office worker": dict(upper="shirt", upper_color=["white", "blue", "grey"], lower="trousers",
                          lower_color=["black", "grey", "brown"], headwear="none"),
    "nurse": dict(upper="shirt", upper_color=["blue", "teal", "white", "green"], lower="trousers",
                  lower_color="same", headwear="none"),
    "police officer": dict(upper="jacket", upper_color=["blue", "black"], lower="trousers", lower_color="same",
                           headwear="hat", headwear_color="same", accessories=("belt", "boots")),
    "firefighter": dict(upper="jacket", upper_color=["yellow", "red", "black"], lower="trousers",
                        lower_color="same", headwear="helmet", headwear_color=["red", "yellow"],
                        accessories=("boots",)),
    "samurai": dict(upper="armour", upper_color=["black", "red"], lower="trousers", lower_color="black",
                    headwear="helmet", headwear_color="same", hair="long"),
    "cowboy": dict(upper="shirt", upper_color=["brown", "red", "blue", "white"], lower="trousers",
                   lower_color=["blue", "brown"], headwear="hat", headwear_color="brown",
                   accessories=("belt", "boots")),
    "viking": dict(upper="jacket", upper_color="brown", lower="trousers", lower_color="brown",
                   headwear="helmet", headwear_color=["grey", "silver"], hair="long",
                   accessories=("cape", "boots")),
    "farmer": dict(upper="shirt", upper_color=["red", "blue", "green"], upper_pattern="plaid", lower="trousers",
                   lower_color="blue", headwear="hat", headwear_color=["yellow", "brown"], accessories=("boots",)),
    "student": dict(upper="shirt", lower=["trousers", "skirt"], headwear="none", accessories=("backpack",)),
    "athlete": dict(upper="shirt", upper_color=["red", "blue", "white", "black", "green", "yellow"],
                    lower="shorts", lower_color=["black", "blue", "white"], headwear="none"),
    "dancer": dict(upper="dress", upper_color=["pink", "red", "white", "black", "purple"], headwear="none",
                   hair="long"),
    "queen": dict(upper="dress", upper_color=["red", "purple", "blue"], headwear="crown", headwear_color="gold",
                  hair="long", accessories=("cape",)),
    "princess": dict(upper="dress", upper_color=["pink", "blue", "white", "purple"], headwear="crown",
                     headwear_color="gold", hair="long"),
    "monk": dict(upper="robe", upper_color=["brown", "orange", "grey"], headwear="none", hair="none"),
    "scientist": dict(upper="jacket", upper_color="white", lower="trousers", lower_color=["black", "blue", "grey"],
                      headwear="none"),
    "sailor": dict(upper="shirt", upper_color="white", upper_pattern="stripes", lower="trousers",
                   lower_color=["white", "blue"], headwear="hat", headwear_color="white"),
}
ARCHETYPE_GENDER: dict[str, str] = {
    "businessman": "male", "businesswoman": "female", "samurai": "male", "cowboy": "male", "viking": "male",
    "king": "male", "queen": "female", "princess": "female", "monk": "male", "dancer": "female", "wizard": "male",
}
"""Archetypes whose word names a gender (``AvatarSpec.gender``); the others may be anyone."""
GENDERS: tuple[str, ...] = ("female", "male", "any")


@dataclass
class AvatarSpec:
    """Attributes of one avatar. Colour fields are names from ``COLORS``."""

    height: str = "average"
    """Height class: short, average or tall (see ``HEIGHT_M``)."""
    build: str = "average"
    """Build class: thin, average or stout (see ``BUILD_W``)."""
    age: str = "adult"
    """adult or child (children are ~1.2 m with larger heads)."""
    upper: str = "shirt"
    """Upper garment, one of ``UPPER``."""
    upper_color: str = "blue"
    upper_pattern: str = "solid"
    lower: str = "trousers"
    """Lower garment, one of ``LOWER`` (ignored under a robe or a dress)."""
    lower_color: str = "black"
    lower_pattern: str = "solid"
    headwear: str = "none"
    headwear_color: str = "black"
    hair: str = "short"
    hair_color: str = "brown"
    skin: int | str = 1
    """Index into ``SKIN_TONES``, or "metal" for robots."""
    shoes_color: str = "black"
    accessories: tuple[str, ...] = ()
    accessory_color: str = "brown"
    archetype: str | None = None
    """Character archetype the attributes came from, if any."""
    gender: str = "any"
    """female, male or any (the captions' subject words follow it; anny's gender is 1, 0 or 0.5)."""
    extras: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["accessories"] = list(self.accessories)
        return d

    @property
    def height_m(self) -> float:
        return CHILD_HEIGHT_M if self.age == "child" else HEIGHT_M[self.height]


def sample_spec(rng: random.Random, archetype_prob: float = 0.4) -> AvatarSpec:
    """Draw a random avatar from the attribute space."""
    spec = AvatarSpec(
        height=rng.choice(HEIGHTS),
        build=rng.choice(BUILDS),
        age="child" if rng.random() < 0.12 else "adult",
        upper=rng.choice(UPPER),
        upper_color=rng.choice(GARMENT_COLORS),
        upper_pattern=rng.choice(PATTERNS) if rng.random() < 0.35 else "solid",
        lower=rng.choice(LOWER),
        lower_color=rng.choice(GARMENT_COLORS),
        lower_pattern=rng.choice(PATTERNS) if rng.random() < 0.2 else "solid",
        headwear=rng.choice(HEADWEAR),
        headwear_color=rng.choice(GARMENT_COLORS),
        hair=rng.choice(HAIR),
        hair_color=rng.choice(tuple(HAIR_COLORS)),
        skin=rng.randrange(len(SKIN_TONES)),
        shoes_color=rng.choice(("black", "brown", "white", "grey")),
        accessories=tuple(a for a in ACCESSORIES if rng.random() < 0.18),
        accessory_color=rng.choice(GARMENT_COLORS),
    )
    if spec.upper == "armour":
        spec.upper_color = rng.choice(("silver", "gold", "grey", "black"))
        spec.upper_pattern = "solid"
    if rng.random() < archetype_prob:
        apply_archetype(spec, rng.choice(tuple(ARCHETYPES)), rng)
    spec.gender = ARCHETYPE_GENDER.get(spec.archetype or "", rng.choice(GENDERS))
    return spec


def apply_archetype(spec: AvatarSpec, name: str, rng: random.Random | None = None) -> AvatarSpec:
    """Overwrite ``spec``'s attributes with those of archetype ``name``: where the archetype gives a list of
    choices, one drawn with ``rng`` (the first without one); "same" repeats the upper colour."""
    if name not in ARCHETYPES:
        raise ValueError(f"unknown archetype {name!r}; known: {', '.join(ARCHETYPES)}")
    for k, v in ARCHETYPES[name].items():
        if isinstance(v, list):
            v = rng.choice(v) if rng is not None else v[0]
        setattr(spec, k, spec.upper_color if v == "same" else v)
    spec.archetype = name
    if name in ARCHETYPE_GENDER:
        spec.gender = ARCHETYPE_GENDER[name]
    if spec.upper in ("armour",) or spec.archetype in ("robot",):
        spec.upper_pattern = "solid"
    return spec


def covers_legs(spec: AvatarSpec) -> bool:
    """True when the upper garment (robe, dress) hides the lower one."""
    return spec.upper in ("robe", "dress")
