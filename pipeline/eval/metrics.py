"""Evaluation metrics shared by ``scripts/train_clip.py`` and ``avatarforge eval``.

* zero-shot attribute classification (CLIP's prompt-ensemble-free variant);
* image->text and text->image recall@k;
* CLIP R-precision (DreamFields): each generated avatar's renders must retrieve its own
  prompt among all prompts of the file;
* a paired comparison of two R-precision rows over the same prompts (exact McNemar test).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from nerf.synthetic.captions import attribute_prompts

ZERO_SHOT_ATTRIBUTES = ("upper_color", "upper", "headwear", "archetype", "height", "build")


def zero_shot_accuracy(image_feats: Tensor, specs: list[dict], encode_text) -> dict[str, dict]:
    """Per-attribute zero-shot accuracy.

    Args:
        image_feats: Float[N, D] normalised features of held-out renders.
        specs: the N avatar specs (dicts) the renders came from.
        encode_text: callable list[str] -> Float[M, D] normalised features.
    """
    out = {}
    for attr in ZERO_SHOT_ATTRIBUTES:
        prompts = attribute_prompts(attr)
        names = list(prompts)
        keep = [i for i, s in enumerate(specs) if s.get(attr) in prompts and
                not (attr == "height" and s.get("age") == "child")]
        if not keep:
            continue
        tf = encode_text([prompts[n] for n in names]).to(image_feats)
        pred = (image_feats[keep] @ tf.T).argmax(-1).cpu().numpy()
        truth = np.array([names.index(specs[i][attr]) for i in keep])
        out[attr] = {"accuracy": float((pred == truth).mean()), "n": len(keep), "classes": len(names)}
    return out


def recall_at_k(image_feats: Tensor, text_feats: Tensor, ks=(1, 5)) -> dict[str, float]:
    """Recall@k for paired rows (image i belongs with text i), both directions."""
    sim = image_feats @ text_feats.T
    n = sim.shape[0]
    target = torch.arange(n)
    res = {}
    for direction, s in (("image_to_text", sim), ("text_to_image", sim.T)):
        rank = (s > s[target, target][:, None]).sum(-1)  # how many beat the right one
        for k in ks:
            res[f"{direction}_r@{k}"] = float((rank < k).float().mean())
    return res


def retrieved_prompts(view_feats: Tensor, prompt_feats: Tensor) -> Tensor:
    """Long[N]: the prompt each avatar's mean view feature is closest to.

    Args:
        view_feats: Float[N, V, D] normalised features of V renders of each of N avatars.
        prompt_feats: Float[P, D] normalised features of the prompts.
    """
    img = F.normalize(view_feats.mean(1), dim=-1)
    return (img @ prompt_feats.T).argmax(-1)


def r_precision(retrieved: Tensor) -> float:
    """CLIP R-precision (R=1): the fraction of avatars whose retrieved prompt (``retrieved_prompts``)
    is their own."""
    return float((retrieved == torch.arange(len(retrieved))).float().mean())


def paired_comparison(before: list[int], after: list[int]) -> dict:
    """How a second R-precision row over the same prompts differs from a first, prompt by prompt.

    ``before`` / ``after``: the prompt each avatar retrieved (``out["retrieved"][row]`` of ``avatarforge
    eval``); avatar i is right when it retrieved i. Returns ``fixed`` (wrong before, right after), ``lost``
    (the reverse) and ``p_value``: the exact two-sided McNemar test, the chance of a split at least this
    uneven among the ``fixed + lost`` discordant prompts if neither row were better (1.0 when none differ).
    At 120 prompts a difference of one or two prompts is well within noise.
    """
    if len(before) != len(after):
        raise ValueError(f"rows of different lengths: {len(before)} and {len(after)} prompts")
    right_b = [r == i for i, r in enumerate(before)]
    right_a = [r == i for i, r in enumerate(after)]
    fixed = sum(a and not b for a, b in zip(right_a, right_b))
    lost = sum(b and not a for a, b in zip(right_a, right_b))
    n = fixed + lost
    tail = sum(math.comb(n, k) for k in range(min(fixed, lost) + 1)) / 2**n
    return {"fixed": fixed, "lost": lost, "p_value": min(1.0, 2 * tail)}
