"""``avatarforge eval``: zero-shot accuracy and retrieval of the shipped models, or CLIP R-precision of the
generate path on a prompt file (see :mod:`pipeline.eval.runner`)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.cli.common import add_config_args, add_model_args, resolve_from_args


def add_parser(sub) -> argparse.ArgumentParser:
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
    add_config_args(e)
    add_model_args(e)
    return e


def _p(p: float) -> str:
    return "<0.01" if p < 0.01 else f"={p:.2f}"


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k, v in rows:
        t.add_row(k, v)
    Console().print(t)


def run(args) -> int:
    from pipeline.encoders.clip_encoder import ClipEncoder
    from pipeline.eval.runner import MODES, load_evaluator, model_report, r_precision_report, read_prompt_file
    from pipeline.inputs import InputError

    for flag in ("n", "views", "limit"):
        v = getattr(args, flag, None)
        if v is not None and v < 1:
            raise InputError(f"--{flag} {v}: must be 1 or more")
    config = resolve_from_args(args)
    report: dict = {}
    if not args.prompts:
        enc = ClipEncoder.load(config.model.clip_model or None, config.model.clip_pretrained or None,
                               text_tower=config.model.text_tower)
        report["model"] = model_report(enc, args.n)
        ev = load_evaluator(args.evaluator_weights)
        report["evaluator"] = model_report(ev, args.n)
        for key in ("model", "evaluator"):
            r = report[key]
            rows = [(f"zero-shot {a} ({v['classes']} classes, n={v['n']})", f"{v['accuracy']:.3f}")
                    for a, v in r["zero_shot"].items()]
            rows += [(k, f"{v:.3f}") for k, v in r["retrieval"].items()]
            print_table(f"{r['model']} on {r['n']} held-out renders", rows)
    else:
        rows = read_prompt_file(args.prompts)
        if args.limit is not None:
            rows = rows[: args.limit]
        modes = [m for m in (args.modes.split(",") if getattr(args, "modes", None) else ["amortised", "refined"])]
        bad = [m for m in modes if m not in (*MODES, "ceiling")]
        if bad:
            raise InputError(f"unknown --modes {', '.join(bad)}; choose from {', '.join(MODES)}, ceiling")
        if "ceiling" in modes and not all("spec" in r for r in rows):
            raise InputError("--modes ceiling needs every prompt row to carry its ground-truth 'spec'")
        modes = [m for m in modes if m != "ceiling"]  # always reported when the rows carry specs
        if args.renders and args.save_renders:
            raise InputError("--renders scores views already saved; --save-renders goes with a run that makes them")
        report["r_precision"] = r = r_precision_report(rows, config, modes, args.views, args.quiet,
                                                           getattr(args, "render", "field"),
                                                           args.evaluator_weights, args.save_renders, args.renders)
        table = [(f"R-precision {m}", f"{r[m]:.3f}") for m in r["retrieved"] if m != "ceiling"]
        if "ceiling" in r:
            table.append(("evaluator ceiling (ground-truth renders)", f"{r['ceiling']:.3f}"))
        table += [(f"{c['before']} -> {c['after']}: prompts fixed / lost", f"+{c['fixed']} / -{c['lost']}, "
                   f"McNemar p{_p(c['p_value'])}") for c in r["paired"]]
        print_table(f"CLIP R-precision, {r['n_prompts']} prompts, {r['render']} renders, evaluator {r['evaluator']}",
                    table)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0
