"""The ``avatarforge`` command line: one module per command."""
from pipeline.cli.main import main

__all__ = ["main"]
