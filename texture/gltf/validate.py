"""GLB validation with the Khronos glTF-Validator (npm package ``gltf-validator``, run by node).

The validator's node_modules folder is found via ``$AVATARFORGE_GLTF_VALIDATOR`` (a
node_modules folder, or the ``gltf-validator`` package folder itself) or the cache folder
``node/`` in the cache folder (``texture.cache``: ``$AVATARFORGE_CACHE``, else
``$XDG_CACHE_HOME/avatarforge``, else ``~/.cache/avatarforge``), where
``ensure_validator()`` installs it with npm when missing (``ensure_node_package`` installs other
packages there: the tests load GLBs with three.js too).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from texture.cache import cache_dir

ENV_VAR = "AVATARFORGE_GLTF_VALIDATOR"

_SCRIPT = r"""
const fs = require('fs');
const validator = require(process.argv[1]);
(async () => {
  const out = [];
  for (const file of process.argv.slice(2)) {
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)),
                                                 {uri: file, maxIssues: 200});
    out.push(report);
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e)); process.exit(2); });
"""


def node_dir() -> Path:
    """Where npm packages are installed: ``node`` in the cache folder (``texture.cache``)."""
    return cache_dir() / "node"


def find_validator() -> Path | None:
    """The ``gltf-validator`` package folder, or None when it is not installed."""
    candidates = []
    if os.environ.get(ENV_VAR):
        p = Path(os.environ[ENV_VAR]).expanduser()
        candidates += [p, p / "gltf-validator", p / "node_modules" / "gltf-validator"]
    candidates.append(node_dir() / "node_modules" / "gltf-validator")
    for c in candidates:
        if (c / "package.json").is_file() and (c / "index.js").is_file():
            return c
    return None


def _need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        raise RuntimeError(f"{tool!r} was not found on PATH; GLB validation needs Node.js and npm "
                           "(e.g. `apt-get install nodejs npm`)")
    return exe


def ensure_validator(timeout: float = 300.0) -> Path:
    """Return the gltf-validator package folder, installing it into ``node_dir()`` with npm if missing."""
    found = find_validator()
    if found is not None:
        return found
    if os.environ.get(ENV_VAR):
        raise RuntimeError(f"${ENV_VAR}={os.environ[ENV_VAR]!r} holds no gltf-validator package; point it at "
                           "a node_modules folder containing gltf-validator, or unset it to use the cache")
    ensure_node_package("gltf-validator", timeout=timeout)
    found = find_validator()
    if found is None:
        raise RuntimeError(f"npm installed gltf-validator into {node_dir()} without its index.js")
    return found


def ensure_node_package(name: str, spec: str | None = None, timeout: float = 300.0) -> Path:
    """The folder of npm package ``name`` in ``node_dir()``, installed there with npm (``spec``, e.g.
    ``"three@0.187"``, else the latest) when missing, or when the cached one is not the version
    ``spec`` pins (a cache another pin, or none, filled)."""
    folder = node_dir() / "node_modules" / name
    if (folder / "package.json").is_file() and _pinned_version_matches(folder / "package.json", name, spec):
        return folder
    _need("node")
    npm = _need("npm")
    prefix = node_dir()
    prefix.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), spec or name],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not (folder / "package.json").is_file():
        raise RuntimeError(f"`npm install --prefix {prefix} {spec or name}` failed ({proc.returncode}): "
                           f"{proc.stderr.strip()[-800:]}")
    return folder


def _pinned_version_matches(package_json: Path, name: str, spec: str | None) -> bool:
    """Whether the installed ``package_json`` is the version ``spec`` pins: "three@0.187" takes any
    0.187.x; no spec, a spec without a version, or a range ("^0.187") takes any version."""
    wanted = spec.rpartition("@")[2] if spec and spec.rfind("@") > 0 else ""
    if not wanted[:1].isdigit() or spec.rpartition("@")[0] != name:
        return True
    try:
        installed = str(json.loads(package_json.read_text()).get("version", ""))
    except (OSError, ValueError):
        return False
    return installed == wanted or installed.startswith(wanted + ".")


def validate_many(paths: list[str | os.PathLike], timeout: float = 120.0) -> list[dict]:
    """Validator reports (the validator's JSON as dicts) for several files in one node process."""
    files = [str(Path(p).resolve()) for p in paths]
    for f in files:
        if not os.path.isfile(f):
            raise FileNotFoundError(f"no such GLB/glTF file: {f}")
    package = ensure_validator()
    proc = subprocess.run([_need("node"), "-e", _SCRIPT, str(package), *files], capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"gltf-validator failed on {files}: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout)


def validate_glb(path: str | os.PathLike) -> dict:
    """The Khronos validator report for ``path``, e.g. ``report["issues"]["numErrors"]``.

    Adds ``report["summary"]``: ``{"errors", "warnings", "infos", "hints", "messages"}`` where
    messages lists "SEVERITY CODE pointer: message" strings for errors and warnings.
    """
    report = validate_many([path])[0]
    issues = report.get("issues", {})
    names = {0: "ERROR", 1: "WARNING"}
    report["summary"] = {
        "errors": issues.get("numErrors", 0), "warnings": issues.get("numWarnings", 0),
        "infos": issues.get("numInfos", 0), "hints": issues.get("numHints", 0),
        "messages": [f"{names[m['severity']]} {m['code']} {m.get('pointer', '')}: {m['message']}"
                     for m in issues.get("messages", []) if m.get("severity") in names],
    }
    return report
