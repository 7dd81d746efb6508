"""Copy the three.js files the web app's page uses into ``pipeline/serve/static/vendor/three/`` (MIT licence,
kept beside them), so ``avatarforge serve`` fetches nothing from the internet. Rerun to change the version:

    python scripts/vendor_three.py [--version 0.187.0]
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

FILES = {"build/three.module.js": "three.module.js", "build/three.core.js": "three.core.js", "LICENSE": "LICENSE",
         "examples/jsm/loaders/GLTFLoader.js": "addons/loaders/GLTFLoader.js",
         "examples/jsm/controls/OrbitControls.js": "addons/controls/OrbitControls.js",
         "examples/jsm/utils/BufferGeometryUtils.js": "addons/utils/BufferGeometryUtils.js",
         "examples/jsm/utils/SkeletonUtils.js": "addons/utils/SkeletonUtils.js"}
"""npm package path -> path under the vendor folder (``three/addons/`` in the page's import map)."""
DEST = Path(__file__).resolve().parents[1] / "pipeline" / "serve" / "static" / "vendor" / "three"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", default="0.187.0")
    args = ap.parse_args()
    from texture.gltf.validate import ensure_node_package

    pkg = ensure_node_package("three", f"three@{args.version}")
    version = json.loads((pkg / "package.json").read_text())["version"]
    if DEST.exists():
        shutil.rmtree(DEST)
    for src, dst in FILES.items():
        (DEST / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pkg / src, DEST / dst)
    (DEST / "VERSION").write_text(f"three {version} (npm), MIT licence (LICENSE); copied by scripts/vendor_three.py\n")
    total = sum(f.stat().st_size for f in DEST.rglob("*") if f.is_file())
    print(f"three {version}: {len(FILES)} files, {total / 1e6:.2f} MB in {DEST}")


if __name__ == "__main__":
    main()
