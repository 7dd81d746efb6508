"""Measure what the size limits cost: the peak memory of ``avatarforge generate`` at the default and with the
largest accepted ``export.triangles`` and ``export.texture_size``, each under an address-space limit
(``ulimit -v``, 8 GB by default), and whether every hostile-input test still answers on one line under it.

    python scripts/measure_limits.py [--limit-kb 8000000] [--out FIGURES.json] [--skip-tests]

Each run is a fresh process (``python -m pipeline.cli generate ...``); its peak resident memory is the
kernel's ``ru_maxrss`` of that child. Prints a markdown table for docs/LIMITS.md (and the figures as JSON
with ``--out``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from texture.gltf.config import MAX_TEXTURE_SIZE, MAX_TRIANGLES  # noqa: E402

RUNS = {
    "default generate (preset cpu)": [],
    f"export.triangles={MAX_TRIANGLES}": ["--set", f"export.triangles={MAX_TRIANGLES}"],
    f"export.texture_size={MAX_TEXTURE_SIZE}": ["--set", f"export.texture_size={MAX_TEXTURE_SIZE}"],
}


def run_limited(argv: list[str], limit_kb: int, cwd: Path) -> dict:
    """Run ``argv`` with RLIMIT_AS = limit_kb KiB; its exit code, wall seconds, peak RSS and last stderr line."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit_kb * 1024, limit_kb * 1024))

    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    t = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=limit)
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [x for x in err.splitlines() if x.strip()]
    return {"exit": proc.returncode, "wall_s": round(time.perf_counter() - t, 1),
            "peak_rss_gb": round(usage.ru_maxrss / 1024 ** 2, 2), "last_line": lines[-1] if lines else ""}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit-kb", type=int, default=8_000_000, help="ulimit -v for every run (KiB)")
    ap.add_argument("--out", help="also write the figures as JSON here")
    ap.add_argument("--prompt", default="a tall knight in a red tunic")
    ap.add_argument("--skip-tests", action="store_true", help="do not run the hostile-input tests under the limit")
    args = ap.parse_args()
    res = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
           "date": time.strftime("%Y-%m-%d"), "limit_kb": args.limit_kb, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in RUNS.items():
            out = Path(tmp) / f"{len(res['runs'])}.glb"
            argv = [sys.executable, "-m", "pipeline.cli", "generate", args.prompt, "--out", str(out), "--quiet",
                    *extra]
            r = run_limited(argv, args.limit_kb, Path(tmp))
            r["glb_mb"] = round(out.stat().st_size / 1e6, 1) if out.exists() else None
            res["runs"][name] = r
            print(f"{name}: {r}", flush=True)
        if not args.skip_tests:
            argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    str(ROOT / "tests" / "pipeline" / "test_hostile_inputs.py"),
                    str(ROOT / "tests" / "pipeline" / "test_limits.py")]
            r = run_limited(argv, args.limit_kb, ROOT)
            res["hostile_tests_under_limit"] = r
            print(f"hostile-input tests under the limit: {r}", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print(f"\n| run (ulimit -v {args.limit_kb}) | exit | peak RSS | wall | GLB |\n|---|---|---|---|---|")
    for name, r in res["runs"].items():
        print(f"| {name} | {r['exit']} | {r['peak_rss_gb']} GB | {r['wall_s']} s | {r['glb_mb']} MB |")
    bad = [n for n, r in res["runs"].items() if r["exit"] != 0]
    if "hostile_tests_under_limit" in res and res["hostile_tests_under_limit"]["exit"] != 0:
        bad.append("hostile-input tests")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
