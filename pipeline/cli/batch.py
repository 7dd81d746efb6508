"""``avatarforge batch PROMPTS --out-dir DIR``: many avatars, resumable (see :mod:`pipeline.batch.run`)."""
from __future__ import annotations

import argparse
import sys

from pipeline.cli.common import add_config_args, add_model_args, flag_overrides


def add_parser(sub) -> argparse.ArgumentParser:
    b = sub.add_parser("batch", help="generate many avatars from a prompt file")
    b.add_argument("prompts", help="text (one prompt a line), .jsonl or .csv file")
    b.add_argument("--out-dir", required=True, help="output folder")
    b.add_argument("--format", default="glb", choices=["glb", "vrm"],
                   help="avatar file per item: glb (glTF binary, default) or vrm (VRM 1.0 humanoid)")
    b.add_argument("--workers", type=int, default=1, help="avatars generated at once (worker processes, or Ray actors)")
    b.add_argument("--backend", default="local", choices=["local", "ray"],
                   help="local worker processes (default) or a Ray cluster (pip install 'avatarforge[ray]')")
    b.add_argument("--ray-address", default=None, help="auto or HOST:PORT of an existing Ray cluster")
    b.add_argument("--resume", action="store_true", help="skip items already finished with matching outputs")
    b.add_argument("--retry-failed", action="store_true", help="redo items recorded as failed")
    b.add_argument("--quiet", action="store_true", help="no progress bar; failures are still reported")
    add_config_args(b)
    add_model_args(b)
    return b


def run(args) -> int:
    from pipeline.batch.items import ItemDefaults
    from pipeline.batch.manifest import MANIFEST
    from pipeline.batch.run import BatchConfig, run_batch

    sets = flag_overrides(args)
    cfg = BatchConfig(args.prompts, args.out_dir, workers=args.workers, backend=args.backend,
                      ray_address=args.ray_address, resume=args.resume, retry_failed=args.retry_failed,
                      quiet=args.quiet, defaults=ItemDefaults(args.preset, args.config, sets, args.format))
    try:
        summary = run_batch(cfg)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"interrupted; finished items are kept: run the same command with --resume "
                                f"to continue into {args.out_dir}") from None
    if summary.failed and args.quiet:
        print(f"avatarforge: {len(summary.failed)} of {len(summary.records)} items failed; see "
              f"{summary.out_dir / MANIFEST}", file=sys.stderr)
    return summary.exit_code
