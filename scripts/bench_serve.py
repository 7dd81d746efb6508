"""The web app against the CLI: seconds from clicking Generate to the avatar in the viewer, and `generate`'s wall time.

    python scripts/bench_serve.py [--prompt "a tall knight in a red tunic"] [--repeat 2] [--steps 0,default]
                                  [--json bench_serve.json]

For each steps setting (``default`` = the preset's own), the CLI row is ``avatarforge generate PROMPT`` run as
a fresh process, as a user runs it from a shell (Python start, model loading and the generation itself); the web
row is the same prompt typed into ``avatarforge serve``'s page in headless Chromium, from the click to the avatar
drawn in the viewer (the GLB fetched and parsed by three.js), with the models already loaded. Without Chromium
the web row times the HTTP API instead (submit, wait for done, fetch the GLB). ``ratio`` is CLI / web. Each
figure is the median of ``--repeat`` runs; the server's one-off start-up is reported on its own line.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_server(out: Path) -> tuple[subprocess.Popen, str, float]:
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", "--port", "0", "--out-dir", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1"))
    for line in proc.stdout:
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if m:
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, m.group(1), time.perf_counter() - t
    proc.kill()
    raise SystemExit(f"serve did not start: {proc.stderr.read()[-2000:]}")


def cli_seconds(prompt: str, steps: str, out: Path) -> float:
    cmd = [sys.executable, "-m", "pipeline.cli", "generate", prompt, "--quiet", "--out", str(out / "cli.glb")]
    if steps != "":
        cmd += ["--steps", steps]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    return time.perf_counter() - t


def browser() -> tuple[str, Path] | None:
    chromium = os.environ.get("AVATARFORGE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not shutil.which("node"):
        return None
    from texture.gltf.validate import ensure_node_package

    try:
        return chromium, ensure_node_package("playwright-core", "playwright-core@1.65").parent
    except (RuntimeError, OSError, subprocess.TimeoutExpired):
        return None


def web_click_seconds(url: str, runs: list[dict], chromium: str, modules: Path, shot: Path | None) -> list[float]:
    env = dict(os.environ, NODE_MODULES_DIR=str(modules), CHROMIUM=chromium)
    if shot:
        env["SCREENSHOT"] = str(shot)
    proc = subprocess.run(["node", str(ROOT / "scripts" / "bench_serve_click.mjs"), url, json.dumps(runs)], env=env,
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode:
        raise SystemExit(f"browser run failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def save_screenshot(src: Path, dst: Path) -> None:
    from PIL import Image

    im = Image.open(src).convert("RGB")
    im = im.resize((960, round(im.height * 960 / im.width)), Image.LANCZOS).quantize(colors=192)
    dst.parent.mkdir(parents=True, exist_ok=True)
    im.save(dst, optimize=True)
    print(f"wrote {dst} ({dst.stat().st_size // 1024} KB)", file=sys.stderr)


def web_http_seconds(url: str, prompt: str, steps: str) -> float:
    import uuid

    boundary = uuid.uuid4().hex
    fields = {"prompt": prompt, **({"steps": steps} if steps != "" else {})}
    body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in fields.items()) + f"--{boundary}--\r\n"
    t = time.perf_counter()
    req = urllib.request.Request(url + "api/generate", body.encode(), method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    job = json.load(urllib.request.urlopen(req))
    while True:
        job = json.load(urllib.request.urlopen(f"{url}api/jobs/{job['id']}"))
        if job["state"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.05)
    if job["state"] != "done":
        raise SystemExit(f"web generation {job['state']}: {job['error']}")
    urllib.request.urlopen(url + job["result"]["files"]["avatar"].lstrip("/")).read()
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompt", default="a tall knight in a red tunic")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--steps", default="0,default", help="comma-separated: a number, or 'default' for the preset's")
    ap.add_argument("--http", action="store_true", help="time the HTTP API even when Chromium is there")
    ap.add_argument("--json", default=None, metavar="FILE")
    ap.add_argument("--screenshot", default=None, metavar="PNG",
                    help="also save the page after the last run, 960 px wide (the README's docs/images/serve.png)")
    args = ap.parse_args(argv)
    settings = ["" if s.strip() == "default" else s.strip() for s in args.steps.split(",")]
    found = None if args.http else browser()
    rows = []
    with tempfile.TemporaryDirectory(prefix="avatarforge-bench-serve-") as tmp:
        tmp = Path(tmp)
        proc, url, startup = start_server(tmp / "web")
        try:
            for steps in settings:
                label = steps or "default"
                print(f"steps {label}: CLI x{args.repeat} ...", file=sys.stderr, flush=True)
                cli = [cli_seconds(args.prompt, steps, tmp) for _ in range(args.repeat)]
                print(f"steps {label}: web x{args.repeat} ...", file=sys.stderr, flush=True)
                if found:
                    # one warm-up click first: the first page load compiles three.js's shaders
                    shot = tmp / "page.png" if args.screenshot and steps == settings[-1] else None
                    web = web_click_seconds(url, [{"prompt": args.prompt, "steps": steps}] * (args.repeat + 1),
                                            *found, shot)[1:]
                    if shot:
                        save_screenshot(shot, Path(args.screenshot))
                else:
                    web = [web_http_seconds(url, args.prompt, steps) for _ in range(args.repeat)]
                c, w = statistics.median(cli), statistics.median(web)
                rows.append({"steps": label, "cli_s": round(c, 2), "web_s": round(w, 2), "ratio": round(c / w, 2),
                             "web_timed": "click to viewer" if found else "HTTP submit to GLB"})
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    print(f"prompt: {args.prompt!r}; server start-up (once): {startup:.1f} s")
    print(f"{'steps':>8} {'CLI generate s':>15} {'web s':>8} {'ratio':>6}  web timed")
    for r in rows:
        print(f"{r['steps']:>8} {r['cli_s']:>15.2f} {r['web_s']:>8.2f} {r['ratio']:>6.2f}  {r['web_timed']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"startup_s": round(startup, 2), "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
