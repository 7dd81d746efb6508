"""``avatarforge bench``: per-stage timings and peak memory (see :mod:`pipeline.bench`)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.cli.common import add_config_args, add_model_args, resolve_from_args


def add_parser(sub) -> argparse.ArgumentParser:
    be = sub.add_parser("bench", help="per-stage timings and peak memory")
    be.add_argument("--json", default=None, metavar="FILE")
    be.add_argument("--steps", type=int, default=None, help="optimisation steps to time")
    add_config_args(be)
    add_model_args(be)
    return be


def run(args) -> int:
    from pipeline.bench import BenchConfig, print_report, run_bench
    from pipeline.inputs import InputError
    from texture.atomic import atomic_write_bytes

    if args.steps is not None and args.steps < 0:
        raise InputError(f"--steps {args.steps}: must be 0 or more")
    config = resolve_from_args(args)
    report = run_bench(config, BenchConfig(), preset=args.preset)
    print_report(report)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(report, indent=2).encode())
    return 0
