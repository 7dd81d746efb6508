"""Shared pytest fixtures (keep this small; package-specific fixtures live beside their tests)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # set before torch is imported (see pipeline/cli/main.py)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests import nerf/texture/pipeline from the checkout
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def gltf_validator() -> Path:
    """The Khronos gltf-validator npm package folder (installed into the cache on first use).

    Skips when Node.js/npm are missing or the install fails (e.g. offline); set
    ``AVATARFORGE_GLTF_VALIDATOR`` to a node_modules folder to use an existing install.
    """
    from texture.gltf.validate import ensure_validator

    try:
        return ensure_validator()
    except (RuntimeError, OSError) as e:
        if os.environ.get("CI"):  # CI must really validate, never skip silently
            pytest.fail(f"gltf-validator unavailable in CI: {e}")
        pytest.skip(f"gltf-validator unavailable: {e}")
