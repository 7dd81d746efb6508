"""The views ``avatarforge eval`` scores, kept in a file so other evaluators can score the same avatars.

Generating and refining 120 avatars takes minutes to an hour on a CPU; scoring their views takes
seconds. Comparing two evaluators on one set of renders also removes the run-to-run noise of
refinement from the comparison. Safetensors: one Float[N, V, H, W, 3] tensor per row (``ceiling``,
``amortised``, ...), the prompts and the render settings in the metadata.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from texture.atomic import atomic_write_bytes


def prompts_digest(prompts: list[str]) -> str:
    return hashlib.sha256("\n".join(prompts).encode()).hexdigest()


def write_renders(path: str | Path, images: dict[str, torch.Tensor], prompts: list[str], info: dict) -> None:
    from safetensors.torch import save

    meta = {"prompts_sha256": prompts_digest(prompts), "n_prompts": str(len(prompts)), "info": json.dumps(info)}
    atomic_write_bytes(path, save({k: v.contiguous().float() for k, v in images.items()}, metadata=meta))


def load_renders(path: str | Path, prompts: list[str]) -> tuple[dict[str, torch.Tensor], dict]:
    """The rows and info ``write_renders`` stored, checked against the prompts they will be scored on."""
    from safetensors import safe_open

    from pipeline.inputs import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"--renders {str(path)!r} not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            images = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # noqa: BLE001 - a truncated or foreign file
        raise InputError(f"--renders {str(path)!r} is not a safetensors file of renders: {e}") from e
    if "prompts_sha256" not in meta or "info" not in meta:
        raise InputError(f"--renders {str(path)!r} was not written by `avatarforge eval --save-renders`")
    if meta["prompts_sha256"] != prompts_digest(prompts):
        raise InputError(f"--renders {str(path)!r} holds avatars of {meta.get('n_prompts')} other prompts; "
                         "pass the --prompts (and --limit) it was made with")
    return images, json.loads(meta["info"])
