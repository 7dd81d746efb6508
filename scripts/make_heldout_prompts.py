#!/usr/bin/env python
"""Write the shipped held-out prompt file (pipeline/assets/heldout_prompts.jsonl).

Avatars come only from the held-out attribute combinations (nerf.synthetic.corpus.is_heldout) and
captions only from the held-out template group, fully described, so neither the shipped
model nor the evaluator has seen their content or wording. No two prompts name the same
attributes (``nerf.synthetic.captions.caption(named=...)``; synonyms count as the same): R-precision
asks each avatar to retrieve its own prompt, and between two prompts that mean the same even
a perfect evaluator can only guess. Each line: {"prompt", "spec", "named"}.

    python scripts/make_heldout_prompts.py --n 120 --seed 123
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nerf.synthetic.avatar_spec import sample_spec  # noqa: E402
from nerf.synthetic.captions import caption  # noqa: E402
from nerf.synthetic.corpus import is_heldout  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "pipeline" / "assets" / "heldout_prompts.jsonl"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    rows, seen = [], set()
    while len(rows) < a.n:
        spec = sample_spec(rng)
        if not is_heldout(spec):
            continue
        named: dict = {}
        text = caption(spec, rng, "heldout", full=True, named=named)
        key = json.dumps(named, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        rows.append({"prompt": text, "spec": spec.to_dict(), "named": named})
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"wrote {len(rows)} prompts to {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
