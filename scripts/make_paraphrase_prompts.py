#!/usr/bin/env python
"""Write the paraphrase prompt file: prompts in wording no training caption has, with what each names.

    python scripts/make_paraphrase_prompts.py [--n 240] [--out pipeline/assets/paraphrase_prompts.jsonl]

The split rule, so that no model was trained on this wording:
- every prompt uses a template of the ``paraphrase`` group (``nerf.synthetic.captions.TEMPLATES``), which
  no training, evaluator or held-out caption uses;
- its synonyms may be the held-out ones (``nerf.synthetic.vocabulary.held_out_word``: one in five by hash,
  never one of a list's first four), which no training caption uses; at least half the prompts have one;
- about one in six has a typo in one word of five letters or more (two letters swapped or one dropped);
- about one in eight states the height in numbers ("1.93 m tall", 6'2", "158 cm"), scored against the
  standing height the body is fitted to (``height_m``, within 5 cm).
Rows carry ``prompt``, ``spec`` and ``named`` as in ``heldout_prompts.jsonl``, plus ``typo`` and
``wording`` (the held-out synonyms it uses); ``scripts/eval_named_attributes.py --prompts`` scores it.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nerf.synthetic import vocabulary as V  # noqa: E402
from nerf.synthetic.avatar_spec import sample_spec  # noqa: E402
from nerf.synthetic.captions import caption  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "pipeline" / "assets" / "paraphrase_prompts.jsonl"
NUMERIC = {"tall": ((1.93, "1.93 m tall"), (1.88, "6'2\""), (1.95, "195 cm tall"), (1.90, "six foot three")),
           "short": ((1.55, "1.55 m tall"), (1.52, "5'0\""), (1.58, "158 cm"), (1.50, "1.5 metres tall"))}
"""Heights in numbers for each height class (metres, as written)."""
P_TYPO, P_NUMERIC = 1 / 6, 1 / 8


def typo(text: str, rng: random.Random) -> tuple[str, str | None]:
    """``text`` with one word of 5+ letters misspelt, and that word (None when none is long enough)."""
    words = [m for m in re.finditer(r"[a-z]{5,}", text)]
    if not words:
        return text, None
    m = rng.choice(words)
    w, i = m.group(), rng.randrange(1, len(m.group()) - 2)
    bad = w[:i] + w[i + 1] + w[i] + w[i + 2:] if rng.random() < 0.5 else w[:i] + w[i + 1:]
    if bad == w:
        bad = w[:i] + w[i + 1:]
    return text[:m.start()] + bad + text[m.end():], w


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=240)
    ap.add_argument("--seed", type=int, default=321)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    held = V.held_out_synonyms()
    rows, seen = [], set()
    while len(rows) < a.n:
        spec = sample_spec(rng)
        numeric = spec.age == "adult" and spec.height in NUMERIC and rng.random() < P_NUMERIC / 0.66
        named: dict = {}
        if numeric:  # caption the spec without a height word, then give the height in numbers
            height_m, said = rng.choice(NUMERIC[spec.height])
            text = caption(dataclasses.replace(spec, height="average"), rng, "paraphrase", full=True, named=named)
            text = f"{text}, {said}"
            named.update(height=spec.height, height_m=height_m)
        else:
            text = caption(spec, rng, "paraphrase", full=True, named=named)
        wording = sorted(w for w in held if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text))
        if not wording and sum(bool(r["wording"]) for r in rows) < a.n / 2 and rng.random() < 0.6:
            continue  # keep at least half with a held-out synonym
        misspelt = None
        if rng.random() < P_TYPO:
            text, misspelt = typo(text, rng)
        if text in seen:
            continue
        seen.add(text)
        named.pop("implied", None)
        rows.append({"prompt": text, "spec": spec.to_dict(), "named": named, "typo": misspelt, "wording": wording})
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"wrote {len(rows)} prompts to {a.out}: {sum(bool(r['typo']) for r in rows)} with a typo, "
          f"{sum('height_m' in r['named'] for r in rows)} with a height in numbers, "
          f"{sum(bool(r['wording']) for r in rows)} with a held-out synonym")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
