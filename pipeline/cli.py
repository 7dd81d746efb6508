"""The ``avatarforge`` command line.

    avatarforge generate "a tall knight in a red tunic" --out avatars/knight.glb [--seed 0] [--steps N]
        [--preset cpu|gpu|preview|tiny] [--config FILE] [--set k=v ...] [--image REF.png]
        [--texture-library DIR] [--clip-model NAME --clip-pretrained TAG_OR_FILE]
        [--device auto|cpu|cuda] [--quiet]
    avatarforge eval [--prompts FILE [--modes ...] [--render field|mesh]] [--json FILE]
    avatarforge index-textures DIR [--index PATH]
    avatarforge batch PROMPTS --out-dir DIR [--workers N] [--backend local|ray] [--ray-address ADDR]
        [--resume] [--retry-failed]
    avatarforge bench [--preset ...] [--json FILE]
    avatarforge config [--preset NAME]          # every config key with its doc and value

Exit codes: 0 success, 1 failure while running, 2 bad input (one line on stderr), 130 interrupted.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_INTERRUPT = 0, 1, 2, 130


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default=None, help="preset name from configs/ (cpu, gpu, preview, ...); default cpu")
    p.add_argument("--config", default=None, metavar="FILE", help="YAML file with config sections")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set optim.steps=20 (repeatable); "
                        "see `avatarforge config` for every key")


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clip-model", default=None, metavar="NAME",
                   help="open_clip model name (e.g. ViT-B-16); default: the embedded model")
    p.add_argument("--clip-pretrained", default=None, metavar="TAG_OR_FILE",
                   help="pretrained tag (e.g. openai) or a local .safetensors/.pt file")
    p.add_argument("--device", default=None, help="auto, cpu or cuda (default auto)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="avatarforge", description="Text prompt to a rigged, textured GLB avatar.")
    ap.add_argument("--version", action="store_true", help="print the version and exit")
    sub = ap.add_subparsers(dest="command")
    g = sub.add_parser("generate", help="generate one avatar", description="Generate one avatar GLB from a prompt.")
    g.add_argument("prompt", help="what the avatar looks like, e.g. \"a tall knight in a red tunic\"")
    g.add_argument("--out", default=None, help="output .glb path (default avatars/<prompt>.glb); "
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
    g.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    _add_config_args(g)
    _add_model_args(g)

    e = sub.add_parser("eval", help="evaluate the embedded model and the generate path")
    e.add_argument("--prompts", default=None, metavar="FILE", help="prompt file: report CLIP R-precision")
    e.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON")
    e.add_argument("--corpus", default=None, metavar="DIR",
                   help="held-out renders (default: rendered fresh from the held-out attribute split)")
    e.add_argument("--n", type=int, default=300, help="held-out avatars rendered for zero-shot/retrieval")
    e.add_argument("--views", type=int, default=4, help="views per avatar for R-precision")
    e.add_argument("--limit", type=int, default=None, help="use only the first N prompts of --prompts")
    e.add_argument("--modes", default=None,
                   help="R-precision rows, comma-separated: template, template+refine, amortised, refined, "
                        "truth+refine (refinement from each prompt's ground truth; needs 'spec' rows) "
                        "(default amortised,refined). The evaluator's ceiling is reported whenever the rows "
                        "carry 'spec'; --modes ceiling reports only it")
    e.add_argument("--render", default="field", choices=["field", "mesh"],
                   help="R-precision on renders of the refined field (default), or of the textured mesh the "
                        "GLB carries -- every row, the ceiling included, through mesh, texturer and rasteriser")
    e.add_argument("--evaluator-weights", default=None, metavar="FILE",
                   help="score with another safetensors file of the evaluator's architecture "
                        "(scripts/train_clip.py --templates evaluator --out FILE) instead of the shipped one")
    e.add_argument("--save-renders", default=None, metavar="FILE",
                   help="also write every row's views (safetensors) for scoring under another evaluator")
    e.add_argument("--renders", default=None, metavar="FILE",
                   help="score the views a --save-renders run wrote for the same --prompts, generating nothing")
    e.add_argument("--quiet", action="store_true")
    _add_config_args(e)
    _add_model_args(e)

    ix = sub.add_parser("index-textures", help="index an image library with CLIP (incremental)")
    ix.add_argument("dir", help="folder of images (png, jpg, webp; recursive)")
    ix.add_argument("--index", default=None, metavar="PATH",
                    help="index manifest (default: DIR/.avatarforge-index-<model>.json, or the cache folder when "
                         "DIR is read-only: where generate looks)")
    ix.add_argument("--quiet", action="store_true")
    _add_model_args(ix)

    b = sub.add_parser("batch", help="generate many avatars from a prompt file")
    b.add_argument("prompts", help="text (one prompt a line), .jsonl or .csv file")
    b.add_argument("--out-dir", required=True, help="output folder")
    b.add_argument("--workers", type=int, default=1, help="avatars generated at once (worker processes, or Ray actors)")
    b.add_argument("--backend", default="local", choices=["local", "ray"],
                   help="local worker processes (default) or a Ray cluster (pip install 'avatarforge[ray]')")
    b.add_argument("--ray-address", default=None, help="auto or HOST:PORT of an existing Ray cluster")
    b.add_argument("--resume", action="store_true", help="skip items already finished with matching outputs")
    b.add_argument("--retry-failed", action="store_true", help="redo items recorded as failed")
    b.add_argument("--quiet", action="store_true", help="no progress bar; failures are still reported")
    _add_config_args(b)
    _add_model_args(b)

    be = sub.add_parser("bench", help="per-stage timings and peak memory")
    be.add_argument("--json", default=None, metavar="FILE")
    be.add_argument("--steps", type=int, default=None, help="optimisation steps to time")
    _add_config_args(be)
    _add_model_args(be)

    c = sub.add_parser("config", help="list every config key with its value and documentation")
    _add_config_args(c)
    return ap


def resolve_from_args(args) -> "GenerateConfig":  # noqa: F821
    from pipeline.config import resolve_config

    sets = list(args.set)
    for flag, key in (("seed", "seed"), ("steps", "optim.steps"), ("texture_library", "texture.library"),
                      ("clip_model", "model.clip_model"), ("clip_pretrained", "model.clip_pretrained"),
                      ("device", "model.device"), ("guidance", "guidance.kind"),
                      ("sd_model", "guidance.sd_model")):
        v = getattr(args, flag, None)
        if v is not None:
            sets.append(f"{key}={v}")
    return resolve_config(args.preset, args.config, sets)


def _fail(msg: str, code: int) -> int:
    print(f"avatarforge: error: {msg}", file=sys.stderr)
    return code


def cmd_generate(args) -> int:
    from pipeline.generate import AvatarForge
    from pipeline.inputs import check_output, clean_prompt, safe_name

    prompt = clean_prompt(args.prompt)
    if args.steps is not None and args.steps < 0:
        raise _InputErr(f"--steps {args.steps}: must be 0 or more")
    cfg = resolve_from_args(args)
    if args.image:
        from pipeline.inputs import load_image

        load_image(args.image, cfg.reference.max_pixels)  # fail fast, before loading models
    if args.texture_library and not os.path.isdir(args.texture_library):
        raise _InputErr(f"--texture-library {args.texture_library!r} is not a folder")
    # last of the checks, because it creates the output folder
    out = check_output(args.out or os.path.join("avatars", safe_name(prompt) + ".glb"))
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
    return EXIT_OK


class _InputErr(ValueError):
    pass


def cmd_config(args) -> int:
    from pipeline.config_io import describe

    cfg = resolve_from_args(args)
    for key, value, doc in describe(cfg):
        print(f"{key} = {value!r}" + (f"    # {doc}" if doc else ""))
    return EXIT_OK


def _asks_for_hub_weights(args) -> bool:
    """Whether --clip-pretrained, --set model.clip_pretrained=..., or the model section of the --preset or
    --config file (a sidecar's config too) names a tag to fetch, not a file."""
    from pipeline.config_io import ConfigError, load_config_file, load_preset

    tags = [getattr(args, "clip_pretrained", None)]
    tags += [kv.split("=", 1)[1] for kv in getattr(args, "set", None) or []
             if kv.replace(" ", "").startswith("model.clip_pretrained=")]
    sections = []
    try:
        if getattr(args, "preset", None):
            sections.append(load_preset(args.preset))
        if getattr(args, "config", None):
            sections.append(load_config_file(args.config))
    except ConfigError:
        pass  # the command reports it
    tags += [s["model"].get("clip_pretrained") for s in sections if isinstance(s.get("model"), dict)]
    return any(isinstance(t, str) and t and not os.path.exists(t) for t in tags)


def main(argv: list[str] | None = None) -> int:
    # before anything imports torch: busy-waiting OpenMP threads cost 10-20x on a shared CPU
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    parser = build_parser()
    args = parser.parse_args(argv)
    # offline unless the user asks for hub weights: nothing else needs the network, and a missing one
    # would otherwise cost a timeout per lookup (the workers of a batch inherit the choice)
    offline = "0" if _asks_for_hub_weights(args) else "1"
    os.environ.setdefault("HF_HUB_OFFLINE", offline)
    os.environ.setdefault("TRANSFORMERS_OFFLINE", offline)
    if args.version:
        from pipeline import __version__

        print(f"avatarforge {__version__}")
        return EXIT_OK
    if not args.command:
        parser.print_help()
        return EXIT_INPUT
    logging.basicConfig(level=logging.ERROR if getattr(args, "quiet", False) else logging.WARNING,
                        format="avatarforge: %(levelname)s: %(message)s")
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    from pipeline.clip_models import WeightsError
    from pipeline.config_io import ConfigError
    from pipeline.inputs import InputError

    handlers = {"generate": cmd_generate, "config": cmd_config}
    try:
        if args.command == "eval":
            from pipeline.eval_cli import cmd_eval as handler
        elif args.command == "index-textures":
            from pipeline.index_cmd import cmd_index as handler
        elif args.command == "batch":
            from pipeline.batch import cmd_batch as handler
        elif args.command == "bench":
            from pipeline.bench import cmd_bench as handler
        else:
            handler = handlers[args.command]
        return handler(args)
    except (InputError, ConfigError, WeightsError, _InputErr) as e:
        return _fail(str(e).splitlines()[0] if str(e) else type(e).__name__, EXIT_INPUT)
    except KeyboardInterrupt as e:
        return _fail(str(e) or "interrupted; no partial files were left", EXIT_INTERRUPT)
    except BrokenPipeError:  # `avatarforge config | head`: the reader left; nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail again
        return EXIT_OK
    except Exception as e:  # a crash is reported on one line; details with AVATARFORGE_DEBUG=1
        if os.environ.get("AVATARFORGE_DEBUG"):
            raise
        return _fail(f"{type(e).__name__}: {e}", EXIT_FAIL)


if __name__ == "__main__":
    raise SystemExit(main())
