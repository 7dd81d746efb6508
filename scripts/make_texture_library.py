"""Write the shipped default texture library: ``texture/assets/library/<color>_<material>.png``.

Reproducible: each swatch's random state is seeded from (seed, colour, material), so the
same command writes byte-identical PNGs. Each file is written to a temp file and renamed.

    python scripts/make_texture_library.py [--out DIR] [--size 256] [--seed 0]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nerf.synthetic.avatar_spec import COLORS  # noqa: E402
from texture.library.swatches import MATERIALS, library_filename, render_swatch  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "texture" / "assets" / "library"
#: Combinations left out of the shipped library (metallic colours only make sense as hard materials).
SKIP = {(c, m) for c in ("silver", "gold") for m in MATERIALS if m not in ("solid", "metal", "leather")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    ap.add_argument("--size", type=int, default=256, help="swatch side in pixels")
    ap.add_argument("--seed", type=int, default=0, help="library seed")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    total, n = 0, 0
    for color in COLORS:
        for material in MATERIALS:
            if (color, material) in SKIP:
                continue
            img = render_swatch(material, color, args.size, random.Random(f"{args.seed}/{color}/{material}"))
            dst = args.out / library_filename(color, material)
            fd, tmp = tempfile.mkstemp(suffix=".png", dir=args.out)
            os.close(fd)
            try:
                img.save(tmp, format="PNG", optimize=True)
                os.chmod(tmp, 0o644)
                os.replace(tmp, dst)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            total += dst.stat().st_size
            n += 1
    print(f"wrote {n} swatches ({total / 1e6:.1f} MB) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
