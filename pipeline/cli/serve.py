"""``avatarforge serve``: the local web app (prompt box, live progress, 3D viewer, gallery, batch tab)."""
from __future__ import annotations

import argparse

from pipeline.cli.common import EXIT_OK


def add_parser(sub) -> argparse.ArgumentParser:
    s = sub.add_parser("serve", help="start the local web app",
                       description="Start a local web app: write a prompt, watch the avatar appear, turn it around, "
                                   "play its clips and download it. The models load once, at start.")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 serves your network)")
    s.add_argument("--port", type=int, default=7860, help="TCP port (default 7860; 0 picks a free one)")
    s.add_argument("--preset", default="cpu", help="preset the models load for and the page starts with (default cpu)")
    s.add_argument("--out-dir", default="avatars/web", metavar="DIR",
                   help="folder for the avatars, uploads and batches (default avatars/web)")
    s.add_argument("--texture-library", action="append", default=[], metavar="DIR",
                   help="an image folder the page offers as a texture library (repeatable; indexed on first use)")
    s.add_argument("--max-upload-mb", type=float, default=20.0, metavar="MB",
                   help="largest reference image or prompts file accepted (default 20)")
    s.add_argument("--quiet", action="store_true", help="log errors only")
    return s


def run(args) -> int:
    from pipeline.serve.config import ServeConfig
    from pipeline.serve.server import serve

    serve(ServeConfig(host=args.host, port=args.port, preset=args.preset, out_dir=args.out_dir,
                      libraries=list(args.texture_library),
                      max_upload_bytes=int(args.max_upload_mb * 1024 * 1024)), quiet=args.quiet)
    return EXIT_OK
