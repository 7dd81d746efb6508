"""The web app's routes (FastAPI): the page and its static files, requests into the queue, a live progress
stream per job (server-sent events), the gallery, and downloads from the output folder only.

Every error is JSON ``{"error": "one line"}`` with a 4xx status for a bad request (a 500 says only the
exception's type and first line; the traceback goes to the server's log), and the server goes on.
"""
# no `from __future__ import annotations`: FastAPI reads the route signatures, whose types are local names

import base64
import hashlib
import json
import logging
import re
import secrets
from importlib import resources
from pathlib import Path

from pipeline.serve.config import ServeConfig
from pipeline.serve.files import Refused, media_type, safe_file
from pipeline.serve.jobs import JobQueue, QueueFull
from pipeline.serve.work import UPLOADS, Workshop, check_prompt

log = logging.getLogger("avatarforge.serve")

STATIC = Path(str(resources.files("pipeline.serve") / "static"))
PROMPT_SUFFIXES = (".txt", ".jsonl", ".csv")
"""What a batch's prompts file may be (as ``avatarforge batch`` reads them)."""


def page_policy(html: str) -> str:
    """The page's Content-Security-Policy: its own scripts and styles only, the import map by its hash, models
    and textures from this server or ``blob:`` (GLTFLoader unpacks embedded images so), nothing from outside."""
    hashes = [base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()
              for m in re.findall(r"<script type=\"importmap\">(.*?)</script>", html, re.S)]
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in hashes)])
    return (f"default-src 'none'; script-src {scripts}; style-src 'self'; img-src 'self' blob: data:; "
            "connect-src 'self' blob: data:; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")


FILE_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
"""Downloads (a batch's contact sheet included) run no script at all."""


class BodyLimit:
    """ASGI middleware: refuse a request body over ``limit`` bytes with 413, by its Content-Length or, for a
    chunked body, as soon as the bytes received pass it (the multipart parser never sees the rest)."""

    class TooLarge(Exception):
        pass

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _send_json(send, 413, f"request body over {self.limit} bytes")
        seen, started = 0, False

        async def counted():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise BodyLimit.TooLarge()
            return msg

        async def tracked(msg):
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, counted, tracked)
        except BodyLimit.TooLarge:
            if not started:
                await _send_json(send, 413, f"request body over {self.limit} bytes")


async def _send_json(send, status: int, reason: str) -> None:
    body = json.dumps({"error": reason}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(cfg: ServeConfig, workshop: Workshop, presets: list[str]):
    """The FastAPI app over ``workshop`` (its models and output folder); its queue is ``app.state.queue``."""
    try:
        from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
        from fastapi.exceptions import RequestValidationError
        from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
        from fastapi.staticfiles import StaticFiles
        from starlette.exceptions import HTTPException as StarletteHTTPException
    except ImportError as e:  # an install without the web app's packages
        raise RuntimeError(f"avatarforge serve needs FastAPI and uvicorn ({e.name} is missing): "
                           "pip install fastapi uvicorn python-multipart") from None

    from pipeline.inputs import InputError

    def run(job, update):
        return (workshop.generate if job.kind == "generate" else workshop.batch)(job, update)

    queue = JobQueue(run, cfg.max_queue)
    app = FastAPI(title="avatarforge", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.queue = queue
    app.add_middleware(BodyLimit, limit=cfg.max_upload_bytes + (64 << 10))  # the form's other fields fit in 64 KiB
    app.state.workshop = workshop
    index_html = (STATIC / "index.html").read_text(encoding="utf-8")
    policy = page_policy(index_html)
    root = workshop.root
    steps_of = {}

    def err(status: int, reason: str):
        return JSONResponse({"error": reason}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, exc):
        return err(exc.status_code, str(exc.detail) if exc.detail else "error")

    @app.exception_handler(RequestValidationError)
    async def _bad_form(request, exc):
        first = (exc.errors() or [{}])[0]
        where = ".".join(str(x) for x in first.get("loc", ())[1:]) or "request"
        return err(400, f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(InputError)
    async def _bad_input(request, exc):
        return err(400, (str(exc).splitlines() or ["bad input"])[0])

    @app.exception_handler(Exception)
    async def _crash(request, exc):
        log.exception("request %s failed", request.url.path)
        return err(500, f"internal error: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}".rstrip(": "))

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/")
    def page():
        return Response(index_html, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": policy, "X-Frame-Options": "DENY"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/info")
    def info():
        from pipeline import __version__
        from pipeline.config_io import load_preset

        for p in presets:
            if p not in steps_of:
                steps_of[p] = int(((load_preset(p) or {}).get("optim") or {}).get("steps", 0))
        return {"version": __version__, "presets": presets, "preset": cfg.preset, "steps": steps_of,
                "libraries": list(workshop.libraries), "max_prompt_chars": cfg.max_prompt_chars,
                "max_upload_bytes": cfg.max_upload_bytes, "max_steps": cfg.max_steps, "formats": ["glb", "vrm"]}

    def options(preset: str, steps: int | None, fmt: str, library: str | None = None) -> dict:
        if preset not in presets:
            raise InputError(f"preset {preset!r}: expected one of {', '.join(presets)}")
        if steps is not None and not 0 <= steps <= cfg.max_steps:
            raise InputError(f"steps {steps}: expected 0 to {cfg.max_steps}")
        if fmt not in ("glb", "vrm"):
            raise InputError(f"format {fmt!r}: expected glb or vrm")
        if library is not None and library not in workshop.libraries:
            raise InputError(f"texture library {library!r}: expected one of {', '.join(workshop.libraries)}")
        return {"preset": preset, "steps": steps, "format": fmt, "library": library or "default"}

    async def save_upload(upload: UploadFile, stem: str, suffix: str) -> Path:
        data = await upload.read(cfg.max_upload_bytes + 1)
        if len(data) > cfg.max_upload_bytes:
            raise HTTPException(413, f"upload over {cfg.max_upload_bytes} bytes")
        if not data:
            raise InputError("the uploaded file is empty")
        path = root / UPLOADS / f"{stem}-{secrets.token_hex(6)}{suffix}"
        from texture.atomic import atomic_write_bytes

        atomic_write_bytes(path, data)
        return path

    def submit(kind: str, params: dict):
        try:
            job = queue.submit(kind, params)
        except QueueFull as e:
            raise HTTPException(429, str(e)) from None
        with queue.cond:
            return job.public()

    @app.post("/api/generate")
    async def generate(prompt: str = Form(...), seed: int = Form(0), preset: str = Form(None),
                       steps: int | None = Form(None), format: str = Form("glb"), library: str | None = Form(None),
                       image: UploadFile | None = File(None)):
        params = {"prompt": check_prompt(prompt, cfg.max_prompt_chars), "seed": seed,
                  **options(preset or cfg.preset, steps, format, library)}
        if not -(2**31) <= seed < 2**31:
            raise InputError(f"seed {seed}: expected a whole number that fits 32 bits")
        if image is not None and image.filename:
            from pipeline.inputs import load_image

            path = await save_upload(image, "image", ".img")
            try:
                load_image(path, cfg.max_pixels, label="the uploaded image")  # the guards --image has
            except InputError:
                path.unlink(missing_ok=True)
                raise
            params["image"] = path.name
            params["image_name"] = image.filename[:200]
        return submit("generate", params)

    @app.post("/api/batch")
    async def batch(prompts: UploadFile = File(...), preset: str = Form(None), steps: int | None = Form(None),
                    seed: int = Form(0), format: str = Form("glb")):
        suffix = Path(prompts.filename or "").suffix.lower()
        if suffix not in PROMPT_SUFFIXES:
            raise InputError(f"prompts file {prompts.filename!r}: expected a .txt (one prompt a line), "
                             ".jsonl or .csv file")
        params = {"seed": seed, **options(preset or cfg.preset, steps, format)}
        path = await save_upload(prompts, "prompts", suffix)
        from pipeline.batch.parse import read_prompts

        try:
            _, entries = read_prompts(str(path))
            if not entries:
                raise InputError(f"prompts file {prompts.filename!r} holds no prompts")
        except Exception:
            path.unlink(missing_ok=True)
            raise
        params.update(prompts=path.name, prompts_name=prompts.filename[:200], count=len(entries))
        return submit("batch", params)

    def job_or_404(job_id: str):
        job = queue.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id[:40]!r}")
        return job

    @app.get("/api/jobs/{job_id}")
    def job_state(job_id: str):
        job = job_or_404(job_id)
        with queue.cond:
            return job.public()

    @app.post("/api/jobs/{job_id}/cancel")
    def cancel(job_id: str):
        job = job_or_404(job_id)
        queue.cancel(job.id)
        with queue.cond:
            return job.public()

    @app.get("/api/jobs/{job_id}/events")
    def events(job_id: str):
        job = job_or_404(job_id)

        def stream():
            seen = -1
            while not queue.closed:
                if job.version != seen:
                    with queue.cond:  # the snapshot and whether it is the last one, taken together
                        seen, data, last = job.version, json.dumps(job.public()), job.over
                    yield f"data: {data}\n\n"
                    if last:
                        return
                elif not queue.wait_change(job, seen, 15.0):
                    yield ": keep-alive\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/api/gallery")
    def gallery():
        with queue.cond:
            done = [j.public() for j in queue.jobs.values() if j.kind == "generate" and j.state == "done"]
        return {"avatars": done[::-1]}

    @app.get("/api/jobs")
    def jobs():
        with queue.cond:
            return {"jobs": [j.public() for j in queue.jobs.values()][::-1]}

    @app.get("/files/{rel:path}")
    def files(rel: str, download: int = 0):
        try:
            path = safe_file(root, rel)
        except Refused as e:
            raise HTTPException(e.status, e.reason) from None
        headers = {"Content-Security-Policy": FILE_POLICY}
        return FileResponse(path, media_type=media_type(path), headers=headers,
                            filename=path.name if download else None)

    return app
