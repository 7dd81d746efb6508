"""The trained fusion MLP + shape generator on its own (``generate --steps 0``): text steers
proportions, and a reference image decides the outfit's colours when the prompt names none."""
import numpy as np
import pytest
from meshcheck import load_mesh, proportions, torso_color
from PIL import Image

from nerf.artifacts import REGIONS
from pipeline.config import resolve_config

AMORTISED = ["optim.steps=0"]


@pytest.fixture(scope="module")
def forge():
    from pipeline.generate import AvatarForge

    forge = AvatarForge(resolve_config("tiny"))
    assert forge.amortised.trained, "the shipped generator weights did not load"
    return forge


def fabric(tmp_path, rgb, name) -> str:
    """A user-style reference: a noisy, striped fabric dominated by ``rgb``."""
    rng = np.random.default_rng(0)
    img = np.array(rgb, float)[None, None] + rng.normal(0, 18, (96, 96, 3))
    img[::12] *= 0.7  # darker weave lines
    path = tmp_path / name
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return str(path)


def amortised_params(forge, prompt: str):
    """The generator's TemplateParams for ``prompt`` (what ``--steps 0`` decodes), no field built."""
    return forge.amortised_template(prompt, resolve_config("tiny")).params


def dominance(rgb, channel: int) -> float:
    """How far ``channel`` of an RGB colour exceeds the larger of the other two."""
    return rgb[channel] - max(c for i, c in enumerate(rgb) if i != channel)


def test_text_alone_sets_proportions(forge, tmp_path):
    cfg = resolve_config("tiny", None, AMORTISED)
    tall = forge.generate("a very tall thin person", tmp_path / "tall.glb", cfg)
    short = forge.generate("a short stout person", tmp_path / "short.glb", cfg)
    t, s = tall.sidecar_data["template"]["shape"], short.sidecar_data["template"]["shape"]
    assert t["height"] > s["height"] + 0.2, (t, s)
    assert t["girth"] < s["girth"] - 0.2, (t, s)
    h_tall, r_tall = proportions(load_mesh(tall.glb))
    h_short, r_short = proportions(load_mesh(short.glb))
    # on the GLB meshes (the anny body): 15% taller, and 10% slimmer for the height (issue 29's acceptance)
    assert h_tall > 1.15 * h_short and r_tall > 1.1 * r_short, (h_tall, h_short, r_tall, r_short)


@pytest.mark.parametrize("rgb,channel", [((205, 25, 30), 0), ((30, 45, 210), 2)])
def test_reference_colour_wins_when_the_prompt_names_none(forge, tmp_path, rgb, channel):
    cfg = resolve_config("tiny", None, AMORTISED)
    ref = fabric(tmp_path, rgb, "ref.png")
    res = forge.generate("a person wearing a shirt and trousers", tmp_path / "a.glb", cfg, image=ref)
    assert res.sidecar_data["reference"]["source"] == ref
    # the generator itself takes the colour from the image (not only the texturer's swatch ranking)
    upper = res.sidecar_data["template"]["colors"]["upper"]
    assert int(np.argmax(upper)) == channel, upper
    col = torso_color(load_mesh(res.glb))
    assert dominance(col, channel) > 40, col
    # without the reference the same prompt is not dominated by that colour
    plain = forge.generate("a person wearing a shirt and trousers", tmp_path / "b.glb",
                           resolve_config("tiny", None, [*AMORTISED, "reference.use_library=false"]))
    base = torso_color(load_mesh(plain.glb))
    assert dominance(col, channel) > dominance(base, channel) + 40, (col, base)


def test_each_colour_goes_to_the_garment_it_is_named_with(forge):
    """Three colours over three garments in every order: the whole-prompt embedding alone knows
    which colours occur but not where (the generator before clause features placed 44 of these
    108 colours right, most of them on the upper garment; with a pooled clause code, 70; with each
    clause voting for a (region, colour) pair, 108)."""
    from itertools import permutations

    from nerf.synthetic.avatar_spec import COLORS

    cfg = resolve_config("tiny")
    right = total = 0
    for colors in (("red", "green", "blue"), ("yellow", "purple", "white"), ("black", "orange", "pink")):
        for template in ("a person wearing a {} shirt and {} trousers and a {} hat",
                         "a woman in a {} jacket and {} shorts and a {} helmet"):
            for named in permutations(colors):
                av = forge.amortised_template(template.format(*named), cfg)
                text, params = av.text, av.params
                assert len(text.clauses) == 4, text.clauses
                for region, name in zip(("upper", "lower", "headwear"), named):
                    # decoded colours are palette entries
                    right += np.allclose(params.colors[REGIONS.index(region)].tolist(), COLORS[name][0], atol=1e-3)
                    total += 1
    assert right / total >= 0.95, (right, total)


def test_each_height_and_build_word_lands_on_its_class(forge):
    """Every height and build word of the caption grammar, on several subjects and outfits, gives
    the proportion of its class (nearest of ``HEIGHT_M`` / ``BUILD_W``), not a compromise: the
    generator that regressed the proportions put "a tall doctor in a white robe with short brown
    hair" at 1.68 m, nearer average (1.72) than tall (1.92); 8 of these 56 missed."""
    from nerf.synthetic.avatar_spec import BUILD_W, HEIGHT_M
    from nerf.synthetic.vocabulary import BUILD_WORDS, HEIGHT_WORDS

    outfits = ("a {} person in a red shirt and blue trousers", "a {} knight in a silver armour",
               "a {} doctor in a white robe with short brown hair", "a {} woman in a green dress and a gold crown")
    wrong = []
    for dim, classes, words in ((0, HEIGHT_M, HEIGHT_WORDS), (1, BUILD_W, BUILD_WORDS)):
        for cls, synonyms in words.items():
            for word in synonyms:
                for outfit in outfits:
                    got = float(amortised_params(forge, outfit.format(word)).shape[dim])
                    if min(classes, key=lambda k: abs(classes[k] - got)) != cls:
                        wrong.append((outfit.format(word), round(got, 3)))
    total = sum(len(s) for w in (HEIGHT_WORDS, BUILD_WORDS) for s in w.values()) * len(outfits)
    assert len(wrong) <= total // 20, (len(wrong), total, wrong)


def test_a_bare_subject_is_an_adult_of_average_height(forge):
    """What users type first: "a knight". The generator that regressed the proportions drew a
    child for it (1.29 m, a child's head), and for a bare wizard, king, ninja or soldier too."""
    from nerf.synthetic.avatar_spec import ARCHETYPES, HEIGHT_M, AvatarSpec
    from nerf.template import shape_from_spec

    child_head = shape_from_spec(AvatarSpec(age="child"))[2]
    for subject in (*ARCHETYPES, "person", "man", "woman"):
        shape = amortised_params(forge, f"a {subject}").shape
        assert float(shape[2]) < child_head - 0.1, (subject, shape)
        assert abs(float(shape[0]) - HEIGHT_M["average"]) < 0.1, (subject, shape)
    for subject in ("a kid", "a little kid", "a child"):
        shape = amortised_params(forge, subject).shape
        assert float(shape[2]) == pytest.approx(child_head), (subject, shape)


def test_a_prompt_that_names_nothing_gets_plain_neutral_clothing_whatever_the_seed(forge):
    """Issue 30: "a person" gets a shirt and trousers in neutral colours, not a random robe or crown; and no library
    swatch colours it (the library reference is only for prompts that name a colour or material)."""
    import dataclasses

    import torch

    from nerf.generator import NEUTRAL_COLORS
    from nerf.synthetic.avatar_spec import COLORS
    from nerf.template import R

    neutral = torch.tensor([COLORS[c][0] for c in NEUTRAL_COLORS])
    cfg = resolve_config("tiny")
    for prompt in ("a person", "someone", "a character"):
        for seed in range(4):
            av = forge.amortised_template(prompt, dataclasses.replace(cfg, seed=seed))
            assert av.image.embedding is None and "names no colour" in av.image.source
            lay = av.params.layout
            assert (lay.upper, lay.lower, lay.headwear, lay.accessories) == ("shirt", "trousers", "none", ()), lay
            cols = av.params.colors.detach().float().cpu()[[R["upper"], R["lower"]]]
            assert (torch.cdist(cols, neutral).min(-1).values < 1e-3).all(), (prompt, seed, cols)
    assert forge.amortised_template("a knight in a red tunic", cfg).image.source.startswith("library:")
