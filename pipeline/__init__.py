"""avatarforge.pipeline: encoders, fusion, guidance, ``generate``, batch, evaluation and the CLI."""
from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("avatarforge")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
