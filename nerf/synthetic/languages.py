"""The caption grammar in other languages: captions of an avatar in Chinese, Spanish, Japanese, French, German
and Portuguese, each with the English caption that names the same attributes.

The multilingual text head (``scripts/train_text_head.py``) is distilled on pairs (a translated caption, the
MiniLM feature of its English twin), so the words of each language land where the English words do. Each
language has a few everyday words per attribute value (the held-out prompt files are written by people, in
their own wording, and never generated here), its own word order and agreement (a Spanish colour agrees with
its garment; a Japanese colour is an i-adjective or takes の; a German one is declined after "mit").

``translated_caption(spec, rng, lang)`` names, like the English grammar, the subject, the upper garment
always, and the body, lower garment, headwear, hair and accessories each most of the time.
"""
from __future__ import annotations

import functools
import random

from nerf.synthetic.avatar_spec import AvatarSpec
from nerf.synthetic.captions import _implied

LANGUAGES = ("zh", "es", "ja", "fr", "de", "pt")

# ---------------------------------------------------------------------------------------------- words
# Subjects: archetype or generic -> words; Romance/German entries are (masculine, feminine) where they differ.
_GENERIC = {
    "zh": {"person": ("人", "人物", "角色"), "male": ("男人", "男子", "男性"), "female": ("女人", "女子", "女性"),
           "child": ("孩子", "小孩", "儿童"), "boy": ("男孩", "小男孩"), "girl": ("女孩", "小女孩")},
    "ja": {"person": ("人", "人物", "キャラクター"), "male": ("男性", "男の人", "男"),
           "female": ("女性", "女の人", "女"),
           "child": ("子供", "子ども"), "boy": ("男の子", "少年"), "girl": ("女の子", "少女")},
    "es": {"person": ("persona", "personaje"), "male": ("hombre", "señor"), "female": ("mujer", "señora"),
           "child": ("niño",), "boy": ("niño", "chico"), "girl": ("niña", "chica")},
    "pt": {"person": ("pessoa", "personagem"), "male": ("homem", "senhor"), "female": ("mulher", "senhora"),
           "child": ("criança",), "boy": ("menino", "garoto"), "girl": ("menina", "garota")},
    "fr": {"person": ("personne", "personnage"), "male": ("homme", "monsieur"), "female": ("femme", "dame"),
           "child": ("enfant",), "boy": ("garçon",), "girl": ("fille", "petite fille")},
    "de": {"person": ("Person", "Figur"), "male": ("Mann", "Herr"), "female": ("Frau", "Dame"),
           "child": ("Kind",), "boy": ("Junge",), "girl": ("Mädchen",)},
}
_ARCHETYPES = {  # archetype -> (zh, ja, es (m, f), pt (m, f), fr (m, f), de (m, f))
    "knight": ("骑士", "騎士", ("caballero", "caballera"), ("cavaleiro", "cavaleira"), ("chevalier", "chevalière"),
               ("Ritter", "Ritterin")),
    "wizard": ("巫师", "魔法使い", ("mago", "maga"), ("mago", "maga"), ("magicien", "magicienne"),
               ("Zauberer", "Zauberin")),
    "astronaut": ("宇航员", "宇宙飛行士", ("astronauta", "astronauta"), ("astronauta", "astronauta"),
                  ("astronaute", "astronaute"), ("Astronaut", "Astronautin")),
    "robot": ("机器人", "ロボット", ("robot", "robot"), ("robô", "robô"), ("robot", "robot"), ("Roboter", "Roboter")),
    "pirate": ("海盗", "海賊", ("pirata", "pirata"), ("pirata", "pirata"), ("pirate", "pirate"),
               ("Pirat", "Piratin")),
    "ninja": ("忍者", "忍者", ("ninja", "ninja"), ("ninja", "ninja"), ("ninja", "ninja"), ("Ninja", "Ninja")),
    "chef": ("厨师", "シェフ", ("cocinero", "cocinera"), ("cozinheiro", "cozinheira"), ("cuisinier", "cuisinière"),
             ("Koch", "Köchin")),
    "doctor": ("医生", "医者", ("médico", "médica"), ("médico", "médica"), ("médecin", "médecin"),
               ("Arzt", "Ärztin")),
    "king": ("国王", "王様", ("rey", "rey"), ("rei", "rei"), ("roi", "roi"), ("König", "König")),
    "soldier": ("士兵", "兵士", ("soldado", "soldado"), ("soldado", "soldado"), ("soldat", "soldate"),
                ("Soldat", "Soldatin")),
    "businessman": ("商人", "ビジネスマン", ("empresario", "empresario"), ("empresário", "empresário"),
                    ("homme d'affaires", "homme d'affaires"), ("Geschäftsmann", "Geschäftsmann")),
    "businesswoman": ("女商人", "ビジネスウーマン", ("empresaria", "empresaria"), ("empresária", "empresária"),
                      ("femme d'affaires", "femme d'affaires"), ("Geschäftsfrau", "Geschäftsfrau")),
    "office worker": ("上班族", "会社員", ("oficinista", "oficinista"), ("funcionário", "funcionária"),
                      ("employé de bureau", "employée de bureau"), ("Büroangestellter", "Büroangestellte")),
    "nurse": ("护士", "看護師", ("enfermero", "enfermera"), ("enfermeiro", "enfermeira"), ("infirmier", "infirmière"),
              ("Krankenpfleger", "Krankenschwester")),
    "police officer": ("警察", "警察官", ("policía", "policía"), ("policial", "policial"), ("policier", "policière"),
                       ("Polizist", "Polizistin")),
    "firefighter": ("消防员", "消防士", ("bombero", "bombera"), ("bombeiro", "bombeira"), ("pompier", "pompière"),
                    ("Feuerwehrmann", "Feuerwehrfrau")),
    "samurai": ("武士", "侍", ("samurái", "samurái"), ("samurai", "samurai"), ("samouraï", "samouraï"),
                ("Samurai", "Samurai")),
    "cowboy": ("牛仔", "カウボーイ", ("vaquero", "vaquera"), ("vaqueiro", "vaqueira"), ("cow-boy", "cow-girl"),
               ("Cowboy", "Cowgirl")),
    "viking": ("维京人", "バイキング", ("vikingo", "vikinga"), ("viking", "viking"), ("viking", "viking"),
               ("Wikinger", "Wikingerin")),
    "farmer": ("农民", "農家", ("granjero", "granjera"), ("fazendeiro", "fazendeira"), ("fermier", "fermière"),
               ("Bauer", "Bäuerin")),
    "student": ("学生", "学生", ("estudiante", "estudiante"), ("estudante", "estudante"), ("étudiant", "étudiante"),
                ("Student", "Studentin")),
    "athlete": ("运动员", "アスリート", ("atleta", "atleta"), ("atleta", "atleta"), ("athlète", "athlète"),
                ("Sportler", "Sportlerin")),
    "dancer": ("舞者", "ダンサー", ("bailarín", "bailarina"), ("dançarino", "dançarina"), ("danseur", "danseuse"),
               ("Tänzer", "Tänzerin")),
    "queen": ("女王", "女王", ("reina", "reina"), ("rainha", "rainha"), ("reine", "reine"), ("Königin", "Königin")),
    "princess": ("公主", "お姫様", ("princesa", "princesa"), ("princesa", "princesa"), ("princesse", "princesse"),
                 ("Prinzessin", "Prinzessin")),
    "monk": ("僧人", "僧侶", ("monje", "monje"), ("monge", "monge"), ("moine", "moine"), ("Mönch", "Mönch")),
    "scientist": ("科学家", "科学者", ("científico", "científica"), ("cientista", "cientista"),
                  ("scientifique", "scientifique"), ("Wissenschaftler", "Wissenschaftlerin")),
    "sailor": ("水手", "船乗り", ("marinero", "marinera"), ("marinheiro", "marinheira"), ("marin", "marin"),
               ("Seemann", "Seefrau")),
}
_LANG_COL = {"zh": 0, "ja": 1, "es": 2, "pt": 3, "fr": 4, "de": 5}

# Garments: value -> list of (word, gender, plural) for the Romance languages and German; plain words for zh/ja.
_GARMENTS = {
    "zh": {"shirt": ("衬衫", "T恤"), "jacket": ("夹克", "外套"), "robe": ("长袍",), "dress": ("连衣裙",),
           "armour": ("盔甲", "铠甲"), "trousers": ("裤子", "长裤"), "skirt": ("裙子", "半身裙"), "shorts": ("短裤",),
           "hat": ("帽子",), "helmet": ("头盔",), "crown": ("王冠", "皇冠"), "hood": ("兜帽",),
           "cape": ("披风", "斗篷"), "backpack": ("背包", "双肩包"), "belt": ("腰带", "皮带"),
           "boots": ("靴子", "长靴")},
    "ja": {"shirt": ("シャツ", "Tシャツ"), "jacket": ("ジャケット", "上着"), "robe": ("ローブ", "長衣"),
           "dress": ("ワンピース", "ドレス"), "armour": ("鎧", "甲冑"), "trousers": ("ズボン", "パンツ"),
           "skirt": ("スカート",), "shorts": ("短パン", "ショートパンツ"), "hat": ("帽子", "ハット"),
           "helmet": ("ヘルメット", "兜"), "crown": ("王冠",), "hood": ("フード",), "cape": ("マント",),
           "backpack": ("リュック", "バックパック"), "belt": ("ベルト",), "boots": ("ブーツ",)},
    "es": {"shirt": (("camisa", "f", 0), ("camiseta", "f", 0)), "jacket": (("chaqueta", "f", 0),),
           "robe": (("túnica", "f", 0), ("bata larga", "f", 0)), "dress": (("vestido", "m", 0),),
           "armour": (("armadura", "f", 0),), "trousers": (("pantalones", "m", 1), ("pantalón", "m", 0)),
           "skirt": (("falda", "f", 0),), "shorts": (("pantalones cortos", "m", 1), ("shorts", "m", 1)),
           "hat": (("sombrero", "m", 0),), "helmet": (("casco", "m", 0),), "crown": (("corona", "f", 0),),
           "hood": (("capucha", "f", 0),), "cape": (("capa", "f", 0),), "backpack": (("mochila", "f", 0),),
           "belt": (("cinturón", "m", 0),), "boots": (("botas", "f", 1),)},
    "pt": {"shirt": (("camisa", "f", 0), ("camiseta", "f", 0)), "jacket": (("jaqueta", "f", 0), ("casaco", "m", 0)),
           "robe": (("túnica", "f", 0), ("manto longo", "m", 0)), "dress": (("vestido", "m", 0),),
           "armour": (("armadura", "f", 0),), "trousers": (("calças", "f", 1), ("calça", "f", 0)),
           "skirt": (("saia", "f", 0),), "shorts": (("shorts", "m", 1), ("bermuda", "f", 0)),
           "hat": (("chapéu", "m", 0),), "helmet": (("capacete", "m", 0),), "crown": (("coroa", "f", 0),),
           "hood": (("capuz", "m", 0),), "cape": (("capa", "f", 0),), "backpack": (("mochila", "f", 0),),
           "belt": (("cinto", "m", 0),), "boots": (("botas", "f", 1),)},
    "fr": {"shirt": (("chemise", "f", 0), ("t-shirt", "m", 0)), "jacket": (("veste", "f", 0), ("blouson", "m", 0)),
           "robe": (("tunique longue", "f", 0), ("toge", "f", 0)), "dress": (("robe", "f", 0),),
           "armour": (("armure", "f", 0),), "trousers": (("pantalon", "m", 0),), "skirt": (("jupe", "f", 0),),
           "shorts": (("short", "m", 0),), "hat": (("chapeau", "m", 0),), "helmet": (("casque", "m", 0),),
           "crown": (("couronne", "f", 0),), "hood": (("capuche", "f", 0),), "cape": (("cape", "f", 0),),
           "backpack": (("sac à dos", "m", 0),), "belt": (("ceinture", "f", 0),), "boots": (("bottes", "f", 1),)},
    "de": {"shirt": (("Hemd", "n", 0), ("T-Shirt", "n", 0)), "jacket": (("Jacke", "f", 0),),
           "robe": (("Robe", "f", 0), ("Gewand", "n", 0)), "dress": (("Kleid", "n", 0),),
           "armour": (("Rüstung", "f", 0),), "trousers": (("Hose", "f", 0),), "skirt": (("Rock", "m", 0),),
           "shorts": (("Shorts", "f", 1), ("kurzer Hose", "f", 0)), "hat": (("Hut", "m", 0),),
           "helmet": (("Helm", "m", 0),), "crown": (("Krone", "f", 0),), "hood": (("Kapuze", "f", 0),),
           "cape": (("Umhang", "m", 0),), "backpack": (("Rucksack", "m", 0),), "belt": (("Gürtel", "m", 0),),
           "boots": (("Stiefel", "m", 1),)},
}
# Colours: zh words; ja (adjective form); es/pt/fr (m, f) -- plurals by rule; de stems ("" ending for invariants).
_COLORS = {
    "red": ("红色", "赤い", ("rojo", "roja"), ("vermelho", "vermelha"), ("rouge", "rouge"), "rot"),
    "orange": ("橙色", "オレンジの", ("naranja", "naranja"), ("laranja", "laranja"), ("orange", "orange"),
               "orangefarben"),
    "yellow": ("黄色", "黄色い", ("amarillo", "amarilla"), ("amarelo", "amarela"), ("jaune", "jaune"), "gelb"),
    "green": ("绿色", "緑の", ("verde", "verde"), ("verde", "verde"), ("vert", "verte"), "grün"),
    "blue": ("蓝色", "青い", ("azul", "azul"), ("azul", "azul"), ("bleu", "bleue"), "blau"),
    "purple": ("紫色", "紫の", ("morado", "morada"), ("roxo", "roxa"), ("violet", "violette"), "violett"),
    "pink": ("粉色", "ピンクの", ("rosa", "rosa"), ("rosa", "rosa"), ("rose", "rose"), "rosa"),
    "brown": ("棕色", "茶色い", ("marrón", "marrón"), ("marrom", "marrom"), ("marron", "marron"), "braun"),
    "black": ("黑色", "黒い", ("negro", "negra"), ("preto", "preta"), ("noir", "noire"), "schwarz"),
    "white": ("白色", "白い", ("blanco", "blanca"), ("branco", "branca"), ("blanc", "blanche"), "weiß"),
    "grey": ("灰色", "グレーの", ("gris", "gris"), ("cinza", "cinza"), ("gris", "grise"), "grau"),
    "teal": ("青绿色", "青緑の", ("turquesa", "turquesa"), ("turquesa", "turquesa"), ("turquoise", "turquoise"),
             "türkis"),
    "silver": ("银色", "銀色の", ("plateado", "plateada"), ("prateado", "prateada"), ("argenté", "argentée"),
               "silbern"),
    "gold": ("金色", "金色の", ("dorado", "dorada"), ("dourado", "dourada"), ("doré", "dorée"), "golden"),
}
_INVARIANT = {"es": {"naranja", "rosa", "turquesa", "azul marino", "gris oscuro", "violeta", "café"},
              "pt": {"laranja", "rosa", "cinza", "turquesa", "lilás"},
              "fr": {"orange", "marron", "bleu marine"}, "de": {"rosa", "türkis", "lila"}}
_HAIR_COLORS = {  # hair colour -> (zh, ja, es, pt, fr, de)
    "black": ("黑色", "黒い", "negro", "preto", "noirs", "schwarzen"),
    "brown": ("棕色", "茶色い", "castaño", "castanho", "bruns", "braunen"),
    "blond": ("金色", "金色の", "rubio", "loiro", "blonds", "blonden"),
    "red": ("红色", "赤い", "pelirrojo", "ruivo", "roux", "roten"),
    "grey": ("灰色", "白髪まじりの", "canoso", "grisalho", "gris", "grauen"),
    "white": ("白色", "白い", "blanco", "branco", "blancs", "weißen"),
}
_HAIR = {"zh": {"short": "短发", "long": "长发", "none": "光头"},
         "ja": {"short": "短い髪", "long": "長い髪", "none": "スキンヘッド"},
         "es": {"short": "pelo corto", "long": "pelo largo", "none": "la cabeza rapada"},
         "pt": {"short": "cabelo curto", "long": "cabelo comprido", "none": "a cabeça raspada"},
         "fr": {"short": "cheveux courts", "long": "cheveux longs", "none": "le crâne rasé"},
         "de": {"short": "kurzen Haaren", "long": "langen Haaren", "none": "Glatze"}}
_PATTERNS = {"stripes": ("条纹", "ストライプの", "de rayas", "listrado", "à rayures", "gestreift"),
             "plaid": ("格子", "チェックの", "de cuadros escoceses", "xadrez", "écossais", "kariert"),
             "checks": ("方格", "格子柄の", "a cuadros", "quadriculado", "à carreaux", "kariert")}
_BODY = {  # (zh, ja, es (m, f), pt (m, f), fr (m, f), de)
    "tall": ("高个子", "背の高い", ("alto", "alta"), ("alto", "alta"), ("grand", "grande"), "großer"),
    "short": ("矮个子", "背の低い", ("bajo", "baja"), ("baixo", "baixa"), ("petit", "petite"), "kleiner"),
    "thin": ("瘦", "痩せた", ("delgado", "delgada"), ("magro", "magra"), ("mince", "mince"), "schlanker"),
    "stout": ("胖", "太った", ("gordo", "gorda"), ("gordo", "gorda"), ("gros", "grosse"), "dicker"),
}
_BODY_MORE = {  # more everyday words for each body class, per language (Romance ones as (m, f))
    "zh": {"tall": ("很高的", "高大的", "高挑的", "身材高大的", "个子很高的"),
           "short": ("矮小的", "个子矮的", "矮矮的", "娇小的", "个子不高的"),
           "thin": ("苗条的", "瘦削的", "纤瘦的", "骨感的", "瘦弱的", "很瘦的"),
           "stout": ("壮实的", "丰满的", "胖乎乎的", "肥胖的", "魁梧的", "微胖的")},
    "ja": {"tall": ("とても背の高い", "長身の", "高身長の", "大柄な", "のっぽの"),
           "short": ("小柄な", "低身長の", "ちびの", "とても背の低い"),
           "thin": ("細身の", "スリムな", "ガリガリの", "華奢な", "痩せ型の"),
           "stout": ("がっしりした", "ぽっちゃりした", "恰幅のいい", "ずんぐりした", "太めの")},
    "es": {"tall": (("muy alto", "muy alta"), ("altísimo", "altísima")),
           "short": (("bajito", "bajita"), ("muy bajo", "muy baja"), ("pequeño", "pequeña")),
           "thin": (("flaco", "flaca"), ("esbelto", "esbelta"), ("flacucho", "flacucha"),
                    ("delgadísimo", "delgadísima")),
           "stout": (("corpulento", "corpulenta"), ("robusto", "robusta"), ("rellenito", "rellenita"),
                     ("fornido", "fornida"))},
    "pt": {"tall": (("muito alto", "muito alta"), ("altíssimo", "altíssima")),
           "short": (("baixinho", "baixinha"), ("pequeno", "pequena")),
           "thin": (("magrinho", "magrinha"), ("esbelto", "esbelta"), ("franzino", "franzina")),
           "stout": (("robusto", "robusta"), ("corpulento", "corpulenta"), ("gordinho", "gordinha"))},
    "fr": {"tall": (("très grand", "très grande"), ("élancé", "élancée")),
           "short": (("tout petit", "toute petite"), ("menu", "menue")),
           "thin": (("maigre", "maigre"), ("svelte", "svelte"), ("fluet", "fluette")),
           "stout": (("corpulent", "corpulente"), ("costaud", "costaude"), ("trapu", "trapue"), ("rond", "ronde"))},
    "de": {"tall": ("sehr groß", "hochgewachsen", "riesig"), "short": ("sehr klein", "winzig", "zierlich"),
           "thin": ("dünn", "mager", "schmal", "hager"), "stout": ("kräftig", "mollig", "stämmig", "korpulent")},
}
_COLOR_MORE = {  # more colour words (zh/ja words; Romance (m, f); German stems)
    "zh": {"red": ("红", "大红色"), "orange": ("橘色", "橘黄色"), "blue": ("深蓝色", "藏青色", "蓝"),
           "pink": ("粉红色", "粉"), "brown": ("咖啡色", "褐色"), "black": ("黑",), "white": ("白", "米白色"),
           "grey": ("灰",), "teal": ("青色", "蓝绿色"), "purple": ("紫",), "green": ("绿", "墨绿色"),
           "gold": ("金黄色",)},
    "ja": {"red": ("赤の", "真っ赤な"), "blue": ("青の", "紺色の", "ネイビーの"), "white": ("真っ白な", "白の"),
           "black": ("真っ黒な", "黒の"), "yellow": ("黄色の",), "brown": ("茶色の",), "green": ("緑色の",),
           "purple": ("紫色の",), "pink": ("ピンク色の",), "orange": ("オレンジ色の",), "grey": ("灰色の",),
           "teal": ("ティールの",), "silver": ("シルバーの",), "gold": ("ゴールドの",)},
    "es": {"red": (("colorado", "colorada"),), "blue": (("azul marino", "azul marino"),),
           "purple": (("violeta", "violeta"),), "brown": (("café", "café"),),
           "grey": (("gris oscuro", "gris oscuro"),)},
    "pt": {"purple": (("lilás", "lilás"),), "grey": (("cinzento", "cinzenta"),), "brown": (("castanho", "castanha"),)},
    "fr": {"blue": (("bleu marine", "bleu marine"),), "purple": (("mauve", "mauve"),)},
    "de": {"purple": ("lila",), "blue": ("dunkelblau",), "red": ("knallrot",)},
}
_GARMENT_MORE = {
    "zh": {"shirt": ("上衣", "短袖"), "jacket": ("西装外套", "大衣", "风衣"), "robe": ("袍子",),
           "dress": ("长裙", "裙装"),
           "armour": ("战甲",), "trousers": ("牛仔裤", "运动裤"), "skirt": ("短裙", "迷你裙"), "hat": ("礼帽", "草帽"),
           "helmet": ("安全帽",), "crown": ("头冠",), "hood": ("风帽",), "boots": ("高筒靴",)},
    "ja": {"shirt": ("ブラウス",), "jacket": ("ブレザー", "コート"), "robe": ("ガウン",), "armour": ("アーマー",),
           "trousers": ("ジーンズ", "スラックス"), "skirt": ("ミニスカート",), "shorts": ("半ズボン",),
           "hat": ("麦わら帽子",), "crown": ("ティアラ",), "hood": ("頭巾",), "cape": ("ケープ",),
           "backpack": ("リュックサック",), "boots": ("長靴",)},
    "es": {"shirt": (("blusa", "f", 0),), "jacket": (("americana", "f", 0), ("cazadora", "f", 0), ("abrigo", "m", 0)),
           "robe": (("toga", "f", 0),), "trousers": (("vaqueros", "m", 1),), "skirt": (("minifalda", "f", 0),),
           "shorts": (("bermudas", "f", 1),), "crown": (("tiara", "f", 0),), "boots": (("botines", "m", 1),)},
    "pt": {"shirt": (("blusa", "f", 0),), "jacket": (("blazer", "m", 0),), "trousers": (("jeans", "m", 1),),
           "skirt": (("minissaia", "f", 0),), "hat": (("boné", "m", 0),)},
    "fr": {"shirt": (("chemisier", "m", 0),), "jacket": (("manteau", "m", 0),), "trousers": (("jean", "m", 0),),
           "skirt": (("minijupe", "f", 0),)},
    "de": {"shirt": (("Bluse", "f", 0),), "jacket": (("Mantel", "m", 0),), "trousers": (("Jeans", "f", 0),)},
}
for _lang, _more in _GARMENT_MORE.items():
    for _k, _v in _more.items():
        _GARMENTS[_lang][_k] = tuple(_GARMENTS[_lang][_k]) + tuple(_v)


def _body_word(lang: str, value: str, rng: random.Random, fem: bool = False) -> str:
    col = _LANG_COL[lang]
    base = _BODY[value][col]
    w = rng.choice((base,) * 2 + tuple(_BODY_MORE[lang][value]))
    return (w[1] if fem else w[0]) if isinstance(w, tuple) else w


def _color_word(lang: str, color: str, rng: random.Random):
    base = _COLORS[color][_LANG_COL[lang]]
    more = _COLOR_MORE.get(lang, {}).get(color, ())
    return rng.choice((base,) * 2 + tuple(more))


# ---------------------------------------------------------------------------------------------- helpers
def _plural(word: str, lang: str) -> str:
    if lang == "pt" and word.endswith("l"):
        return word[:-1] + "is"
    if lang == "fr":
        return word if word.endswith(("s", "x")) else word + "s"
    return word + ("s" if word[-1] in "aeioué" else "es")


def _adj(forms: tuple[str, str], lang: str, gender: str, plural: int) -> str:
    w = forms[1] if gender == "f" else forms[0]
    if plural and w not in _INVARIANT.get(lang, ()):
        w = " ".join(_plural(p, lang) for p in w.split())
    return w


def _de_colour(stem: str, gender: str, plural: int) -> str:
    if stem in _INVARIANT["de"]:
        return stem
    return stem + ("en" if plural else "er" if gender == "f" else "em")  # dative after "mit", no article


def _article(lang: str, gender: str, plural: int) -> str:
    if plural:
        return ""
    return {"es": {"m": "un", "f": "una"}, "pt": {"m": "um", "f": "uma"},
            "fr": {"m": "un", "f": "une"}}[lang][gender]


def _subject(spec: AvatarSpec, rng: random.Random, lang: str) -> tuple[str, str, str]:
    """(word, grammatical gender m/f, English subject)."""
    fem = spec.gender == "female"
    if spec.archetype in _ARCHETYPES:
        w = _ARCHETYPES[spec.archetype][_LANG_COL[lang]]
        if isinstance(w, tuple):
            w = w[1] if fem else w[0]
        en = spec.archetype
    else:
        key = ("girl" if fem else "boy" if spec.gender == "male" else "child") if spec.age == "child" else \
            ("female" if fem else "male" if spec.gender == "male" else "person")
        w = rng.choice(_GENERIC[lang][key])
        en = {"female": "woman", "male": "man"}.get(key, key)
    g = "f" if (fem and lang != "de") or w in ("persona", "pessoa", "personne", "criança", "Person", "Figur",
                                                 "Frau", "Dame") else "m"
    if spec.age == "child" and spec.archetype in _ARCHETYPES:
        en = f"child {en}"
        w = {"zh": "小" + w, "ja": "子供の" + w}.get(lang, w)
    return w, g, en


@functools.cache
def colour_words() -> dict[str, tuple[str, ...]]:
    """language -> every colour word of the grammar in it (garment and hair colours, all forms); built once
    (the clause splitter asks on every Japanese prompt): do not mutate it."""
    out: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
    for lang in LANGUAGES:
        col = _LANG_COL[lang]
        for table in (_COLORS, _HAIR_COLORS):
            for forms in table.values():
                w = forms[col]
                out[lang].update(w if isinstance(w, tuple) else (w,))
        for more in _COLOR_MORE.get(lang, {}).values():
            for w in more:
                out[lang].update(w if isinstance(w, tuple) else (w,))
    return {lang: tuple(sorted(ws)) for lang, ws in out.items()}


@functools.cache
def garment_words(lang: str) -> tuple[str, ...]:
    """Every garment and accessory word of ``lang`` (zh and ja: the words themselves; others: the nouns)."""
    return tuple(w if isinstance(w, str) else w[0] for ws in _GARMENTS[lang].values() for w in ws)


def archetype_words(archetype: str) -> tuple[str, ...]:
    """Every word of ``archetype`` in the languages of the grammar (both genders' forms)."""
    out: list[str] = []
    for w in _ARCHETYPES.get(archetype, ()):
        out += w if isinstance(w, tuple) else (w,)
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------- captions
def _a(phrase: str) -> str:
    return ("an " if phrase[:1] in "aeiou" else "a ") + phrase


def _record_named(named: dict, spec: AvatarSpec, lang: str, body: list[str], keep_lower: bool, keep_head: bool,
                  keep_hair: bool, accs: list[str], colors: bool) -> None:
    """What a translated caption names (see :func:`translated_caption`). A child archetype is marked as a
    child in Chinese and Japanese only ("小海盗"), so elsewhere its age stays unnamed."""
    if spec.archetype in _ARCHETYPES:
        implied = {k: v for k, v in _implied(spec).items() if colors or not k.endswith("_color")}
        named.update(implied, subject=spec.archetype, implied=tuple(implied))
        if spec.age != "child" or lang in ("zh", "ja"):
            named["age"] = spec.age
    elif spec.age == "child":
        named.update(subject="child", age="child")
    else:
        named.update(subject="person", age="adult")
    named.update({k: getattr(spec, k) for k in ("height", "build") if getattr(spec, k) in body})
    named["upper"] = spec.upper
    if colors:
        named["upper_color"] = spec.upper_color
    if spec.upper_pattern in _PATTERNS:
        named["upper_pattern"] = spec.upper_pattern
    if keep_lower:
        named.update(lower=spec.lower, lower_pattern=spec.lower_pattern)
        if colors:
            named["lower_color"] = spec.lower_color
    if keep_head:
        named["headwear"] = spec.headwear
        if colors:
            named["headwear_color"] = spec.headwear_color
    if keep_hair:
        named.update(headwear="none", hair=spec.hair)
        if spec.hair != "none":
            named["hair_color"] = spec.hair_color
    if accs:
        named["accessories"] = tuple(sorted(set(accs) | set(named.get("accessories", ()))))
        if colors and any(a in ("cape", "backpack") for a in accs):
            named["accessory_color"] = spec.accessory_color


def translated_caption(spec: AvatarSpec, rng: random.Random, lang: str,
                       pieces: list[tuple[str, str]] | None = None, named: dict | None = None) -> tuple[str, str]:
    """(a caption of ``spec`` in ``lang``, the English caption naming the same attributes). ``pieces``, if
    given, receives (phrase, English phrase) for the caption's subject and each garment it names: what the
    prompt's clauses look like. ``named``, if given, receives the attributes the caption names, as
    ``nerf.synthetic.captions.caption(named=...)`` records them (recording draws nothing from ``rng``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: one of {', '.join(LANGUAGES)}")
    col = _LANG_COL[lang]
    subj, sg, en_subj = _subject(spec, rng, lang)
    body = [b for b in (spec.height, spec.build) if b in _BODY and rng.random() < 0.8]
    long_upper = spec.upper in ("robe", "dress")
    keep_lower = not long_upper and rng.random() < 0.7
    keep_head = spec.headwear != "none" and rng.random() < 0.8
    keep_hair = spec.headwear == "none" and rng.random() < 0.5
    accs = [a for a in spec.accessories if rng.random() < 0.7]
    colors = rng.random() < 0.85
    # the English twin, in the grammar's canonical words
    en_body = " ".join(body)
    pat = {"stripes": "striped", "plaid": "plaid", "checks": "checked"}.get(spec.upper_pattern, "")
    en_who = _a(f"{en_body + ' ' if en_body else ''}{en_subj}")
    en_up = _a(f"{spec.upper_color + ' ' if colors else ''}{pat + ' ' if pat else ''}{spec.upper}")
    lpat = {"stripes": "striped", "plaid": "plaid", "checks": "checked"}.get(spec.lower_pattern, "")
    en_low = f"{spec.lower_color + ' ' if colors else ''}{lpat + ' ' if lpat else ''}{spec.lower}"
    en_head = _a(f"{spec.headwear_color + ' ' if colors else ''}{spec.headwear}")
    en = [f"{en_who} in {en_up}"]
    if keep_lower:
        en.append(f"and {en_low}")
    if keep_head:
        en.append(f", {en_head}")
    if keep_hair:
        en.append(", bald" if spec.hair == "none" else f", with {spec.hair} {spec.hair_color} hair")
    if accs:
        en.append(", with " + " and ".join(_a(f"{spec.accessory_color} {a}") if colors and a in ("cape", "backpack")
                                            else a for a in accs))
    english = " ".join(en).replace(" ,", ",")
    if named is not None:
        _record_named(named, spec, lang, body, keep_lower, keep_head, keep_hair, accs, colors)

    def garment(value: str, color: str | None, pattern: str = "solid") -> str:
        w = rng.choice(_GARMENTS[lang][value])
        c = _color_word(lang, color, rng) if colors and color else None
        p = _PATTERNS[pattern][col] if pattern in _PATTERNS else None
        if lang in ("zh", "ja"):
            return f"{c or ''}{p or ''}{w}"
        word, g, pl = w
        if lang == "de":
            return " ".join([_de_colour(x, g, pl) for x in (p, c) if x] + [word])
        return " ".join(x for x in (_article(lang, g, pl), word, _adj(c, lang, g, pl) if c else "", p or "") if x)

    up = garment(spec.upper, spec.upper_color, spec.upper_pattern)
    low = garment(spec.lower, spec.lower_color, spec.lower_pattern) if keep_lower else None
    head = garment(spec.headwear, spec.headwear_color) if keep_head else None
    acc = [garment(a, spec.accessory_color if a in ("cape", "backpack") else None) for a in accs]
    if pieces is not None:
        pieces += [(up, en_up)] + ([(low, en_low)] if low else []) + ([(head, en_head)] if head else [])
    hair = None
    if keep_hair:
        hw, hc = _HAIR[lang][spec.hair], _HAIR_COLORS[spec.hair_color][col]
        if spec.hair == "none":
            hair = hw
        elif lang in ("zh", "ja"):
            hair = f"{hc}{hw}"
        elif lang == "de":
            hair = f"{hw.split()[0]} {hc} Haaren"
        else:
            hair = f"{hw} {hc}"
    if lang == "zh":
        b = "".join(_body_word(lang, x, rng).removesuffix("的") for x in body)
        b = b + "的" if b else ""
        wear = rng.choice(("穿着", "身穿", "穿")) + up + ("和" + low if low else "")
        extra = ("，戴着" + head if head else "") + ("，" + hair if hair else "") + \
            ("，带着" + "和".join(acc) if acc else "")
        pre = rng.choice(("一个", "一位", ""))
        text = rng.choice((f"{pre}{b}{subj}，{wear}{extra}", f"{pre}{wear}的{b}{subj}{extra}"))
    elif lang == "ja":
        b = "".join(_body_word(lang, x, rng) for x in body)
        parts = [up + ("と" + low if low else "") + "を着た"]
        if head:
            parts.append(head + "をかぶった")
        if acc:
            parts.append("と".join(acc) + "をつけた")
        if hair:
            parts.append(hair + "の")
        text = "、".join(parts) + b + subj
    elif lang in ("es", "pt", "fr"):
        bw = [_body_word(lang, x, rng, sg == "f") for x in body]
        conj = {"es": "y", "pt": "e", "fr": "et"}[lang]
        with_ = {"es": "con", "pt": "com", "fr": "avec"}[lang]
        art = {"es": {"m": "un", "f": "una"}, "pt": {"m": "um", "f": "uma"}, "fr": {"m": "un", "f": "une"}}[lang][sg]
        body_s = (" " + f" {conj} ".join(bw)) if bw else ""
        items = [up] + ([low] if low else []) + ([head] if head else []) + acc
        wear = ", ".join(items[:-1]) + (f" {conj} " if len(items) > 1 else "") + items[-1]
        text = f"{art} {subj}{body_s} {with_} {wear}" + (f", {with_} {hair}" if hair else "")
    else:  # de
        adj = {"tall": "groß", "short": "klein", "thin": "schlank", "stout": "dick"}
        bw = [rng.choice((adj[x], adj[x]) + _BODY_MORE["de"][x]) for x in body]
        items = [up] + ([low] if low else []) + ([head] if head else []) + acc
        wear = ", ".join(items[:-1]) + (" und " if len(items) > 1 else "") + items[-1]
        art = "eine" if sg == "f" and subj not in ("Kind", "Mädchen") else "ein"
        text = f"{art} {subj}" + (f", {' und '.join(bw)}," if bw else "") + f" mit {wear}"
        if hair:
            text += f", mit {hair}"
    return " ".join(text.split()), english


__all__ = ["LANGUAGES", "translated_caption", "garment_words", "colour_words", "archetype_words"]
