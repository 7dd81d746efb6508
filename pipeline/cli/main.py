"""The ``avatarforge`` command line: the parser and the error handling every command shares.

    avatarforge generate "a tall knight in a red tunic" --out avatars/knight.glb [--seed 0] [--steps N]
        [--preset cpu|gpu|preview|tiny] [--config FILE] [--set k=v ...] [--image REF.png]
        [--texture-library DIR] [--clip-model NAME --clip-pretrained TAG_OR_FILE]
        [--device auto|cpu|cuda] [--quiet]
    avatarforge eval [--prompts FILE [--modes ...] [--render field|mesh]] [--json FILE]
    avatarforge index-textures DIR [--index PATH]
    avatarforge batch PROMPTS --out-dir DIR [--workers N] [--backend local|ray] [--ray-address ADDR]
        [--resume] [--retry-failed]
    avatarforge bench [--preset ...] [--json FILE]
    avatarforge config [--preset NAME]          # every config key with its doc and value
    avatarforge explain PROMPT [--image REF.png] [--json] [--preset ...]   # what generate would understand
    avatarforge serve [--host 127.0.0.1] [--port 7860] [--preset cpu] [--out-dir DIR] [--texture-library DIR]

Each command is a module of this package with ``add_parser(sub)`` and ``run(args)``; ``run`` imports what
it needs, so ``--help`` and bad flags answer before torch loads. Exit codes: see ``common``.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from pipeline.cli.common import EXIT_FAIL, EXIT_INPUT, EXIT_INTERRUPT, EXIT_OK, fail

#: command -> module of this package
COMMANDS = {"generate": "generate", "eval": "eval", "index-textures": "index", "batch": "batch", "bench": "bench",
            "config": "config", "serve": "serve", "explain": "explain"}


def _command(name: str):
    return importlib.import_module(f"pipeline.cli.{COMMANDS[name]}")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="avatarforge", description="Text prompt to a rigged, textured GLB avatar.")
    ap.add_argument("--version", action="store_true", help="print the version and exit")
    sub = ap.add_subparsers(dest="command")
    for name in COMMANDS:
        _command(name).add_parser(sub)
    return ap


def _asks_for_hub_weights(args) -> bool:
    """Whether --clip-pretrained, --set model.clip_pretrained=..., or the model section of the --preset or
    --config file (a sidecar's config too) names a tag to fetch, not a file."""
    from pipeline.config_io import load_config_file, load_preset

    tags = [getattr(args, "clip_pretrained", None)]
    tags += [kv.split("=", 1)[1] for kv in getattr(args, "set", None) or []
             if kv.replace(" ", "").startswith("model.clip_pretrained=")]
    sections = []
    try:
        if getattr(args, "preset", None):
            sections.append(load_preset(args.preset))
        if getattr(args, "config", None):
            sections.append(load_config_file(args.config))
    except Exception:  # noqa: BLE001 - the command reads the file again and reports what is wrong on one line
        pass
    tags += [s["model"].get("clip_pretrained") for s in sections if isinstance(s.get("model"), dict)]
    return any(isinstance(t, str) and t and not os.path.exists(t) for t in tags)


def main(argv: list[str] | None = None) -> int:
    # before anything imports torch: busy-waiting OpenMP threads cost 10-20x on a shared CPU
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    parser = build_parser()
    args = parser.parse_args(argv)
    # offline unless the user asks for hub weights: nothing else needs the network, and a missing one
    # would otherwise cost a timeout per lookup (the workers of a batch inherit the choice)
    offline = "0" if _asks_for_hub_weights(args) else "1"
    os.environ.setdefault("HF_HUB_OFFLINE", offline)
    os.environ.setdefault("TRANSFORMERS_OFFLINE", offline)
    if args.version:
        from pipeline import __version__

        print(f"avatarforge {__version__}")
        return EXIT_OK
    if not args.command:
        parser.print_help()
        return EXIT_INPUT
    logging.basicConfig(level=logging.ERROR if getattr(args, "quiet", False) else logging.WARNING,
                        format="avatarforge: %(levelname)s: %(message)s")
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    from pipeline.config_io import ConfigError
    from pipeline.encoders.models import WeightsError
    from pipeline.inputs import InputError

    try:
        return _command(args.command).run(args)
    except (InputError, ConfigError, WeightsError) as e:
        return fail(str(e).splitlines()[0] if str(e) else type(e).__name__, EXIT_INPUT)
    except KeyboardInterrupt as e:
        return fail(str(e) or "interrupted; no partial files were left", EXIT_INTERRUPT)
    except BrokenPipeError:  # `avatarforge config | head`: the reader left; nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail again
        return EXIT_OK
    except Exception as e:  # a crash is reported on one line; details with AVATARFORGE_DEBUG=1
        if os.environ.get("AVATARFORGE_DEBUG"):
            raise
        return fail(f"{type(e).__name__}: {e}", EXIT_FAIL)


if __name__ == "__main__":
    raise SystemExit(main())
