"""``avatarforge config``: every config key with its value and documentation."""
from __future__ import annotations

import argparse

from pipeline.cli.common import EXIT_OK, add_config_args, resolve_from_args


def add_parser(sub) -> argparse.ArgumentParser:
    c = sub.add_parser("config", help="list every config key with its value and documentation")
    add_config_args(c)
    return c


def run(args) -> int:
    from pipeline.config_io import describe

    cfg = resolve_from_args(args)
    for key, value, doc in describe(cfg):
        print(f"{key} = {value!r}" + (f"    # {doc}" if doc else ""))
    return EXIT_OK
