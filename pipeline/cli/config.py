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
    from pipeline.limits import LIMITS, bound_text

    cfg = resolve_from_args(args)
    for key, value, doc in describe(cfg):
        lim = LIMITS.get(key)
        if lim is not None and bound_text(lim.max) not in doc.replace(",", ""):  # every bound is listed
            doc = f"{doc} At most {bound_text(lim.max)}.".strip()
        print(f"{key} = {value!r}" + (f"    # {doc}" if doc else ""))
    return EXIT_OK
