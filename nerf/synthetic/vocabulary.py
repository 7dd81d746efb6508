"""The words of the avatar domain, in one place: the caption grammar draws from them, and the prompt parsers
(``nerf.synthetic.clauses`` for the generator's clauses, ``texture.library.regions`` for the texturer's
regions) read prompts with them. Attribute names (keys) are those of ``nerf.synthetic.avatar_spec``."""
from __future__ import annotations

import zlib

UPPER_WORDS = {
    "shirt": ("shirt", "t-shirt", "top", "tee", "blouse", "polo shirt", "tank top", "sweater", "jumper", "hoodie",
              "sweatshirt", "tunic", "button-up shirt", "jersey", "scrubs top", "turtleneck"),
    "jacket": ("jacket", "coat", "blazer", "lab coat", "long-sleeved jacket", "overcoat", "parka", "windbreaker",
               "cardigan", "trench coat", "leather jacket", "bomber jacket", "uniform jacket", "tuxedo jacket",
               "puffer jacket", "suit jacket"),
    "robe": ("robe", "kimono", "hanfu", "long robe", "gown", "cassock", "kaftan", "bathrobe", "monk's habit",
             "long flowing robe", "toga"),
    "dress": ("dress", "frock", "sundress", "ball gown", "qipao", "cheongsam", "sari", "evening dress",
              "wedding dress", "summer dress", "maxi dress"),
    "armour": ("armour", "armor", "plate armour", "suit of armour", "chainmail", "breastplate", "plate mail",
               "knight's armour", "power armour"),
}
LOWER_WORDS = {
    "trousers": ("trousers", "pants", "slacks", "jeans", "leggings", "chinos", "sweatpants", "joggers",
                 "cargo pants", "dress pants", "overalls", "khakis"),
    "skirt": ("skirt", "knee-length skirt", "miniskirt", "kilt", "long skirt", "pleated skirt", "pencil skirt"),
    "shorts": ("shorts", "short pants", "bermuda shorts", "swim trunks", "running shorts", "cut-off shorts"),
}
HEAD_WORDS = {
    "hat": ("hat", "tall hat", "cap", "baseball cap", "beanie", "fedora", "top hat", "cowboy hat", "beret",
            "sun hat", "straw hat", "bowler hat", "peaked cap", "wide-brimmed hat"),
    "helmet": ("helmet", "helm", "hard hat", "war helmet", "space helmet"),
    "crown": ("crown", "tiara", "diadem", "circlet", "royal crown"),
    "hood": ("hood", "hooded cowl", "cowl", "deep hood", "cloak hood"),
}
PATTERN_WORDS = {"stripes": ("striped", "stripy", "pinstriped", "banded"),
                 "plaid": ("plaid", "tartan", "flannel", "buffalo-check"),
                 "checks": ("checked", "checkered", "chequered", "gingham")}
HEIGHT_WORDS = {"tall": ("tall", "very tall", "towering", "statuesque", "lofty", "long-legged", "extremely tall",
                         "giant"),
                "short": ("short", "very short", "small", "tiny", "diminutive", "little", "undersized", "pint-sized")}
BUILD_WORDS = {"thin": ("thin", "slim", "skinny", "very thin", "slender", "lean", "scrawny", "bony", "wiry",
                        "svelte", "skinny-limbed", "narrow"),
               "stout": ("stout", "chubby", "heavyset", "plump", "broad", "heavy-set", "fat", "portly",
                         "overweight", "rotund", "chunky", "burly", "big-bellied", "husky")}
COMBO_WORDS = {("tall", "thin"): ("lanky", "gangly", "willowy", "beanpole", "rangy"),
               ("short", "thin"): ("petite", "elfin", "slight", "waif-like"),
               ("short", "stout"): ("stocky", "squat", "dumpy", "thickset"),
               ("tall", "stout"): ("hulking", "strapping", "big and tall", "massive")}
"""Words that name a height and a build at once (``lanky`` = tall and thin)."""
SUBJECT_WORDS = {"any": ("person", "character", "figure", "adventurer", "human", "individual", "someone",
                         "avatar", "citizen", "traveller", "villager", "npc"),
                 "female": ("woman", "lady", "female character", "gal", "female adventurer", "heroine"),
                 "male": ("man", "guy", "gentleman", "male character", "fellow", "dude", "hero")}
"""Adult subjects by ``AvatarSpec.gender``."""
CHILD_WORDS = {"any": ("child", "kid", "little kid", "toddler", "youngster", "small child", "young child"),
               "female": ("girl", "little girl", "schoolgirl"),
               "male": ("boy", "little boy", "schoolboy")}
"""Child subjects by ``AvatarSpec.gender``."""
ADULT_ADJECTIVES = ("young", "adult", "grown-up", "youthful", "middle-aged", "teenage", "twenty-something")
"""Age words that still mean an adult body: "a young woman" is no child."""
ELDER_WORDS = ("old", "elderly", "aged", "grey-haired", "white-haired", "senior", "ancient", "wrinkled")
"""Words of an old adult: the corpus gives them to adults with grey or white hair."""
GENDER_ADJECTIVES = {"female": ("female", "feminine"), "male": ("male", "masculine")}
SUIT_WORDS = ("suit", "business suit", "two-piece suit", "formal suit", "tailored suit")
"""A jacket and trousers of one plain colour."""
BALD_WORDS = ("a bald head", "a shaved head", "no hair", "a hairless head", "a clean-shaven scalp")
HAIR_WORDS = {"short": ("short", "cropped", "close-cut", "buzzed", "short-cropped"),
              "long": ("long", "flowing", "shoulder-length", "waist-length", "long straight")}
"""Hair length words (``AvatarSpec.hair``)."""
ARCHETYPE_WORDS = {
    "knight": ("knight", "paladin", "crusader"), "wizard": ("wizard", "mage", "sorcerer", "warlock"),
    "astronaut": ("astronaut", "spaceman", "cosmonaut", "space explorer"),
    "robot": ("robot", "android", "cyborg", "mech pilot"), "pirate": ("pirate", "buccaneer", "corsair"),
    "ninja": ("ninja", "shinobi", "assassin"), "chef": ("chef", "cook", "head chef"),
    "doctor": ("doctor", "physician", "surgeon", "medic"), "king": ("king", "monarch", "emperor", "sovereign"),
    "soldier": ("soldier", "trooper", "infantryman", "marine"),
    "businessman": ("businessman", "business man", "executive", "male executive"),
    "businesswoman": ("businesswoman", "business woman", "female executive", "career woman"),
    "office worker": ("office worker", "clerk", "office employee", "accountant"),
    "nurse": ("nurse", "paramedic", "caregiver", "hospital nurse"),
    "police officer": ("police officer", "policeman", "cop", "policewoman", "detective"),
    "firefighter": ("firefighter", "fireman", "fire fighter"), "samurai": ("samurai", "ronin", "shogun warrior"),
    "cowboy": ("cowboy", "cowhand", "wrangler", "gunslinger"), "viking": ("viking", "norse warrior", "norseman"),
    "farmer": ("farmer", "rancher", "farmhand", "peasant"), "student": ("student", "pupil", "schoolkid"),
    "athlete": ("athlete", "sportsman", "runner", "sprinter", "footballer"),
    "dancer": ("dancer", "ballerina", "ballet dancer", "showgirl"), "queen": ("queen", "empress", "monarch queen"),
    "princess": ("princess", "little princess", "fairy-tale princess"),
    "monk": ("monk", "friar", "buddhist monk", "abbot"), "scientist": ("scientist", "researcher", "chemist",
                                                                        "lab technician"),
    "sailor": ("sailor", "seaman", "deckhand", "navy sailor"),
}
"""Each archetype's words (``AvatarSpec.archetype``)."""
ACC_WORDS = {"cape": ("cape", "cloak", "mantle", "long cape"), "backpack": ("backpack", "rucksack", "knapsack",
                                                                            "school bag"),
             "belt": ("belt", "leather belt", "utility belt", "sash"),
             "boots": ("boots", "work boots", "riding boots", "combat boots", "tall boots")}
SUBJECTS = SUBJECT_WORDS["any"] + SUBJECT_WORDS["female"] + SUBJECT_WORDS["male"]
CHILD_SUBJECTS = CHILD_WORDS["any"] + CHILD_WORDS["female"] + CHILD_WORDS["male"]

HELDOUT_SYNONYMS = 5
"""One synonym in this many (by hash, never one of a list's first four) is kept out of the training captions:
the held-out and paraphrase prompts use them, to measure wording no model was trained on."""


def held_out_word(word: str, words: tuple[str, ...]) -> bool:
    """True when ``word`` (one of ``words``) is a held-out synonym."""
    return words.index(word) >= 4 and zlib.crc32(word.encode()) % HELDOUT_SYNONYMS == 0


def held_out_synonyms() -> set[str]:
    """Every held-out synonym of the grammar's word lists (colours included)."""
    from nerf.synthetic.avatar_spec import COLORS

    groups = [UPPER_WORDS, LOWER_WORDS, HEAD_WORDS, PATTERN_WORDS, HEIGHT_WORDS, BUILD_WORDS, COMBO_WORDS,
              ARCHETYPE_WORDS, SUBJECT_WORDS, CHILD_WORDS, ACC_WORDS, HAIR_WORDS,
              {c: syn for c, (_, syn) in COLORS.items()},
              {"elder": ELDER_WORDS, "adult": ADULT_ADJECTIVES, "suit": SUIT_WORDS, "bald": BALD_WORDS}]
    return {w for g in groups for ws in g.values() for w in ws if held_out_word(w, ws)}


def words_for(words: tuple[str, ...], group: str) -> tuple[str, ...]:
    """The synonyms a caption of template group ``group`` may use: all of them for the held-out and paraphrase
    groups, the others without the held-out ones."""
    if group in ("heldout", "paraphrase"):
        return words
    return tuple(w for w in words if not held_out_word(w, words))


CLAUSE_JOINERS = ("having put on", "dressed in", "clad in", "who wears", "worn by", "that has", "wearing", "sporting",
                  "showing", "with", "and", "in", "on", "has", "wears", "plus")
"""Words that join a subject to what it wears, or one garment to the next: where a prompt splits into clauses."""
CLAUSE_JOINERS_INTL = ("que lleva", "vestido con", "vestida con", "vestido de", "vestida de", "llevando", "lleva",
                       "luciendo", "luce", "con", "y",  # Spanish
                       "vestido com", "vestida com", "usando", "vestindo", "veste", "com", "e",  # Portuguese
                       "vêtu de", "vêtue de", "habillé de", "habillée de", "portant", "porte", "avec", "et",  # French
                       "gekleidet in", "trägt", "mit", "und")  # German
"""The same in the other languages the multilingual text tower reads, between words."""
CJK_JOINERS = ("穿着", "戴着", "身穿", "头戴", "脚穿", "背着", "带着", "披着", "系着", "以及", "还有", "和", "与",
               "及", "穿", "戴",  # Chinese
               "を着ている", "を着た", "を着て", "をかぶっている", "をかぶった", "をかぶり", "をかぶって", "を背負った",
               "を背負って", "を履いた", "を履いて", "をつけた", "をつけて", "を身につけた", "と")  # Japanese
"""Chinese and Japanese joiners, which need no spaces around them."""

def _region_words(groups: dict[str, tuple[str, ...]]) -> set[str]:
    """The last word of each synonym ("plate armour" -> "armour"), as region parsers read single words."""
    return {w.split()[-1] for ws in groups.values() for w in ws} | set(groups)


GARMENT_REGIONS: dict[str, str] = {
    **{g: "upper" for g in _region_words(UPPER_WORDS)},
    **{g: "upper" for g in ("armor", "t-shirt", "tshirt", "tunic", "blouse", "sweater", "jumper", "hoodie",
                            "coat", "vest", "top", "gown", "cloak", "cape", "tabard", "shirts", "jackets",
                            "chainmail", "breastplate", "cardigan", "blazer", "kimono", "poncho", "waistcoat")},
    **{g: "lower" for g in _region_words(LOWER_WORDS)},
    **{g: "lower" for g in ("pants", "jeans", "leggings", "kilt", "slacks", "breeches", "trouser", "skirts")},
    **{g: "head" for g in _region_words(HEAD_WORDS)},
    **{g: "head" for g in ("cap", "beanie", "turban", "bandana", "hair", "beret", "headband", "tiara",
                           "hats", "helm", "headscarf", "wig")},
    **{g: "feet" for g in ("boots", "boot", "shoes", "shoe", "sneakers", "sandals", "slippers", "heels")},
    **{g: "outfit" for g in ("outfit", "suit", "uniform", "costume", "clothes", "clothing", "jumpsuit",
                             "overalls", "spacesuit", "attire")},
}
"""Garment word -> the texture region it dresses (upper, lower, head, feet, or the whole outfit)."""
LONG_GARMENTS = _region_words({k: UPPER_WORDS[k] for k in ("robe", "dress")})
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
