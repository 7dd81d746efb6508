#!/usr/bin/env python
"""How often the amortised generator (``generate --steps 0``) gets right what a prompt names.

For every prompt of a prompt file whose rows carry ``spec`` and ``named`` (the shipped
``pipeline/assets/heldout_prompts.jsonl``), the generator's template parameters are compared
with the avatar's on each attribute the prompt names: garments, headwear, hair, patterns,
accessories, each region's colour (exact palette entry), and the body: height and build (the
class whose template proportion is nearest the generator's), age, and a height stated in numbers
(``height_m``: the fitted standing height within 5 cm). Unnamed attributes are open and not scored;
the table ends with the share of all named attributes decoded right.
Prints a table; ``--json`` writes it.

    python scripts/eval_named_attributes.py [--prompts FILE] [--neutral SEEDS] [--set model.text_tower=e5]
                                            [--json runs/named.json]

Rows with a ``lang`` (``pipeline/assets/multilingual_prompts.jsonl``) also get an "all named" row per language.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nerf.body.phenotypes import gender_of, target_height  # noqa: E402
from nerf.synthetic.avatar_spec import AGES, BUILD_W, HEIGHT_M, PATTERNS  # noqa: E402
from nerf.synthetic.corpus import spec_from_dict  # noqa: E402
from nerf.template import R, TemplateParams, shape_from_spec  # noqa: E402
from pipeline.config import resolve_config  # noqa: E402
from pipeline.eval.runner import DEFAULT_PROMPTS, read_prompt_file  # noqa: E402

HEIGHT_TOLERANCE_M = 0.05
COLOR_REGION = {"upper_color": "upper", "lower_color": "lower", "headwear_color": "headwear",
                "hair_color": "hair", "accessory_color": "accessory"}


def score(params: TemplateParams, truth: TemplateParams, spec, named: dict, gender: float = 0.5) -> dict[str, bool]:
    """attribute -> right or wrong, for the attributes ``named`` lists (``height_m``, a height stated in numbers:
    the standing height the body is fitted to for ``gender``, within :data:`HEIGHT_TOLERANCE_M`)."""
    got, want = params.layout, truth.layout
    out = {}
    for attr in ("upper", "lower", "headwear", "hair"):
        if attr in named:
            out[attr] = getattr(got, attr) == getattr(want, attr)
    for attr in ("upper_pattern", "lower_pattern"):
        if attr in named:
            out[attr] = got.patterns[R[attr.split("_")[0]]] == PATTERNS.index(getattr(spec, attr))
    if "accessories" in named:
        out["accessories"] = set(got.accessories) == set(named["accessories"])
    for attr, region in COLOR_REGION.items():
        if attr in named:
            out[attr] = bool(torch.allclose(params.colors[R[region]].cpu(), truth.colors[R[region]].cpu(), atol=1e-3))
    body = {"height": (HEIGHT_M, 0), "build": (BUILD_W, 1)}
    if "age" in named or named.get("subject") in ("child", "person"):
        body["age"] = (AGES, slice(None))
    if "height_m" in named:
        out["height_m"] = abs(target_height(params.shape, gender) - named["height_m"]) <= HEIGHT_TOLERANCE_M
    for attr, (classes, dim) in body.items():
        if attr in named or attr == "age":
            out[attr] = _nearest_class(params.shape, spec, attr, classes, dim) == getattr(spec, attr)
    return out


def _nearest_class(shape: torch.Tensor, spec, attr: str, classes, dim) -> str:
    """The value of ``attr`` whose template proportions (``shape_from_spec``, the rest of ``spec``
    kept) are nearest the generator's ``shape[dim]``."""
    got = shape.detach().float().cpu()[dim]

    def dist(value: str) -> float:
        want = torch.tensor(shape_from_spec(dataclasses.replace(spec, **{attr: value})))[dim]
        return float(((got - want) ** 2).sum())

    return min(classes, key=dist)


NOTHING_NAMED = ("a person", "a man", "a woman", "a character", "someone")
"""Prompts that name no garment, colour or body: they should get plain everyday clothing (issue 30)."""


def neutral_share(forge, cfg, seeds: int) -> dict:
    """How often a prompt of :data:`NOTHING_NAMED` decodes to plain clothing (a shirt and trousers, no headwear,
    no accessory) in neutral colours (``nerf.generator.NEUTRAL_COLORS``), over ``seeds`` seeds each."""
    from nerf.generator import NEUTRAL_COLORS
    from nerf.synthetic.avatar_spec import COLORS

    neutral = torch.tensor([COLORS[c][0] for c in NEUTRAL_COLORS])
    ok = []
    for prompt in NOTHING_NAMED:
        for seed in range(seeds):
            p = forge.amortised_template(prompt, dataclasses.replace(cfg, seed=seed)).params
            lay = p.layout
            cols = p.colors.detach().float().cpu()[[R["upper"], R["lower"]]]
            plain = (lay.upper, lay.lower, lay.headwear) == ("shirt", "trousers", "none") and not lay.accessories
            ok.append(plain and bool((torch.cdist(cols, neutral).min(-1).values < 1e-3).all()))
    return {"share": round(sum(ok) / len(ok), 3), "n": len(ok), "prompts": list(NOTHING_NAMED), "seeds": seeds}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS)
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--neutral", type=int, default=0, metavar="SEEDS",
                    help="also measure prompts that name nothing over this many seeds each")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="config override, e.g. model.text_tower=minilm (repeatable)")
    a = ap.parse_args(argv)
    from pipeline.generate import AvatarForge

    rows = [r for r in read_prompt_file(a.prompts) if "spec" in r and "named" in r]
    if not rows:
        raise SystemExit(f"{a.prompts}: no rows with 'spec' and 'named' (regenerate it with "
                         "scripts/make_heldout_prompts.py)")
    cfg = resolve_config(a.preset, overrides=a.overrides)
    forge = AvatarForge(cfg)
    hits: dict[str, list[bool]] = defaultdict(list)
    by_lang: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        params = forge.amortised_template(r["prompt"], cfg).params
        spec = spec_from_dict(r["spec"])
        truth = TemplateParams.from_spec(spec)
        for attr, ok in score(params, truth, spec, r["named"], gender_of(r["prompt"])).items():
            hits[attr].append(ok)
            if "lang" in r:
                by_lang[f"all named ({r['lang']})"].append(ok)
    table = {k: {"accuracy": round(sum(v) / len(v), 3), "n": len(v)} for k, v in hits.items()}
    every = [ok for v in hits.values() for ok in v]
    table["all named"] = {"accuracy": round(sum(every) / len(every), 3), "n": len(every)}
    table.update({k: {"accuracy": round(sum(v) / len(v), 3), "n": len(v)} for k, v in by_lang.items()})
    print(f"{'named attribute':<16} {'accuracy':>8} {'n':>5}   ({len(rows)} prompts, {forge.amortised.name}, "
          f"text tower {cfg.model.text_tower})")
    for k, v in table.items():
        print(f"{k:<16} {v['accuracy']:>8.3f} {v['n']:>5}")
    result = {"prompts": str(a.prompts), "generator": forge.amortised.name,
              "generator_sha256": forge.amortised.weights_hash, "text_tower": cfg.model.text_tower, "named": table}
    if a.neutral:
        result["neutral"] = neutral_share(forge, cfg, a.neutral)
        print(f"prompts that name nothing ({', '.join(NOTHING_NAMED)}) x {a.neutral} seeds: plain clothing in "
              f"neutral colours {result['neutral']['share']:.3f} of {result['neutral']['n']}")
    if a.json:
        a.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
