"""The one folder avatarforge caches into: ``$AVATARFORGE_CACHE``, else ``$XDG_CACHE_HOME/avatarforge``, else
``~/.cache/avatarforge``. Texture indexes of read-only libraries and the npm packages of the validator and the
engine tests live under it; nothing in it is needed to reproduce an asset."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache folder (not created here)."""
    if os.environ.get("AVATARFORGE_CACHE"):
        return Path(os.environ["AVATARFORGE_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "avatarforge"
