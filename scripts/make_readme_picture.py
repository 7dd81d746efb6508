"""The README's picture: the front and back views of six avatars the default path makes, side by side.

    python scripts/make_readme_picture.py [--out docs/images/avatars.png] [--preset cpu]

Each avatar is generated with the shipped models (``AvatarForge``, preset defaults) into a temporary folder;
the first two panels of each preview strip (front, right) are cut out and tiled. Rerun after the models or
the body change.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPTS = (
    "a tall knight in a red tunic",
    "a wizard in a purple robe and a tall hat",
    "a short stout pirate",
    "a woman in a long green dress",
    "an astronaut with a backpack",
    "a child in a yellow shirt and blue shorts",
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/images/avatars.png")
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--panel", type=int, default=200, help="height of each avatar's panel in pixels")
    args = ap.parse_args(argv)
    import numpy as np
    from PIL import Image

    from pipeline.config import resolve_config
    from pipeline.generate import AvatarForge

    cfg = resolve_config(args.preset)
    forge = AvatarForge(cfg)
    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, prompt in enumerate(PROMPTS):
            res = forge.generate(prompt, Path(tmp) / f"a{i}.glb", cfg)
            strip = np.asarray(Image.open(res.preview).convert("RGB"))
            h = strip.shape[0]
            tiles.append(Image.fromarray(strip[:, : 2 * h]).resize((2 * args.panel, args.panel), Image.LANCZOS))
            print(f"{prompt}: {res.glb.name}", flush=True)
    sheet = Image.new("RGB", (3 * 2 * args.panel, 2 * args.panel), (236, 238, 242))
    for i, t in enumerate(tiles):
        sheet.paste(t, ((i % 3) * 2 * args.panel, (i // 3) * args.panel))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
