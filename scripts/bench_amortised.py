"""``generate --steps 0`` (the amortised avatar): a cold CLI run against the same work in a warm process.

    python scripts/bench_amortised.py [--runs 3] [--preset cpu] [--json bench_amortised.json]

Rows, each the median of ``--runs``:

* ``import``: a fresh interpreter importing what ``generate`` needs (torch, the plain-torch
  embedded CLIP, tokenizers, nerfstudio's rays and samplers, trimesh) and nothing else;
* ``import_open_clip``: the same plus open_clip and transformers' BERT, what building the
  embedded model through open_clip (as training does) would add to every cold start;
* ``cli_cold``: ``avatarforge generate PROMPT --steps 0`` in a fresh interpreter, as a
  user types it: imports, model loading, the pipeline, writing GLB + sidecar + preview;
* ``load``: building :class:`AvatarForge` (CLIP weights, generator, texture library) in a
  process that has imported everything already;
* ``warm``: the same ``generate`` in a process that has the models loaded already (what
  each avatar of a ``batch`` costs), with its per-stage split from the sidecar.

``ratio`` is each row over ``warm``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPT = "a tall knight in a red tunic"
IMPORTS = ("import pipeline.generate, pipeline.encoders.embedded, tokenizers, safetensors.torch, trimesh, "
           "nerfstudio.cameras.rays, nerfstudio.model_components.ray_samplers")
OPEN_CLIP_IMPORTS = (IMPORTS + "; from pipeline.encoders.models import import_open_clip; import_open_clip(); "
                     "import transformers.models.bert.modeling_bert")
CLI = "import sys; from pipeline.cli import main; raise SystemExit(main(sys.argv[1:]))"


def timed_subprocess(args: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(args, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    os.environ.update(OMP_WAIT_POLICY="PASSIVE", HF_HUB_OFFLINE="1")
    rows: dict[str, list[float]] = {"import": [], "import_open_clip": [], "cli_cold": [], "load": [], "warm": []}
    stages: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="avatarforge-bench-") as tmp:
        for i in range(a.runs):
            rows["import"].append(timed_subprocess([sys.executable, "-c", IMPORTS], env))
            rows["import_open_clip"].append(timed_subprocess([sys.executable, "-c", OPEN_CLIP_IMPORTS], env))
            out = Path(tmp) / f"cold{i}.glb"
            rows["cli_cold"].append(timed_subprocess(
                [sys.executable, "-c", CLI, "generate", PROMPT, "--steps", "0", "--preset", a.preset,
                 "--out", str(out), "--quiet"], env))
        from pipeline.config import resolve_config
        from pipeline.generate import AvatarForge

        cfg = resolve_config(a.preset, None, ["optim.steps=0"])
        t = time.perf_counter()
        forge = AvatarForge(cfg)
        forge.library(cfg)
        rows["load"].append(time.perf_counter() - t)
        forge.generate(PROMPT, Path(tmp) / "warmup.glb", cfg)
        for i in range(a.runs):
            t = time.perf_counter()
            res = forge.generate(PROMPT, Path(tmp) / f"warm{i}.glb", cfg)
            rows["warm"].append(time.perf_counter() - t)
            stages.append(res.sidecar_data["timings_s"])
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"generate --steps 0, preset {a.preset}, {a.runs} runs (median), {os.cpu_count()} CPUs")
    print(f"{'row':<16} {'seconds':>8} {'ratio':>7}")
    for k, v in med.items():
        print(f"{k:<16} {v:8.2f} {v / med['warm']:7.2f}")
    split = {k: round(statistics.median(s[k] for s in stages), 3) for k in stages[0]}
    print("warm stages: " + ", ".join(f"{k} {v:.2f}" for k, v in split.items()))
    if a.json:
        a.json.write_text(json.dumps({"preset": a.preset, "runs": a.runs, "median_s": med, "all_s": rows,
                                      "warm_stages_s": split, "cpus": os.cpu_count()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
