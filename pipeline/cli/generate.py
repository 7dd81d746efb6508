"""``avatarforge generate PROMPT``: one avatar (GLB, sidecar JSON, preview PNG)."""
from __future__ import annotations

import argparse
import os

from pipeline.cli.common import EXIT_OK, add_config_args, add_model_args, resolve_from_args


def add_parser(sub) -> argparse.ArgumentParser:
    g = sub.add_parser("generate", help="generate one avatar",
                       description="Generate one avatar GLB (or VRM 1.0) from a prompt.")
    g.add_argument("prompt", help="what the avatar looks like, e.g. \"a tall knight in a red tunic\"")
    g.add_argument("--out", default=None, help="output .glb or .vrm (VRM 1.0) path (default avatars/<prompt>.glb); "
                                                ".json sidecar and .png preview are written beside it")
    g.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    g.add_argument("--steps", type=int, default=None, help="CLIP-guided optimisation steps (0 = amortised only)")
    g.add_argument("--image", default=None, metavar="REF.png", help="reference image to condition on")
    g.add_argument("--texture-library", default=None, metavar="DIR",
                   help="image library to texture from (indexed on first use); default: the shipped swatches")
    g.add_argument("--guidance", default=None, choices=["clip", "sds"],
                   help="refinement loss: clip (default) or sds (score distillation; needs --sd-model)")
    g.add_argument("--sd-model", default=None, metavar="DIR",
                   help="local Stable Diffusion folder in diffusers layout, for --guidance sds")
    g.add_argument("--quiet", action="store_true",
                   help="no progress bar, summary or understood-report (the sidecar keeps the report)")
    add_config_args(g)
    add_model_args(g)
    return g


def run(args) -> int:
    import sys

    from pipeline.generate import AvatarForge
    from pipeline.inputs import (
        InputError,
        check_generate_outputs,
        check_output,
        clean_prompt,
        default_output,
        load_image,
        safe_name,
    )
    from pipeline.limits import check_memory

    prompt = clean_prompt(args.prompt)
    if args.steps is not None and args.steps < 0:
        raise InputError(f"--steps {args.steps}: must be 0 or more")
    cfg = resolve_from_args(args)
    if args.image:
        load_image(args.image, cfg.reference.max_pixels)  # fail fast, before loading models
    if args.texture_library and not os.path.isdir(args.texture_library):
        raise InputError(f"--texture-library {args.texture_library!r} is not a folder")
    check_memory([cfg])  # before any model loads or array is made
    renamed = False
    if args.out:  # an explicit --out is overwritten as asked, unless it is one of this run's inputs
        out_path = args.out
    else:  # the default name never replaces an earlier avatar: a_red_knight_2.glb ...
        out_path, renamed = default_output(prompt, "avatars", cfg.export.lods)
    check_generate_outputs(out_path, cfg, image=args.image, config_file=args.config)
    # last of the checks, because it creates the output folder
    out = check_output(out_path, cfg.export.lods)
    if renamed:
        print(f"avatarforge: {os.path.join('avatars', safe_name(prompt))}.glb exists; writing {out} instead",
              file=sys.stderr)
    forge = AvatarForge(cfg)
    if args.quiet:
        res = forge.generate(prompt, out, cfg, image=args.image)
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("[bold]optimising"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TextColumn("loss {task.fields[loss]:.3f} clip {task.fields[clip]:.3f}"), TimeElapsedColumn(),
                      transient=True) as bar:
            task = bar.add_task("opt", total=max(cfg.optim.steps, 1), loss=0.0, clip=0.0)
            res = forge.generate(prompt, out, cfg, image=args.image, progress=lambda s, i: bar.update(
                task, completed=s, loss=i["loss"], clip=i["clip_score"]))
        sc = res.sidecar_data
        print(f"wrote {res.glb} ({sc['mesh']['triangles']} triangles, {sc['export'].get('joints', '?')} joints), "
              f"{res.sidecar.name}, {res.preview.name}; CLIP score {sc['clip_score']['initial']:.3f} -> "
              f"{sc['clip_score']['final']:.3f} in {sc['timings_s']['total']:.1f}s")
        if sc.get("understood"):
            print("\n".join(sc["understood"]["lines"]))
    return EXIT_OK
