#!/usr/bin/env python
"""Render the synthetic avatar corpus the embedded CLIP model and the generator learn from.

Each avatar is drawn from the attribute space (nerf.synthetic.avatar_spec), rendered from random
views, lighting and backgrounds as the dressed anny body that `generate --steps 0` exports
(pipeline.corpus_render; `--body template` renders the old procedural template instead), and captioned
from three disjoint template groups (train / evaluator / heldout, nerf.synthetic.captions).
Attribute combinations whose hash falls in the held-out bucket go to the test split
only, so test prompts are unseen in content and in wording. Material swatches from
texture.library.swatches are added with material captions.

    python scripts/make_corpus.py --out data/corpus --avatars 8000 --views 4

Writes OUT/images.npy (uint8 [N, S, S, 3]), OUT/meta.jsonl (one record per image) and
OUT/info.json. Deterministic for a given --seed and --workers.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nerf.synthetic.corpus import render_avatar  # noqa: E402


def render_swatch(i: int, seed: int, size: int) -> dict | None:
    try:
        from texture.library.swatches import MATERIALS, swatch_caption
        from texture.library.swatches import render_swatch as rs
    except ImportError:
        return None
    from nerf.synthetic.avatar_spec import GARMENT_COLORS

    rng = random.Random(seed * 7_000_001 + i)
    mat, col = rng.choice(MATERIALS), rng.choice(GARMENT_COLORS)
    img = rs(mat, col, size=size * 2, rng=rng).convert("RGB")
    # random crop/zoom so the model sees swatches at several scales
    s = rng.randint(size, size * 2)
    x0, y0 = rng.randint(0, size * 2 - s), rng.randint(0, size * 2 - s)
    img = img.crop((x0, y0, x0 + s, y0 + s)).resize((size, size))
    caps = {g: [swatch_caption(mat, col, rng) for _ in range(3)] for g in ("train", "evaluator", "heldout")}
    return {"image": np.asarray(img, dtype=np.uint8),
            "meta": {"kind": "swatch", "split": "train" if i % 8 else "test", "material": mat, "color": col,
                     "captions": caps}}


_BODY = None
"""The body renderer, built in the parent before the workers fork (anny's model loads once)."""


def _work(args):
    kind, i, seed, views, size = args
    torch.set_num_threads(1)
    if kind == "avatar":
        return render_avatar(i, seed, views, size, body=_BODY)
    r = render_swatch(i, seed, size)
    return [r] if r else []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("data/corpus"))
    ap.add_argument("--avatars", type=int, default=8000)
    ap.add_argument("--views", type=int, default=4)
    ap.add_argument("--swatches", type=int, default=4000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2)))
    ap.add_argument("--body", choices=("anny", "template"), default="anny",
                    help="what an avatar is rendered as: the dressed anny body (default) or the procedural template")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    global _BODY
    if a.body == "anny":
        from pipeline.corpus_render import BodyRenderer

        _BODY = BodyRenderer()
    jobs = [("avatar", i, a.seed, a.views, a.size) for i in range(a.avatars)]
    jobs += [("swatch", i, a.seed, a.views, a.size) for i in range(a.swatches)]
    t0 = time.time()
    images, metas = [], []
    with mp.get_context("fork").Pool(a.workers) as pool:
        for k, recs in enumerate(pool.imap(_work, jobs, chunksize=16)):
            for r in recs:
                images.append(r["image"])
                metas.append(r["meta"])
            if k % 500 == 0:
                print(f"{k}/{len(jobs)} jobs, {len(images)} images, {time.time() - t0:.0f}s", flush=True)
    arr = np.stack(images)
    tmp = a.out / "images.tmp.npy"
    np.save(tmp, arr)
    os.replace(tmp, a.out / "images.npy")
    with open(a.out / "meta.jsonl.tmp", "w") as f:
        for m in metas:
            f.write(json.dumps(m) + "\n")
    os.replace(a.out / "meta.jsonl.tmp", a.out / "meta.jsonl")
    info = {"avatars": a.avatars, "views": a.views, "body": a.body, "swatches": a.swatches, "size": a.size,
            "seed": a.seed,
            "images": int(arr.shape[0]), "seconds": round(time.time() - t0, 1),
            "splits": {s: sum(m["split"] == s for m in metas) for s in ("train", "test")}}
    (a.out / "info.json").write_text(json.dumps(info, indent=2))
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
