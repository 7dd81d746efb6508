"""Contrastive guidance: the prompt's counterfactuals, and a term that really separates the prompt from them."""
import pytest
import torch

from pipeline.encoders.clip_encoder import ClipEncoder
from pipeline.guidance import GuidanceConfig, make_guidance
from pipeline.guidance.contrast import counterfactual_prompts


def test_counterfactuals_swap_height_and_build_and_nothing_else():
    assert counterfactual_prompts("a video game very tall very thin soldier in a green jacket") == [
        "a video game very tall stout soldier in a green jacket",
        "a video game short very thin soldier in a green jacket",
        "a video game short stout soldier in a green jacket",
    ]
    # "tall hat" and "short pants" are garments, not the body
    assert counterfactual_prompts("a Stout wizard in a purple tall hat and short pants") == [
        "a thin wizard in a purple tall hat and short pants"]
    assert counterfactual_prompts("a kid in short pants and a tall hat") == []
    assert counterfactual_prompts("a knight in red armour") == []
    assert counterfactual_prompts("a thin-lipped knight") == []  # part of another word


@pytest.fixture(scope="module")
def encoder():
    return ClipEncoder.load()


def _prompt_probability(encoder, guidance, images: torch.Tensor) -> float:
    """Mean p(prompt | prompt + counterfactuals) of views Float[V,S,S,3] under the guidance model."""
    with torch.no_grad():
        f = encoder.encode_image_tensor(images.permute(0, 3, 1, 2))
        return float(torch.softmax(encoder.logit_scale * f @ guidance.classes.T, dim=-1)[:, 0].mean())


def _optimise(encoder, prompt: str, weight: float, steps: int = 5) -> tuple[float, float]:
    """Views optimised from grey against ``prompt`` with ``contrast_weight=weight``: (p before, p after) of
    the prompt among its counterfactuals, as the contrastive guidance's classes define them."""
    text = encoder.encode_text_tensor([prompt])[0]
    probe = make_guidance(GuidanceConfig(contrast_weight=1.0), encoder=encoder, text=text, prompt=prompt)
    guidance = make_guidance(GuidanceConfig(contrast_weight=weight, transmittance_weight=0.0), encoder=encoder,
                             text=text, prompt=prompt, generator=torch.Generator().manual_seed(0))
    images = torch.full((2, encoder.image_size, encoder.image_size, 3), 0.5, requires_grad=True)
    opt = torch.optim.Adam([images], lr=0.02)
    before = _prompt_probability(encoder, probe, images.detach())
    for _ in range(steps):
        loss, _ = guidance.loss(images.clamp(0, 1), torch.ones(2, encoder.image_size, encoder.image_size))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return before, _prompt_probability(encoder, probe, images.detach().clamp(0, 1))


def test_contrastive_guidance_separates_the_prompt_from_its_counterfactuals_more_than_cosine(encoder):
    prompt = "a very tall very thin soldier in a green jacket and green trousers"
    before, plain = _optimise(encoder, prompt, 0.0)
    _, contrast = _optimise(encoder, prompt, 3.0)
    # cosine alone also raises it (the prompt's own features differ from the counterfactuals' a little),
    # in the same five steps contrast raises it much further (0.16 -> 0.72 plain, 0.97 contrast)
    assert contrast > before + 0.5 and contrast > plain + 0.1, (before, plain, contrast)


def test_no_counterfactuals_no_contrast_term(encoder):
    text = encoder.encode_text_tensor(["a knight in red armour"])[0]
    g = make_guidance(GuidanceConfig(contrast_weight=3.0), encoder=encoder, text=text, prompt="a knight in red armour")
    assert g.classes is None
    g = make_guidance(GuidanceConfig(contrast_weight=0.0), encoder=encoder, text=text, prompt="a thin knight")
    assert g.classes is None
    with pytest.raises(ValueError, match="contrast_weight"):
        GuidanceConfig(contrast_weight=-1).check()


def test_the_sidecar_names_what_refinement_contrasted_with(tmp_path):
    from pipeline.config import resolve_config
    from pipeline.generate import AvatarForge

    cfg = resolve_config("tiny", None, ["optim.steps=2", "optim.patience=0", "guidance.contrast_weight=3"])
    forge = AvatarForge(cfg)
    _, _, _, _, opt = forge.build_field("a short stout wizard in a purple robe", cfg)
    assert opt["contrasted_with"] == ["a tall thin wizard in a purple robe", "a tall stout wizard in a purple robe",
                                      "a short thin wizard in a purple robe"]
    _, _, _, _, opt = forge.build_field("a wizard in a purple robe", cfg)
    assert "contrasted_with" not in opt
