"""``avatarforge explain PROMPT``: what ``generate`` would understand the prompt as, without generating."""
from __future__ import annotations

import argparse

from pipeline.cli.common import EXIT_OK, add_config_args, add_model_args, resolve_from_args


def add_parser(sub) -> argparse.ArgumentParser:
    g = sub.add_parser("explain", help="print what a prompt is understood as, without generating",
                       description="Print each attribute the shape generator decodes from a prompt (height, build, "
                                   "age, garments with colour and material, headwear, hair, accessories) with its "
                                   "confidence, and the words it could not use and why. Nothing is written.")
    g.add_argument("prompt", help="what the avatar looks like, e.g. \"a tall knight in a red tunic\"")
    g.add_argument("--image", default=None, metavar="REF.png", help="reference image, as generate --image")
    g.add_argument("--seed", type=int, default=None, help="random seed (as generate; the decoding does not use it)")
    g.add_argument("--json", action="store_true", help="print the report as JSON (the sidecar's \"understood\")")
    add_config_args(g)
    add_model_args(g)
    return g


def run(args) -> int:
    import json

    from pipeline.generate import AvatarForge
    from pipeline.inputs import clean_prompt, load_image

    prompt = clean_prompt(args.prompt)
    cfg = resolve_from_args(args)
    if args.image:
        load_image(args.image, cfg.reference.max_pixels)  # fail fast, before loading models
    forge = AvatarForge(cfg)
    av = forge.amortised_template(prompt, cfg, image=args.image)
    if args.json:
        print(json.dumps(av.understood.to_dict(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(av.understood.lines()))
    for w in av.text.warnings:
        print(f"avatarforge: warning: {w}")
    return EXIT_OK
