"""What every command shares: exit codes, the config and model flags, and flags -> GenerateConfig."""
from __future__ import annotations

import argparse

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_INTERRUPT = 0, 1, 2, 130
"""0 success, 1 failure while running, 2 bad input (one line on stderr), 130 interrupted."""

#: command-line flag -> the config key it sets
FLAG_KEYS = (("seed", "seed"), ("steps", "optim.steps"), ("texture_library", "texture.library"),
             ("clip_model", "model.clip_model"), ("clip_pretrained", "model.clip_pretrained"),
             ("device", "model.device"), ("guidance", "guidance.kind"), ("sd_model", "guidance.sd_model"))


def add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default=None, help="preset name from configs/ (cpu, gpu, preview, ...); default cpu")
    p.add_argument("--config", default=None, metavar="FILE", help="YAML file with config sections")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set optim.steps=20 (repeatable); "
                        "see `avatarforge config` for every key")


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clip-model", default=None, metavar="NAME",
                   help="open_clip model name (e.g. ViT-B-16); default: the embedded model")
    p.add_argument("--clip-pretrained", default=None, metavar="TAG_OR_FILE",
                   help="pretrained tag (e.g. openai) or a local .safetensors/.pt file")
    p.add_argument("--device", default=None, help="auto, cpu or cuda (default auto)")


def flag_overrides(args) -> list[str]:
    """``--set`` values followed by what the dedicated flags set (``FLAG_KEYS``), as ``key=value``."""
    sets = list(getattr(args, "set", None) or [])
    for flag, key in FLAG_KEYS:
        v = getattr(args, flag, None)
        if v is not None:
            sets.append(f"{key}={v}")
    return sets


def resolve_from_args(args) -> "GenerateConfig":  # noqa: F821
    from pipeline.config import resolve_config

    return resolve_config(args.preset, args.config, flag_overrides(args))


def fail(msg: str, code: int, file=None) -> int:
    """Print the one-line error every command uses and return ``code``: the first line of ``msg``, terminal
    escapes (a library's colours) and other control characters removed."""
    import re
    import sys

    line = (msg.strip().splitlines() or [""])[0]
    line = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x1f\x7f]", "", line)
    print(f"avatarforge: error: {line}", file=file or sys.stderr)
    return code
