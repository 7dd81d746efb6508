"""Generic config plumbing: presets from YAML, ``--set key.path=value`` overrides, validation.

Works on any tree of dataclasses. Unknown keys and presets are errors that name the
bad key and the closest valid ones. Attribute docstrings become help text.
"""
from __future__ import annotations

import ast
import copy
import dataclasses
import difflib
import inspect
import json
import math
import os
import re
import textwrap
import typing
from pathlib import Path
from typing import Any

import yaml

PRESET_DIR = Path(__file__).resolve().parents[1] / "configs"
MAX_CONFIG_BYTES = 1 << 20
"""Largest ``--config`` file read (1 MiB; a preset is ~300 bytes, an avatar's sidecar ~6 KB)."""
_PRESET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class ConfigError(ValueError):
    """A bad preset, key or value; the message names it and what would be accepted."""


def _close(name: str, options) -> str:
    m = difflib.get_close_matches(name, list(options), n=3, cutoff=0.5)
    if m:
        return f"; did you mean {', '.join(m)}?"
    if len(options) > 12:
        return "; `avatarforge config` lists every key with its documentation"
    return f"; valid: {', '.join(sorted(options))}"


def presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_preset(name: str) -> dict:
    """The sections of preset ``name``: a name from ``configs/`` (never a path: a file is ``--config``'s)."""
    if not isinstance(name, str) or not _PRESET_NAME.fullmatch(name):
        raise ConfigError(f"--preset {name!r} is not a preset name; presets are {', '.join(presets())} "
                          "(a YAML file of your own goes to --config FILE)")
    path = PRESET_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}" + _close(name, presets()))
    return load_yaml(path)


class _AliasRefused(yaml.YAMLError):
    def __init__(self, anchor: str, mark):
        line = f" line {mark.line + 1}" if mark is not None else ""
        super().__init__(f"YAML aliases are not accepted (*{anchor} at{line}); write the value out")


class _NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses aliases (``*name``, and so ``<<`` merges): a few hundred bytes of
    nested aliases expand to gigabytes ("billion laughs"), and no config needs them."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            ev = self.peek_event()
            raise _AliasRefused(ev.anchor, ev.start_mark)
        return super().compose_node(parent, index)


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` without aliases (``_NoAliasLoader``); raises ``yaml.YAMLError``."""
    loader = _NoAliasLoader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
    except ValueError as e:  # PyYAML's int() of a number with more than 4300 digits
        raise yaml.YAMLError(f"a value cannot be read ({str(e).split(';')[0]})") from None
    finally:
        loader.dispose()


_PARSED: dict[tuple, Any] = {}
"""Files already parsed in this process, keyed by identity and version: the CLI reads ``--config`` twice
(the hub check, then the config), and each read must not parse it again."""


def _read_config_bytes(path: Path) -> tuple[bytes, tuple]:
    from texture.atomic import NotARegularFile, file_kind, open_regular

    kind = file_kind(path)
    if kind == "missing":
        raise ConfigError(f"config file {path} not found")
    if kind is not None:
        raise ConfigError(f"config file {path} is {kind}, not a regular file")
    try:
        with open_regular(path) as fh:
            st = os.fstat(fh.fileno())
            if st.st_size > MAX_CONFIG_BYTES:
                raise ConfigError(f"config file {path} is {st.st_size} bytes; config files are at most "
                                  f"{MAX_CONFIG_BYTES >> 20} MiB (a preset is a few hundred bytes)")
            key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if key in _PARSED:
                return b"", key
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except NotARegularFile as e:
        raise ConfigError(f"config file {path} is {e.kind}, not a regular file") from None
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror or e}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {path} is larger than {MAX_CONFIG_BYTES >> 20} MiB")
    return data, key


def load_yaml(path: str | Path) -> dict:
    """The mapping in a YAML (or JSON) file: a regular file of at most ``MAX_CONFIG_BYTES`` of UTF-8, no
    aliases, parsed once per process. Every problem is a one-line :class:`ConfigError`."""
    path = Path(path)
    raw, key = _read_config_bytes(path)
    if key not in _PARSED:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ConfigError(f"config file {path} is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset "
                              f"{e.start}); save it as UTF-8") from None
        if "\0" in text:
            raise ConfigError(f"config file {path} is binary, not YAML or JSON text")
        try:
            data = _parse_config_text(text)
        except _AliasRefused as e:
            raise ConfigError(f"config file {path}: {e}") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"config file {path} is not valid YAML: {' '.join(str(e).split())}") from None
        if len(_PARSED) > 32:
            _PARSED.clear()
        _PARSED[key] = data
    data = copy.deepcopy(_PARSED[key]) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, got {type(data).__name__}")
    return data


def _parse_config_text(text: str) -> Any:
    if text.lstrip().startswith("{"):  # a sidecar: JSON is YAML, but the JSON parser is 100x faster
        try:
            return json.loads(text)
        except RecursionError:
            raise yaml.YAMLError("nested too deeply") from None
        except ValueError:
            pass  # YAML flow style, or broken JSON: the YAML parser says where
    return parse_yaml(text)


def load_config_file(path: str | Path) -> dict:
    """The config sections of a ``--config`` file: a YAML of sections, or an avatar's sidecar JSON
    (its resolved ``config``, so the sidecar reproduces the asset), without a ``preset`` key."""
    data = load_yaml(path)
    if "config" in data and "prompt" in data:  # an avatar's sidecar JSON: reuse its resolved config
        data = data["config"]
    data.pop("preset", None)
    return data


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or str(origin) == "types.UnionType":
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{key}: bad value {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, args))}" +
                              _close(str(value), [str(a) for a in args]))
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{key}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        shown = _shown(value)
        if isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("+-").isdigit()):
            try:
                return int(value)  # exactly: a float would round a large seed
            except ValueError:  # more digits than Python converts
                raise ConfigError(f"{key}: {shown} has too many digits for an integer") from None
        try:
            f = float(value)
        except (ValueError, OverflowError):
            raise ConfigError(f"{key}: expected an integer, got {shown}") from None
        if not math.isfinite(f):
            raise ConfigError(f"{key}={shown}: expected a finite whole number")
        if f != int(f):
            raise ConfigError(f"{key}: expected an integer, got {shown}")
        return int(f)
    if tp is float:
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{key}: expected a number, got {_shown(value)}") from None
    if tp is str:
        return str(value)
    if origin in (tuple, list):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        inner = args[0] if args else Any
        items = [_coerce(v, inner, key) if inner is not Any else v for v in value]
        return tuple(items) if origin is tuple else items
    return value


def _shown(value: Any, limit: int = 40) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[:limit] + "..."


def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def apply_dict(cfg: Any, data: dict, prefix: str = "") -> None:
    """Merge a nested mapping into a dataclass tree in place, validating every key and value."""
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    hints = _hints(type(cfg))
    for k, v in data.items():
        key = f"{prefix}{k}"
        if k not in fields:
            raise ConfigError(f"unknown config key {key!r}" + _close(k, fields))
        cur = getattr(cfg, k)
        if dataclasses.is_dataclass(cur):
            if not isinstance(v, dict):
                raise ConfigError(f"{key}: expected a section (mapping), got {v!r}")
            apply_dict(cur, v, key + ".")
        else:
            setattr(cfg, k, _coerce(v, hints[k], key))


def all_keys(cfg: Any, prefix: str = "") -> list[str]:
    out = []
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v):
            out += all_keys(v, f"{prefix}{f.name}.")
        else:
            out.append(f"{prefix}{f.name}")
    return out


def apply_override(cfg: Any, expr: str) -> None:
    """Apply one ``key.path=value`` override (value parsed as YAML)."""
    if "=" not in expr:
        raise ConfigError(f"--set {expr!r}: expected key.path=value")
    key, raw = expr.split("=", 1)
    key = key.strip()
    parts = key.split(".")
    keys = all_keys(cfg)
    if key not in keys:
        inside = [k for k in keys if k.startswith(key + ".")]
        if key and inside:
            raise ConfigError(f"{key!r} is a section, not a key; set one of its keys, e.g. {inside[0]}="
                              f"{value_at(cfg, inside[0])!r} (`avatarforge config` lists them)")
        raise ConfigError(f"unknown config key {key!r}" + _close(key, keys))
    try:
        value = parse_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError as e:
        if isinstance(e, _AliasRefused):
            raise ConfigError(f"--set {key}: {e}") from None
        value = raw
    node: dict = {}
    cur = node
    for p in parts[:-1]:
        cur[p] = {}
        cur = cur[p]
    cur[parts[-1]] = value
    apply_dict(cfg, node)


def value_at(cfg: Any, key: str) -> Any:
    """The value of dotted ``key`` (``export.triangles``) in a config."""
    for p in key.split("."):
        cfg = getattr(cfg, p)
    return cfg


def check_tree(cfg: Any, prefix: str = "") -> None:
    """Every value in range before anything runs: no NaN or infinite number anywhere, and each
    section's own ``check()`` (which raises ``ValueError`` naming its field first, as in
    "texture_size=300: ..."); the message gains the section's path ("export.texture_size=300: ...").
    """
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v):
            check_tree(v, f"{prefix}{f.name}.")
        elif isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"{prefix}{f.name}={v}: expected a finite number")
    check = getattr(cfg, "check", None)
    if callable(check):
        try:
            check()
        except ValueError as e:
            raise ConfigError(f"{prefix}{e}") from e


def attribute_docs(cls) -> dict[str, str]:
    """Attribute docstrings of a dataclass (the string literal right after each field), base classes' too."""
    docs: dict[str, str] = {}
    for base in reversed(cls.__mro__[1:]):
        if dataclasses.is_dataclass(base):
            docs.update(attribute_docs(base))
    return docs | _own_attribute_docs(cls)


def _own_attribute_docs(cls) -> dict[str, str]:
    try:
        src = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    tree = ast.parse(src)
    docs: dict[str, str] = {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for a, b in zip(body, body[1:]):
        if isinstance(a, ast.AnnAssign) and isinstance(a.target, ast.Name) and isinstance(b, ast.Expr) \
                and isinstance(getattr(b, "value", None), ast.Constant) and isinstance(b.value.value, str):
            docs[a.target.id] = " ".join(b.value.value.split())
    return docs


def describe(cfg: Any, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(key, current value, doc) for every leaf of the config tree: the CLI's config help."""
    out = []
    docs = attribute_docs(type(cfg))
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v):
            out += describe(v, f"{prefix}{f.name}.")
        else:
            out.append((f"{prefix}{f.name}", v, docs.get(f.name, "")))
    return out
