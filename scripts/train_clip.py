#!/usr/bin/env python
"""Train an embedded CLIP-style model on the synthetic corpus (InfoNCE, learnable temperature).

    python scripts/make_corpus.py --out data/corpus            # once
    python scripts/train_clip.py --model avatarforge-vit16-minilm --templates train --seed 0
    python scripts/train_clip.py --model avatarforge-eval-vit8-minilm --templates evaluator --seed 1

The text tower is the pretrained all-MiniLM-L6-v2, locked (LiT): its pooled outputs are
computed once per caption and cached, and only the image tower, the text projection and
the logit scale train. ``--text-tower scratch`` trains a small open_clip text transformer
from scratch instead, for the comparison the model card reports.

Writes the safetensors weights (fp16, without the locked text tower), a JSON log of
losses and metrics, and a model card next to the weights.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nerf.synthetic.corpus import refresh_captions  # noqa: E402
from pipeline.encoders import models as clip_models  # noqa: E402
from pipeline.eval.metrics import recall_at_k, zero_shot_accuracy  # noqa: E402
from texture.library.swatches import refresh_swatch_captions  # noqa: E402

SCRATCH = "avatarforge-vit16-scratchtext"


def load_corpus(folder: Path):
    images = np.load(folder / "images.npy", mmap_mode="r")
    metas = [json.loads(line) for line in open(folder / "meta.jsonl")]
    n, k = refresh_captions(metas), refresh_swatch_captions(metas)
    print(f"captioned {n} avatars and {k} swatches with today's grammar and held-out rule", flush=True)
    return images, metas


class TextBank:
    """Pooled (pre-projection) locked-tower features of every caption, computed once and cached."""

    def __init__(self, model, captions: list[str], cache: Path):
        self.index = {c: i for i, c in enumerate(sorted(set(captions)))}
        known: dict[str, torch.Tensor] = {}
        if cache.exists():
            blob = torch.load(cache, weights_only=True)
            known = dict(zip(blob["captions"], blob["feats"]))
        todo = [c for c in self.index if c not in known]
        if todo:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(str(clip_models.minilm_dir()))
            t0 = time.time()
            with torch.no_grad():
                for i in range(0, len(todo), 512):
                    enc = tok(todo[i:i + 512], padding="max_length", truncation=True,
                              max_length=clip_models.CONTEXT_LENGTH, return_tensors="pt")
                    ids = enc["input_ids"]
                    mask = (ids != model.text.config.pad_token_id).long()
                    out = model.text.transformer(input_ids=ids, attention_mask=mask)
                    pooled = model.text.pooler(out, mask)
                    known.update(zip(todo[i:i + 512], pooled))
            print(f"encoded {len(todo)} captions with the locked tower in {time.time() - t0:.0f}s", flush=True)
            allc = list(known)
            tmp = cache.with_suffix(".tmp")
            torch.save({"captions": allc, "feats": torch.stack([known[c] for c in allc])}, tmp)
            tmp.replace(cache)
        self.feats = torch.stack([known[c] for c in self.index])

    def __call__(self, caps: list[str]) -> torch.Tensor:
        return self.feats[[self.index[c] for c in caps]]


def scratch_config() -> dict:
    cfg = dict(clip_models.EMBEDDED_CONFIGS[clip_models.DEFAULT_MODEL])
    cfg = json.loads(json.dumps(cfg))
    cfg["text_cfg"] = {"context_length": clip_models.CONTEXT_LENGTH, "vocab_size": 49408, "width": 192,
                       "heads": 3, "layers": 3}
    return cfg


def augment(x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """Random shift/zoom (small, so size still means height) and horizontal flips. x: Float[B,3,H,W]."""
    b = x.shape[0]
    s = 1 + (torch.rand(b, generator=rng) - 0.5) * 0.1
    tx = (torch.rand(b, generator=rng) - 0.5) * 0.16
    ty = (torch.rand(b, generator=rng) - 0.5) * 0.08
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = s
    theta[:, 1, 1] = s
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    flip = torch.rand(b, generator=rng) < 0.5
    theta[flip, 0, 0] *= -1
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def evaluate(model, images, metas, enc_text, enc_img, max_n: int = 1200) -> dict:
    test = [i for i, m in enumerate(metas) if m["split"] == "test" and m["kind"] == "avatar"]
    seen, pairs = set(), []
    for i in test:  # one view per avatar for retrieval
        if metas[i]["avatar"] not in seen:
            seen.add(metas[i]["avatar"])
            pairs.append(i)
    pairs = pairs[:max_n]
    test = test[: max_n * 2]
    with torch.no_grad():
        feats = enc_img(test)
        zs = zero_shot_accuracy(feats, [metas[i]["spec"] for i in test], enc_text)
        pf = enc_img(pairs)
        tf = enc_text([metas[i]["captions"]["heldout"][0] for i in pairs])
        rec = recall_at_k(pf, tf)
    model.train()
    return {"zero_shot": zs, "retrieval": rec, "n_retrieval": len(pairs), "n_zero_shot": len(test)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    ap.add_argument("--model", default=clip_models.DEFAULT_MODEL,
                    choices=[*clip_models.EMBEDDED_CONFIGS, SCRATCH])
    ap.add_argument("--templates", default="train", choices=["train", "evaluator"],
                    help="caption template group to learn from (the evaluator uses a disjoint one)")
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--out", type=Path, default=None, help="weights file (default: the shipped asset path)")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    rng = torch.Generator().manual_seed(a.seed)
    out = a.out or clip_models.ASSETS / f"{a.model}.safetensors"
    images, metas = load_corpus(a.corpus)
    train = [i for i, m in enumerate(metas) if m["split"] == "train"]
    by_avatar: dict = {}
    for i in train:
        key = ("a", metas[i]["avatar"]) if metas[i]["kind"] == "avatar" else ("s", i)
        by_avatar.setdefault(key, []).append(i)
    groups = list(by_avatar.values())
    scratch = a.model == SCRATCH
    if scratch:
        import open_clip

        folder = Path(clip_models.tempfile.mkdtemp())
        (folder / f"{SCRATCH}.json").write_text(json.dumps(scratch_config()))
        open_clip.add_model_config(folder)
        model = open_clip.create_model(SCRATCH)
        tokenizer = open_clip.get_tokenizer(SCRATCH)
        tokenizer.context_length = clip_models.CONTEXT_LENGTH
        bank = None
    else:
        model = clip_models.build_embedded(a.model)
        model.text.lock(unlocked_layers=0, freeze_layer_norm=True)
        caps = [c for i in train for c in metas[i]["captions"][a.templates]]
        caps += [metas[i]["captions"]["heldout"][0] for i, m in enumerate(metas) if m["split"] == "test"]
        bank = TextBank(model, caps, a.corpus / f"minilm_pooled_{a.templates}.pt")
    mean = torch.tensor(model.visual.preprocess_cfg["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(model.visual.preprocess_cfg["std"]).view(1, 3, 1, 1)

    def to_tensor(idx):
        x = torch.from_numpy(np.stack([images[i] for i in idx])).permute(0, 3, 1, 2).float() / 255
        return x

    def text_feats(caps, grad: bool):
        if scratch:
            return model.encode_text(tokenizer(caps))
        pooled = bank(caps)
        return model.text.proj(pooled)

    def enc_text_eval(caps):
        with torch.no_grad():
            if scratch:
                return F.normalize(model.encode_text(tokenizer(caps)), dim=-1)
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(str(clip_models.minilm_dir()))
            ids = tok(caps, padding="max_length", truncation=True, max_length=clip_models.CONTEXT_LENGTH,
                      return_tensors="pt")["input_ids"]
            return F.normalize(model.encode_text(ids), dim=-1)

    def enc_img_eval(idx):
        model.eval()
        fs = []
        with torch.no_grad():
            for k in range(0, len(idx), 256):
                fs.append(F.normalize(model.encode_image((to_tensor(idx[k:k + 256]) - mean) / std), dim=-1))
        return torch.cat(fs)

    params = [p for p in model.parameters() if p.requires_grad]
    print(f"model {a.model}: {sum(p.numel() for p in params) / 1e6:.2f}M trainable parameters, "
          f"{len(train)} train images in {len(groups)} groups", flush=True)
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.98), eps=1e-6)
    warm = min(200, a.steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / (a.steps - warm))))
    log = {"args": {k: str(v) for k, v in vars(a).items()}, "loss": [], "evals": []}
    model.train()
    t0 = time.time()
    for step in range(a.steps):
        picks = random.sample(range(len(groups)), a.batch)
        idx = [random.choice(groups[g]) for g in picks]
        caps = [random.choice(metas[i]["captions"][a.templates]) for i in idx]
        x = augment(to_tensor(idx), rng)
        img = F.normalize(model.encode_image((x - mean) / std), dim=-1)
        txt = F.normalize(text_feats(caps, True), dim=-1)
        logits = model.logit_scale.exp() * img @ txt.T
        # captions shared by several images in the batch are all positives
        same = torch.tensor([[c == d for d in caps] for c in caps], dtype=torch.float32)
        target = same / same.sum(-1, keepdim=True)
        loss = 0.5 * (torch.sum(-target * F.log_softmax(logits, -1), -1).mean()
                      + torch.sum(-target * F.log_softmax(logits.T, -1), -1).mean())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        log["loss"].append(round(loss.item(), 4))
        if step % 50 == 0:
            print(f"step {step} loss {loss.item():.3f} T={1 / model.logit_scale.exp().item():.3f} "
                  f"{(time.time() - t0) / (step + 1):.2f}s/step", flush=True)
        if (step + 1) % a.eval_every == 0 or step + 1 == a.steps:
            ev = evaluate(model, images, metas, enc_text_eval, enc_img_eval)
            ev["step"] = step + 1
            log["evals"].append(ev)
            print(json.dumps(ev), flush=True)
    log["train_seconds"] = round(time.time() - t0, 1)
    log["final"] = log["evals"][-1]
    if not scratch:
        clip_models.save_embedded(model, out, {"model": a.model, "seed": a.seed, "steps": a.steps,
                                               "templates": a.templates})
        print(f"saved {out} ({out.stat().st_size / 1e6:.1f} MB)")
    logp = (out.parent if not scratch else Path("runs")) / f"{a.model}.train.json"
    logp.write_text(json.dumps(log))
    print(f"done in {log['train_seconds']}s; log {logp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
