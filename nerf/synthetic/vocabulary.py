"""The words of the avatar domain, in one place: the caption grammar draws from them, and the prompt parsers
(``nerf.synthetic.clauses`` for the generator's clauses, ``texture.library.regions`` for the texturer's
regions) read prompts with them. Attribute names (keys) are those of ``nerf.synthetic.avatar_spec``."""
from __future__ import annotations

from nerf.synthetic.avatar_spec import HEADWEAR, LOWER, UPPER

UPPER_WORDS = {
    "shirt": ("shirt", "t-shirt", "top", "tee"),
    "jacket": ("jacket", "coat", "long-sleeved jacket"),
    "robe": ("robe", "long robe", "gown"),
    "dress": ("dress", "frock", "sundress"),
    "armour": ("armour", "armor", "plate armour", "suit of armour"),
}
LOWER_WORDS = {
    "trousers": ("trousers", "pants", "slacks"),
    "skirt": ("skirt", "knee-length skirt"),
    "shorts": ("shorts", "short pants"),
}
HEAD_WORDS = {"hat": ("hat", "tall hat"), "helmet": ("helmet",), "crown": ("crown",), "hood": ("hood", "hooded cowl")}
PATTERN_WORDS = {"stripes": ("striped", "stripy"), "plaid": ("plaid", "tartan"), "checks": ("checked", "checkered")}
HEIGHT_WORDS = {"tall": ("tall", "very tall", "towering"), "short": ("short", "very short", "small")}
BUILD_WORDS = {"thin": ("thin", "slim", "skinny", "very thin"), "stout": ("stout", "chubby", "heavy-set", "broad")}
SUBJECTS = ("person", "man", "woman", "character", "figure", "adventurer", "human")
CHILD_SUBJECTS = ("child", "kid", "little kid")
ACC_WORDS = {"cape": ("cape", "cloak"), "backpack": ("backpack", "rucksack"), "belt": ("belt",), "boots": ("boots",)}

CLAUSE_JOINERS = ("having put on", "dressed in", "clad in", "who wears", "worn by", "that has", "wearing", "sporting",
                  "showing", "with", "and", "in", "on", "has", "wears", "plus")
"""Words that join a subject to what it wears, or one garment to the next: where a prompt splits into clauses."""

GARMENT_REGIONS: dict[str, str] = {
    **{g: "upper" for g in UPPER},
    **{g: "upper" for g in ("armor", "t-shirt", "tshirt", "tunic", "blouse", "sweater", "jumper", "hoodie",
                            "coat", "vest", "top", "gown", "cloak", "cape", "tabard", "shirts", "jackets",
                            "chainmail", "breastplate", "cardigan", "blazer", "kimono", "poncho")},
    **{g: "lower" for g in LOWER},
    **{g: "lower" for g in ("pants", "jeans", "leggings", "kilt", "slacks", "breeches", "trouser", "skirts")},
    **{g: "head" for g in HEADWEAR if g != "none"},
    **{g: "head" for g in ("cap", "beanie", "turban", "bandana", "hair", "beret", "headband", "tiara",
                           "hats", "helm", "headscarf", "wig")},
    **{g: "feet" for g in ("boots", "boot", "shoes", "shoe", "sneakers", "sandals", "slippers", "heels")},
    **{g: "outfit" for g in ("outfit", "suit", "uniform", "costume", "clothes", "clothing", "jumpsuit",
                             "overalls", "spacesuit", "attire")},
}
"""Garment word -> the texture region it dresses (upper, lower, head, feet, or the whole outfit)."""
LONG_GARMENTS = {"robe", "dress", "gown"}
"""Garments that cover the legs too (``nerf.synthetic.avatar_spec.covers_legs``)."""
IMPLIED_MATERIALS = {"jeans": "denim", "armour": "metal", "armor": "metal", "chainmail": "metal",
                     "breastplate": "metal", "helmet": "metal", "helm": "metal", "crown": "metal", "tiara": "metal"}
"""Material implied by a garment word when the prompt names none."""
PHRASE_SEPARATORS = {"and", ",", "with", "wearing", ";", ".", "plus", "holding", "carrying", "has", "who"}
"""Where one garment's phrase ends ("in" and "of" do not end one: "a shirt in green plaid")."""
POSTFIX_WORDS = {"in", "of", "made"}
"""Words after a garment that introduce its modifiers."""
STOP_WORDS = {"a", "an", "the", "person", "man", "woman", "character", "avatar", "in", "of", "made", "some",
              "pair", "his", "her", "their", "very", "tall", "short", "young", "old", "boy", "girl"}
"""Words that say nothing about a garment."""

# ------------------------------------------------------------------ what the avatar system cannot build
NOT_HUMANOID = ("wings", "wing", "winged", "tail", "tails", "horns", "horn", "horned", "antlers", "claws", "claw",
                "fur", "furry", "tentacles", "tentacle", "beak", "fins", "fin", "scales", "scaly", "hooves", "hoof",
                "paws", "paw", "snout", "muzzle", "mane", "feathers", "feathered", "halo", "whiskers", "fangs",
                "gills", "antennae")
"""Body parts no human has: the anny body cannot grow them."""
CREATURES = ("cat", "dog", "wolf", "fox", "bear", "lion", "tiger", "dragon", "bird", "horse", "unicorn", "fish",
             "mermaid", "centaur", "elf", "elven", "orc", "goblin", "troll", "demon", "angel", "alien", "monster",
             "werewolf", "minotaur", "satyr", "faun", "bunny", "rabbit", "mouse", "frog", "lizard", "snake",
             "animal", "creature", "beast", "insect", "spider", "owl", "eagle", "shark", "octopus", "cow", "pig")
"""Animals and non-human creatures: every avatar is a human body."""
HELD_OBJECTS = ("sword", "swords", "shield", "staff", "wand", "bow", "arrow", "arrows", "gun", "guns", "rifle",
                "pistol", "spear", "axe", "hammer", "dagger", "knife", "book", "guitar", "umbrella", "lantern",
                "torch", "flag", "phone", "cup", "briefcase", "bag", "basket", "broom", "scythe", "whip", "trident",
                "holding", "carrying", "wielding")
"""Things held in the hands (and the verbs that introduce them): no prop is built."""
NEGATIONS = ("no", "not", "without", "never", "none", "nothing")
"""Words that negate: the embedded models learned no negation ("no hat" reads like "hat")."""
FUNCTION_WORDS = ("a", "an", "the", "and", "or", "with", "in", "on", "of", "for", "to", "at", "by", "from", "is",
                  "are", "be", "his", "her", "their", "its", "who", "that", "which", "this", "some", "pair", "pairs",
                  "very", "really", "quite", "rather", "bit", "little", "wearing", "wears", "wear", "dressed",
                  "clad", "has", "have", "having", "put", "plus", "also", "both", "one", "set", "look", "looking",
                  "style", "styled", "kind", "type", "sort", "like", "as", "&", "she", "he", "they")
"""Words that carry no attribute of their own."""
