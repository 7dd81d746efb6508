"""Score distillation guidance on tiny random-init diffusers components saved in diffusers layout.

Nothing is downloaded: the UNet, VAE and text encoder are built from tiny configs, the
tokenizer from a 54-token character vocabulary.
"""
import json
import sys

import pytest
import torch

pytest.importorskip("diffusers")

from nerf.cameras import View  # noqa: E402
from nerf.fields import FieldConfig, make_field  # noqa: E402
from nerf.prior import BakedPrior  # noqa: E402
from nerf.render import RenderConfig, render_views  # noqa: E402
from nerf.template import TemplateParams  # noqa: E402
from pipeline.guidance import GuidanceConfig, make_guidance  # noqa: E402
from pipeline.inputs import InputError  # noqa: E402


def save_tiny_sd(root):
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
                         block_out_channels=(16, 32), norm_num_groups=8, cross_attention_dim=32,
                         attention_head_dim=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                         up_block_types=("UpBlock2D", "CrossAttnUpBlock2D")).save_pretrained(root / "unet")
    AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 16), norm_num_groups=8,
                  layers_per_block=1, down_block_types=("DownEncoderBlock2D",) * 2,
                  up_block_types=("UpDecoderBlock2D",) * 2, sample_size=16).save_pretrained(root / "vae")
    CLIPTextModel(CLIPTextConfig(vocab_size=60, hidden_size=32, intermediate_size=37, num_attention_heads=4,
                                 num_hidden_layers=2, max_position_embeddings=16, projection_dim=32,
                                 bos_token_id=0, eos_token_id=1, pad_token_id=1)).save_pretrained(root / "text_encoder")
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    vocab.update({c: i + 2 for i, c in enumerate(chars)})
    vocab.update({c + "</w>": i + 28 for i, c in enumerate(chars)})
    (root / "vocab.json").write_text(json.dumps(vocab))
    (root / "merges.txt").write_text("#version: 0.2\n")
    tok = CLIPTokenizer(str(root / "vocab.json"), str(root / "merges.txt"), model_max_length=16)
    tok.save_pretrained(root / "tokenizer")
    DDPMScheduler(num_train_timesteps=1000).save_pretrained(root / "scheduler")
    return root


@pytest.fixture(scope="module")
def sd_folder(tmp_path_factory):
    return save_tiny_sd(tmp_path_factory.mktemp("tiny-sd"))


def small_field():
    prior = BakedPrior.bake(TemplateParams.default("cpu"), 32)
    # colours unbounded, as when refinement starts from the neutral template: every channel takes gradient
    return make_field(FieldConfig(grid_resolution=8, max_color_shift=-1.0), prior)


def test_sds_gradient_reaches_the_field(sd_folder):
    from pipeline.guidance.config import SDSSettings

    field = small_field()
    # 16 px into the tiny VAE (factor 2)
    cfg = GuidanceConfig(kind="sds", sd_model=str(sd_folder), sds=SDSSettings(guidance_scale=7.5, latent_size=8))
    guidance = make_guidance(cfg, prompt="a red knight", generator=torch.Generator().manual_seed(0))
    render = RenderConfig(image_size=16, samples_per_ray=8, views_per_step=2)
    out = render_views(field, [View(0.2, 0.1), View(3.3, 0.0)], render, torch.rand(2, 16, 16, 3))
    loss, info = guidance.loss(out["rgb"], out["acc"])
    assert torch.isfinite(loss)
    loss.backward()
    grad = field.residual.grid.grad
    assert grad is not None and torch.isfinite(grad).all()
    assert grad.abs().sum() > 0
    assert grad[:, 1:].abs().sum() > 0  # colour channels, reached through the VAE encoder
    assert 20 <= info["sds_t"] <= 980 and info["sds_grad_norm"] > 0


def test_sds_without_a_folder_says_how_to_pass_one(tmp_path):
    with pytest.raises(InputError, match="--set guidance.sd_model"):
        make_guidance(GuidanceConfig(kind="sds"), prompt="a knight")
    with pytest.raises(InputError, match="is not a folder"):
        make_guidance(GuidanceConfig(kind="sds", sd_model=str(tmp_path / "nope")), prompt="a knight")
    (tmp_path / "unet").mkdir()
    with pytest.raises(InputError, match="lacks vae/"):
        make_guidance(GuidanceConfig(kind="sds", sd_model=str(tmp_path)), prompt="a knight")


def test_sds_cli_exit_code_for_a_missing_folder(tmp_path, capsys):
    from pipeline.cli import main

    code = main(["generate", "a knight", "--out", str(tmp_path / "k.glb"), "--preset", "tiny",
                 "--guidance", "sds", "--quiet"])
    assert code == 2
    assert "--sd-model" in capsys.readouterr().err
    code = main(["generate", "a knight", "--out", str(tmp_path / "k.glb"), "--preset", "tiny",
                 "--guidance", "sds", "--sd-model", str(tmp_path / "nope"), "--quiet"])
    assert code == 2
    assert "is not a folder" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_sds_settings_are_config_keys():
    from pipeline.config import resolve_config

    cfg = resolve_config("cpu", None, ["guidance.kind=sds", "guidance.sds.guidance_scale=7.5",
                                       "guidance.sds.t_max=0.5"])
    assert cfg.guidance.sds.guidance_scale == 7.5 and cfg.guidance.sds.t_max == 0.5


def test_missing_diffusers_gives_an_install_hint(sd_folder, monkeypatch):
    from pipeline.guidance.sds_guidance import SDComponents

    monkeypatch.setitem(sys.modules, "diffusers", None)
    with pytest.raises(ImportError, match=r"avatarforge\[diffusion\]"):
        SDComponents.load(str(sd_folder), torch.device("cpu"))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_sds_on_cuda_in_half_precision(sd_folder):
    from pipeline.guidance.config import SDSSettings

    prior = BakedPrior.bake(TemplateParams.default("cpu"), 32)
    field = make_field(FieldConfig(grid_resolution=8, max_color_shift=-1.0), prior, "cuda")
    cfg = GuidanceConfig(kind="sds", sd_model=str(sd_folder))
    guidance = make_guidance(cfg, prompt="a red knight", device="cuda")
    assert guidance.dtype == torch.float16
    guidance.settings = SDSSettings(latent_size=8)
    out = render_views(field, [View(0.2, 0.1)], RenderConfig(image_size=16, samples_per_ray=8),
                       torch.rand(1, 16, 16, 3, device="cuda"))
    loss, _ = guidance.loss(out["rgb"], out["acc"])
    loss.backward()
    grad = field.residual.grid.grad
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
