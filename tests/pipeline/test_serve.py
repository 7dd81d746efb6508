"""``avatarforge serve``: the real server on a free port, driven over HTTP and by a headless Chromium.

What is checked: downloads come only from the output folder; bad uploads, prompts and paths get a 4xx with a
one-line reason and the server goes on; two requests run one after the other with the right queue positions;
a cancelled job leaves no files; a batch gives its contact sheet and zip; and in the browser the avatar is
drawn, centred, its clips listed and played, the downloaded GLB valid, and a hostile prompt shown as text.
"""
from __future__ import annotations

import http.client
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
import uuid
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYWRIGHT = "playwright-core@1.65"


# ------------------------------------------------------------------ the download guard, without a server
def test_safe_file_refuses_paths_out_of_the_folder(tmp_path):
    from pipeline.serve.files import Refused, safe_file

    root = tmp_path / "out"
    (root / "avatars").mkdir(parents=True)
    (root / "avatars" / "a.glb").write_bytes(b"glTF")
    (root / "avatars" / ".a.glb.x.tmp").write_bytes(b"half")
    (tmp_path / "secret.json").write_text("{}")
    os.symlink(tmp_path / "secret.json", root / "avatars" / "link.json")
    os.symlink(tmp_path, root / "up")
    assert safe_file(root, "avatars/a.glb") == root / "avatars" / "a.glb"
    for bad, status in [("../secret.json", 400), ("avatars/../../secret.json", 400), ("/etc/passwd", 400),
                        ("avatars//a.glb", 400), ("avatars\\a.glb", 400), ("C:/x.json", 400), ("avatars/./a.glb", 400),
                        ("avatars/link.json", 404), ("up/secret.json", 404), ("avatars/.a.glb.x.tmp", 404),
                        ("avatars", 404), ("avatars/missing.glb", 404), ("avatars/a.py", 404), ("", 400)]:
        with pytest.raises(Refused) as e:
            safe_file(root, bad)
        assert e.value.status == status, bad


# ------------------------------------------------------------------ the server
class Server:
    def __init__(self, url: str, out: Path, proc: subprocess.Popen):
        self.url, self.out, self.proc = url, out, proc
        m = re.match(r"http://([^:/]+):(\d+)/", url)
        self.host, self.port = m.group(1), int(m.group(2))

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, parsed JSON or raw bytes, headers); the path goes on the wire as given (no normalising)."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            kind = r.getheader("content-type") or ""
            return r.status, json.loads(data) if kind.startswith("application/json") else data, dict(r.getheaders())
        finally:
            c.close()

    def post_form(self, path: str, fields: dict, files: dict | None = None):
        boundary = uuid.uuid4().hex
        parts = []
        for k, v in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        for k, (name, data) in (files or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                         f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def events(self, job_id: str) -> list[dict]:
        """Every snapshot the job's progress stream sends, to the end."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=600)
        c.request("GET", f"/api/jobs/{job_id}/events")
        r = c.getresponse()
        assert r.status == 200 and r.getheader("content-type").startswith("text/event-stream")
        out = []
        for line in r:
            if line.startswith(b"data: "):
                out.append(json.loads(line[6:]))
                if out[-1]["state"] in ("done", "failed", "cancelled"):
                    break
        c.close()
        return out

    def alive(self) -> bool:
        status, body, _ = self.request("GET", "/api/info")
        return status == 200 and "cpu" in body["presets"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    out = tmp_path_factory.mktemp("serve") / "out"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", "--port", "0", "--out-dir", str(out),
                             "--max-upload-mb", "1"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    url = None
    t0 = time.time()
    while time.time() - t0 < 300:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if m:
            url = m.group(1)
            break
    if url is None:
        proc.kill()
        pytest.fail(f"serve did not start: {proc.stderr.read()[-2000:]}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # never let a full pipe block it
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    yield Server(url, out, proc)
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


def _png(width: int, height: int, rgb: bytes | None = None) -> bytes:
    """A PNG: real pixels when ``rgb`` is given, else a header claiming ``width`` x ``height`` (a bomb's)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\0" + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height)) if rgb else b"\0\0\0\0"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.mark.slow
def test_bad_requests_get_a_4xx_with_a_reason_and_the_server_goes_on(server):
    outside = server.out.parent / "outside.json"
    outside.write_text('{"secret": 1}')
    (server.out / "avatars").mkdir(parents=True, exist_ok=True)
    os.symlink(outside, server.out / "avatars" / "leak.json")
    for path in ["/files/../outside.json", "/files/avatars/../../outside.json", "/files/%2e%2e/outside.json",
                 "/files/avatars/%2e%2e/%2e%2e/outside.json", "/files//etc/passwd", "/files/%2Fetc%2Fpasswd",
                 "/files/avatars/leak.json", "/files/avatars/..%5C..%5Coutside.json"]:
        status, body, _ = server.request("GET", path)
        assert 400 <= status < 500, (path, status)
        assert b"secret" not in json.dumps(body).encode(), path
        assert isinstance(body, dict) and body["error"] and "\n" not in body["error"], (path, body)
    cases = [
        ({"prompt": "x" * 10_000}, None, 400, "10000 characters"),
        ({"prompt": "a knight", "preset": "../../etc"}, None, 400, "preset"),
        ({"prompt": "a knight", "steps": "-3"}, None, 400, "steps"),
        ({"prompt": "a knight", "steps": "ten"}, None, 400, "steps"),
        ({"prompt": "   "}, None, 400, "empty"),
        ({"prompt": "a knight"}, {"image": ("notes.png", b"this is not an image at all")}, 400, "not an image"),
        ({"prompt": "a knight"}, {"image": ("bomb.png", _png(60_000, 60_000))}, 400, "decompression-bomb"),
        ({"prompt": "a knight"}, {"image": ("big.png", os.urandom(1_100_000))}, 413, "over"),
    ]
    for fields, files, status, words in cases:
        got, body, _ = server.post_form("/api/generate", fields, files)
        assert got == status and words in body["error"], (fields.get("prompt", "")[:20], files and list(files), body)
        assert "Traceback" not in body["error"] and "\n" not in body["error"]
    got, body, _ = server.request("POST", "/api/generate", b"x", {"Content-Length": str(50 << 20),
                                                                   "Content-Type": "multipart/form-data; boundary=x"})
    assert got == 413
    got, body, _ = server.post_form("/api/batch", {}, {"prompts": ("run.exe", b"a knight\n")})
    assert got == 400 and "prompts file" in body["error"]
    assert server.request("GET", "/api/jobs/99999")[0] == 404
    assert not any((server.out / "uploads").iterdir()), "refused uploads must not be kept"
    assert server.alive()


@pytest.mark.slow
def test_two_requests_finish_in_order_with_their_queue_positions(server):
    first = server.post_form("/api/generate", {"prompt": "a short woman in a blue dress", "steps": "2"})[1]
    second = server.post_form("/api/generate", {"prompt": "a tall man in a green jacket", "steps": "0",
                                                 "seed": "3"})[1]
    assert first["state"] in ("queued", "running") and second["state"] == "queued"
    assert second["position"] in (1, 2)  # 2 while the first still waits for the worker to pick it up
    streams = {}
    threads = [threading.Thread(target=lambda j=j: streams.__setitem__(j["id"], server.events(j["id"])))
               for j in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    a, b = streams[first["id"]][-1], streams[second["id"]][-1]
    assert a["state"] == b["state"] == "done", (a["error"], b["error"])
    assert b["started"] >= a["finished"], "one generation at a time, first come first served"
    waiting = [s["position"] for s in streams[second["id"]] if s["state"] == "queued"]
    assert waiting and waiting[-1] == 1 and waiting == sorted(waiting, reverse=True)
    assert all(s["position"] == 0 for s in streams[second["id"]] if s["state"] != "queued")
    stages = [m for _, m in a["log"]]
    for stage in ("encode", "prior", "optimize", "mesh", "texture", "export"):
        assert stage in stages
    steps = [s["step"] for s in streams[first["id"]] if s["state"] == "running"]
    assert max(steps) == 2 and a["steps"] == 2
    for job in (a, b):
        sc = server.request("GET", job["result"]["files"]["sidecar"])[1]
        assert sc["prompt"] == job["params"]["prompt"] and sc["seed"] == job["params"]["seed"]
        assert job["result"]["summary"]["animations"] == ["wave", "idle"]
    gallery = server.request("GET", "/api/gallery")[1]["avatars"]
    assert [g["id"] for g in gallery[:2]] == [second["id"], first["id"]]


@pytest.mark.slow
def test_a_cancelled_generation_leaves_no_files(server):
    before = set(os.listdir(server.out / "avatars"))
    job = server.post_form("/api/generate", {"prompt": "an old wizard in a purple robe", "steps": "400"})[1]
    seen = []

    def watch():
        seen.extend(server.events(job["id"]))

    t = threading.Thread(target=watch)
    t.start()
    t0 = time.time()
    while time.time() - t0 < 120:
        s = server.request("GET", f"/api/jobs/{job['id']}")[1]
        if s["stage"] == "optimize" and s["step"] >= 1:
            break
        time.sleep(0.2)
    assert server.request("POST", f"/api/jobs/{job['id']}/cancel")[0] == 200
    t.join(300)
    assert seen[-1]["state"] == "cancelled" and seen[-1]["step"] < 400, seen[-1]
    assert set(os.listdir(server.out / "avatars")) == before
    assert server.alive()


@pytest.mark.slow
def test_batch_tab_gives_contact_sheet_and_zip(server):
    prompts = "a knight in silver armour\n# a comment\na dancer in a yellow dress\n".encode()
    job = server.post_form("/api/batch", {"steps": "0"}, {"prompts": ("team.txt", prompts)})[1]
    assert job["kind"] == "batch" and job["params"]["count"] == 2
    last = server.events(job["id"])[-1]
    assert last["state"] == "done", last["error"]
    r = last["result"]
    assert (r["ok"], r["failed"]) == (2, 0)
    status, html, headers = server.request("GET", r["files"]["index"])
    assert status == 200 and b"a dancer in a yellow dress" in html and "sandbox" in headers["content-security-policy"]
    status, data, _ = server.request("GET", r["files"]["zip"] + "?download=1")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    for it in r["items"]:
        assert f"{job['id']}/{it['name']}.glb" in names and f"{job['id']}/{it['name']}.png" in names
        assert server.request("GET", it["files"]["avatar"])[2]["content-type"] == "model/gltf-binary"


# ------------------------------------------------------------------ in a real browser
def _browser_or_skip() -> tuple[str, Path]:
    chromium = os.environ.get("AVATARFORGE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not shutil.which("node"):
        pytest.skip("needs Chromium and Node.js (apt-get install chromium nodejs npm)")
    from texture.gltf.validate import ensure_node_package

    try:
        pkg = ensure_node_package("playwright-core", PLAYWRIGHT)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"playwright-core unavailable: {e}")
    return chromium, pkg.parent


@pytest.mark.slow
def test_browser_generates_shows_plays_and_downloads(server, tmp_path, gltf_validator):
    from PIL import Image

    from texture.gltf.validate import validate_glb

    chromium, modules = _browser_or_skip()
    proc = subprocess.run(["node", str(ROOT / "tests" / "pipeline" / "serve_browser.mjs"), server.url, str(tmp_path)],
                          env=dict(os.environ, NODE_MODULES_DIR=str(modules), CHROMIUM=chromium),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout)
    assert not seen.get("error"), seen["error"]
    assert seen["outside"] == [], "the page fetched from outside the app"
    assert seen["pageErrors"] == [] and seen["console"] == []

    still = np.asarray(Image.open(tmp_path / "still.png").convert("RGB")).astype(int)
    background = np.array([0x26, 0x2A, 0x33])
    drawn = np.abs(still - background).max(axis=2) > 12
    assert drawn.mean() >= 0.05, f"only {drawn.mean():.1%} of the canvas shows the avatar"
    ys, xs = np.nonzero(drawn)
    h, w = drawn.shape
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    assert abs(cx - w / 2) < 0.08 * w and abs(cy - h / 2) < 0.12 * h, (cx, cy, w, h)
    assert ys.max() - ys.min() > 0.6 * h, "the camera frames the whole body"

    glb = tmp_path / "downloaded.glb"
    report = validate_glb(glb)
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:5]
    length = struct.unpack_from("<I", glb.read_bytes(), 12)[0]
    gltf = json.loads(glb.read_bytes()[20:20 + length])
    assert seen["clips"] == seen["clipOptions"] == [a["name"] for a in gltf["animations"]]
    assert seen["morphs"] > 0
    playing = np.asarray(Image.open(tmp_path / "playing.png").convert("RGB")).astype(int)
    assert (np.abs(playing - still).max(axis=2) > 12).mean() > 0.002, "playing a clip changes the picture"
    assert "done" in seen["statusLine"] and "height" in seen["understood"]
    assert "not used: “poncho”" in seen["understood"]  # the understood-report, words it could not use included

    assert seen["hostileState"] == "done"
    assert seen["hostile"] in seen["hostileTitle"] and seen["hostile"] in seen["hostileGallery"]
    assert seen["pwned"] is None and seen["injected"] == 0, "a prompt's markup must be shown, never run"
    assert server.alive()
