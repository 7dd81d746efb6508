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
    "red": ((0.80, 0.10, 0.10), ("red", "crimson", "scarlet")),
    "orange": ((0.95, 0.50, 0.08), ("orange", "tangerine")),
    "yellow": ((0.95, 0.85, 0.15), ("yellow", "golden yellow", "lemon")),
    "green": ((0.12, 0.62, 0.18), ("green", "emerald", "leaf green")),
    "blue": ((0.12, 0.25, 0.85), ("blue", "cobalt", "royal blue")),
    "purple": ((0.52, 0.16, 0.70), ("purple", "violet", "lilac")),
    "pink": ((0.96, 0.52, 0.72), ("pink", "rose", "bubblegum pink")),
    "brown": ((0.45, 0.28, 0.12), ("brown", "chocolate", "tan")),
    "black": ((0.07, 0.07, 0.08), ("black", "jet black", "ebony")),
    "white": ((0.94, 0.94, 0.92), ("white", "snow white", "ivory")),
    "grey": ((0.50, 0.50, 0.52), ("grey", "gray", "ash grey")),
    "teal": ((0.05, 0.55, 0.55), ("teal", "turquoise", "cyan")),
    "silver": ((0.78, 0.79, 0.82), ("silver", "steel", "metallic")),
    "gold": ((0.85, 0.65, 0.15), ("gold", "golden", "gilded")),
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
}


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
    extras: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["accessories"] = list(self.accessories)
        return d

    @property
    def height_m(self) -> float:
        return CHILD_HEIGHT_M if self.age == "child" else HEIGHT_M[self.height]


def sample_spec(rng: random.Random, archetype_prob: float = 0.3) -> AvatarSpec:
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
        apply_archetype(spec, rng.choice(tuple(ARCHETYPES)))
    return spec


def apply_archetype(spec: AvatarSpec, name: str) -> AvatarSpec:
    """Overwrite ``spec``'s attributes with those of archetype ``name``."""
    if name not in ARCHETYPES:
        raise ValueError(f"unknown archetype {name!r}; known: {', '.join(ARCHETYPES)}")
    for k, v in ARCHETYPES[name].items():
        setattr(spec, k, v)
    spec.archetype = name
    if spec.upper in ("armour",) or spec.archetype in ("robot",):
        spec.upper_pattern = "solid"
    return spec


def covers_legs(spec: AvatarSpec) -> bool:
    """True when the upper garment (robe, dress) hides the lower one."""
    return spec.upper in ("robe", "dress")
