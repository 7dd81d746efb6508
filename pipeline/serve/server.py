"""Start the web app: check the settings, load the models, bind the port, print the URL, serve until Ctrl-C."""
from __future__ import annotations

import socket
import sys
from pathlib import Path

from pipeline.inputs import InputError
from pipeline.serve.config import ServeConfig


def library_choices(folders: list[str]) -> dict[str, str | None]:
    """Page name -> ``texture.library`` value: ``default`` (the shipped swatches), then each folder by its name."""
    out: dict[str, str | None] = {"default": None}
    for f in folders:
        p = Path(f).expanduser()
        if not p.is_dir():
            raise InputError(f"--texture-library {f!r} is not a folder")
        name, k = p.resolve().name or "library", 2
        while name in out:
            name, k = f"{p.resolve().name}_{k}", k + 1
        out[name] = str(p.resolve())
    return out


def bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as e:
        raise InputError(f"--host {host!r}: {e.strerror}") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(128)
    return sock


def build(cfg: ServeConfig):
    """(app, workshop): everything checked, the models for ``cfg.preset`` loaded."""
    from pipeline.batch.run import prepare_out_dir
    from pipeline.config_io import presets
    from pipeline.serve.app import create_app
    from pipeline.serve.work import Workshop

    cfg.validate()
    names = presets()
    if cfg.preset not in names:
        raise InputError(f"--preset {cfg.preset!r}: expected one of {', '.join(names)}")
    workshop = Workshop(prepare_out_dir(cfg.out_dir), library_choices(cfg.libraries))
    workshop.warm(cfg.preset)
    return create_app(cfg, workshop, names), workshop


def serve(cfg: ServeConfig, quiet: bool = False) -> None:
    try:
        import uvicorn
    except ImportError:
        raise RuntimeError("avatarforge serve needs uvicorn: pip install fastapi uvicorn python-multipart") from None
    sock = bind(cfg.host, cfg.port)  # a taken port is said before the models load
    print(f"avatarforge serve: loading the models for preset {cfg.preset!r} ...", file=sys.stderr, flush=True)
    app, workshop = build(cfg)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    if cfg.public:
        print(f"avatarforge serve: WARNING: listening on {cfg.host}: anyone who can reach this machine can use the "
              "app and download what it made; use --host 127.0.0.1 to keep it local", file=sys.stderr, flush=True)
    print(f"avatarforge serve: http://{shown}:{port}/  (output in {workshop.root}; Ctrl-C stops)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="error" if quiet else "warning",
                                           timeout_graceful_shutdown=3, access_log=False))
    try:
        server.run(sockets=[sock])
    finally:
        queue = app.state.queue
        queue.close()  # the running job stops at its next step and leaves no partial files
        queue.thread.join(timeout=60)
        sock.close()
