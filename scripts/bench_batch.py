"""Batch throughput: avatars per hour with 1 and 2 local workers and on Ray, from a cold start.

    python scripts/bench_batch.py [--preset preview] [--limit 12] [--runs local:1,local:2,ray:2]
                                  [--set k=v ...] [--json bench_batch.json]

Each run is a fresh ``run_batch`` into a new temporary folder, timed from the call to the
end, so model loading (once per worker) and Ray start-up are included: that is what a user
waits for. ``ratio`` is relative to the first run. Prompts come from a fixed list, so runs
are comparable.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPTS = [
    "a tall knight in a red tunic with a silver helmet", "a wizard in a purple robe", "a pirate in a striped shirt",
    "a ranger in a green plaid shirt", "a robot in silver armour", "a queen in a blue gown",
    "a short dwarf with a metal helmet", "a farmer in denim overalls", "a ninja in black clothes",
    "a doctor in a white coat", "a chef in a white jacket", "a soldier in camouflage",
    "an astronaut in a white suit", "a clown in a yellow plaid suit", "a monk in an orange robe",
    "a cowboy in a brown leather jacket", "a firefighter in a red uniform", "a scientist in a lab coat",
    "a skater in a purple hoodie", "a king in a golden robe",
]


def run_one(backend: str, workers: int, n: int, preset: str, sets: list[str]) -> dict:
    from pipeline.batch.items import ItemDefaults
    from pipeline.batch.run import BatchConfig, run_batch

    with tempfile.TemporaryDirectory(prefix="avatarforge-bench-") as tmp:
        prompts = Path(tmp) / "prompts.txt"
        prompts.write_text("\n".join((PROMPTS * (n // len(PROMPTS) + 1))[:n]) + "\n")
        t = time.perf_counter()
        summary = run_batch(BatchConfig(str(prompts), str(Path(tmp) / "out"), workers=workers, backend=backend,
                                        quiet=True, defaults=ItemDefaults(preset, None, sets)))
        wall = time.perf_counter() - t
        loads = [r.timings.get("model_load") for r in summary.records if r.timings.get("model_load") is not None]
        per_item = [r.timings["total"] for r in summary.ok if "total" in r.timings]
    return {"backend": backend, "workers": workers, "avatars": len(summary.ok), "failed": len(summary.failed),
            "wall_s": round(wall, 1), "avatars_per_hour": round(len(summary.ok) / wall * 3600, 1),
            "model_load_s": round(sum(loads) / len(loads), 1) if loads else None,
            "generate_s_mean": round(sum(per_item) / len(per_item), 2) if per_item else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="preview")
    ap.add_argument("--limit", type=int, default=12, help="avatars per run")
    ap.add_argument("--runs", default="local:1,local:2,ray:2", help="backend:workers, comma-separated")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--json", default=None, metavar="FILE")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import warnings

    warnings.filterwarnings("ignore")
    rows = []
    for spec in args.runs.split(","):
        backend, _, w = spec.strip().partition(":")
        print(f"running {backend} x{w or 1} on {args.limit} avatars ({args.preset}) ...", file=sys.stderr, flush=True)
        rows.append(run_one(backend, int(w or 1), args.limit, args.preset, args.set))
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    base = rows[0]["avatars_per_hour"] or 1.0
    for r in rows:
        r["ratio"] = round(r["avatars_per_hour"] / base, 2)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"avatarforge batch throughput ({args.preset}, {args.limit} avatars, {os.cpu_count()} CPUs)")
    for col in ("backend", "workers", "avatars", "failed", "wall s", "avatars/h", "ratio", "model load s",
                "generate s/avatar"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["backend"], str(r["workers"]), str(r["avatars"]), str(r["failed"]), f"{r['wall_s']:.1f}",
                      f"{r['avatars_per_hour']:.0f}", f"{r['ratio']:.2f}", str(r["model_load_s"]),
                      str(r["generate_s_mean"]))
    Console(width=140).print(table)
    if args.json:
        Path(args.json).write_text(json.dumps({"preset": args.preset, "limit": args.limit, "rows": rows}, indent=2))
    return 0 if all(r["failed"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
