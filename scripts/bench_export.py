"""What the face and VRM cost: ``generate`` with no morph targets, with the ARKit + viseme targets (the
default) and as a VRM 1.0 file, same prompt, seed and warm models, in one run.

    python scripts/bench_export.py [--preset tiny] [--steps 1] [--repeats 3] [--prompt "..."]

Prints a table: median wall time of the whole ``generate`` call, the file size, and each row's time and
size against the first row as a ratio and a difference.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import resolve_config  # noqa: E402
from pipeline.generate import AvatarForge  # noqa: E402

ROWS = (("GLB, no morph targets", "glb", "none"), ("GLB, ARKit + visemes", "glb", "both"),
        ("VRM 1.0, ARKit + visemes", "vrm", "both"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--prompt", default="a woman with long hair in a red skirt and a cape")
    args = ap.parse_args()
    base = resolve_config(args.preset, overrides=[f"optim.steps={args.steps}"])
    forge = AvatarForge(base)
    out = Path(tempfile.mkdtemp(prefix="bench-export-"))
    forge.generate(args.prompt, out / "warm.glb", base)  # load and warm everything once
    results = []
    for label, ext, morphs in ROWS:
        cfg = resolve_config(args.preset, overrides=[f"optim.steps={args.steps}", f"export.morph_targets={morphs}"])
        times, size = [], 0
        for k in range(args.repeats):
            path = out / f"{ext}-{morphs}-{k}.{ext}"
            t0 = time.perf_counter()
            res = forge.generate(args.prompt, path, cfg)
            times.append(time.perf_counter() - t0)
            size = Path(res.glb).stat().st_size
        results.append((label, statistics.median(times), size))
    t_ref, s_ref = results[0][1], results[0][2]
    print(f"{'output':28s} {'time s':>7s} {'x':>6s} {'+s':>6s} {'MB':>6s} {'x':>6s}")
    for label, t, s in results:
        print(f"{label:28s} {t:7.2f} {t / t_ref:6.2f} {t - t_ref:+6.2f} {s / 1e6:6.2f} {s / s_ref:6.2f}")


if __name__ == "__main__":
    main()
