"""The shipped embedded model loads offline, ranks the right caption first, and refuses bad weights."""
import json

import pytest
import torch

from nerf.cameras import View
from nerf.synthetic.avatar_spec import AvatarSpec
from nerf.synthetic.surface_render import Lighting, render_template
from nerf.template import TemplateParams
from pipeline.encoders import models as clip_models
from pipeline.encoders.clip_encoder import ClipEncoder
from pipeline.encoders.models import WeightsError


@pytest.fixture(scope="module")
def enc():
    return ClipEncoder.load()


AVATARS = {
    "a person wearing a red shirt and blue trousers": AvatarSpec(upper_color="red", lower_color="blue"),
    "a person wearing a green jacket and black trousers": AvatarSpec(upper="jacket", upper_color="green"),
    "a wizard in a purple robe and a purple hat": AvatarSpec(upper="robe", upper_color="purple", headwear="hat",
                                                             headwear_color="purple", archetype="wizard"),
    "a knight in silver armour and a silver helmet": AvatarSpec(upper="armour", upper_color="silver",
                                                                headwear="helmet", headwear_color="silver",
                                                                archetype="knight"),
    "a person in a yellow dress": AvatarSpec(upper="dress", upper_color="yellow"),
}


def test_right_caption_outranks_the_others(enc):
    captions = list(AVATARS)
    text = enc.encode_text_tensor(captions)
    views = [View(0.3, 0.1), View(2.8, 0.2)]
    for i, spec in enumerate(AVATARS.values()):
        imgs = render_template(TemplateParams.from_spec(spec), views, 64,
                               torch.full((2, 64, 64, 3), 0.85), Lighting(ambient=0.8))
        f = enc.encode_image_tensor(imgs.permute(0, 3, 1, 2)).mean(0)
        sims = text @ f
        assert int(sims.argmax()) == i, (captions[i], sims.tolist())


def test_paraphrases_land_near_their_meaning(enc):
    t = enc.encode_text_tensor(["a crimson tunic", "a scarlet tunic", "a blue hat"])
    assert float(t[0] @ t[1]) > float(t[0] @ t[2])


def test_corrupt_and_mismatched_weights_are_refused(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64 + b"not a safetensors file")
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        ClipEncoder.load(clip_models.DEFAULT_MODEL, str(bad))
    # the evaluator's weights do not fit the default architecture
    with pytest.raises(WeightsError, match="does not match"):
        ClipEncoder.load(clip_models.DEFAULT_MODEL, str(clip_models.WEIGHT_FILES[clip_models.EVALUATOR_MODEL]))


TINY_CFG = {"embed_dim": 32, "vision_cfg": {"image_size": 32, "patch_size": 16, "width": 32, "layers": 1,
                                            "head_width": 16},
            "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}


def test_real_open_clip_path_loads_a_local_checkpoint(tmp_path):
    import open_clip
    from safetensors.torch import save_file

    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "afg-test-tiny.json").write_text(json.dumps(TINY_CFG))
    open_clip.add_model_config(tmp_path / "cfg")
    model = open_clip.create_model("afg-test-tiny")
    ckpt = tmp_path / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(ckpt))
    enc = ClipEncoder.load("afg-test-tiny", str(ckpt))
    f = enc.encode_texts(["a knight"])
    assert f.shape == (1, 32)
    img = enc.encode_image_tensor(torch.rand(1, 3, 64, 64))
    assert img.shape == (1, 32)
    # a checkpoint of another architecture is refused by name
    with pytest.raises(WeightsError, match="does not match"):
        ClipEncoder.load("afg-test-tiny", str(clip_models.WEIGHT_FILES[clip_models.DEFAULT_MODEL]))


def test_hub_weights_offline_say_how_to_pass_a_file(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsError, match="HF_HUB_OFFLINE is set.*--clip-pretrained /path/to"):
        ClipEncoder.load("RN50", "openai")


def test_the_cli_stays_offline_unless_asked_for_hub_weights(tmp_path):
    from pipeline.cli.main import _asks_for_hub_weights, build_parser

    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"")
    parse = build_parser().parse_args
    assert not _asks_for_hub_weights(parse(["generate", "a knight"]))
    assert not _asks_for_hub_weights(parse(["generate", "a knight", "--clip-model", "ViT-B-16",
                                            "--clip-pretrained", str(weights)]))
    assert _asks_for_hub_weights(parse(["generate", "a knight", "--clip-model", "ViT-B-16",
                                        "--clip-pretrained", "openai"]))
    assert _asks_for_hub_weights(parse(["batch", "p.txt", "--out-dir", "o", "--set", "model.clip_pretrained=openai"]))
    assert not _asks_for_hub_weights(parse(["config"]))
    yaml_file, sidecar = tmp_path / "hub.yaml", tmp_path / "avatar.json"
    yaml_file.write_text("model:\n  clip_model: ViT-B-16\n  clip_pretrained: openai\n")
    sidecar.write_text(json.dumps({"prompt": "a knight", "config": {"model": {"clip_pretrained": "openai"}}}))
    for f in (yaml_file, sidecar):  # the tag can come from a --config file, a sidecar's config included
        assert _asks_for_hub_weights(parse(["generate", "a knight", "--config", str(f)]))
    yaml_file.write_text(f"model:\n  clip_pretrained: {weights}\n")
    assert not _asks_for_hub_weights(parse(["generate", "a knight", "--config", str(yaml_file)]))
    assert not _asks_for_hub_weights(parse(["generate", "a knight", "--config", str(tmp_path / "missing.yaml")]))


def test_unknown_model_name_suggests_close_ones():
    with pytest.raises(ValueError, match="ViT-B-16"):
        ClipEncoder.load("ViT-B-61", None)


@pytest.mark.slow
def test_open_clip_import_skips_the_wandb_probe_only_while_importing():
    """timm's ``try: import wandb`` is answered "not installed" during the import (seconds saved
    per process) and wandb stays importable afterwards."""
    import subprocess
    import sys

    code = ("import sys; from pipeline.encoders.models import import_open_clip; import_open_clip(); "
            "assert 'open_clip' in sys.modules and 'wandb' not in sys.modules, sorted(sys.modules)[:5]; "
            "import importlib.util; assert importlib.util.find_spec('wandb') is not None")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
