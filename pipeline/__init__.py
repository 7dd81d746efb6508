"""avatarforge.pipeline: encoders, fusion, guidance, ``generate``, batch and the CLI."""
from __future__ import annotations

__version__ = "0.1.0"
