"""Batch items: validated prompts with their resolved config, a unique file stem and a config hash.

    items, bad = plan_items(entries, ItemDefaults(preset="preview", overrides=["optim.steps=5"]))

Each entry's config is ``resolve_config(entry preset or batch preset, batch config file,
batch overrides + entry overrides + seed)``. Names come from ``safe_name`` (the user's
``name`` is sanitised the same way, so ``../../x`` becomes ``x``); a name that is taken, or
whose files (``.glb`` or ``.vrm``, ``.json``, ``.png`` and its LODs ``_lod1.glb`` ...) would land on a file an
earlier item writes, gets ``_2``, ``_3``, ... in line order, so the same file always gives the same
names and no two items ever write the same file.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.batch.parse import RawEntry, _printable
from pipeline.config import GenerateConfig, resolve_config
from pipeline.config_io import ConfigError
from pipeline.inputs import InputError, clean_prompt, output_paths, safe_name


@dataclass
class ItemDefaults:
    """What every item starts from (the batch command's --preset, --config and --set)."""

    preset: str | None = None
    """Preset for items that name none (None: the default preset)."""
    config_file: str | None = None
    """YAML config file applied to every item."""
    overrides: list[str] = field(default_factory=list)
    """``key=value`` overrides applied to every item, before the item's own ``set``."""
    format: str = "glb"
    """What every item's avatar file is: ``glb`` (glTF binary) or ``vrm`` (VRM 1.0)."""


@dataclass
class BatchItem:
    """One avatar to produce: a valid prompt, its config and where its files go."""

    line: int
    """1-based line in the PROMPTS file."""
    name: str
    """File stem inside the output folder: ``<name>.glb`` (or ``.vrm``), ``.json``, ``.png``."""
    prompt: str
    """The cleaned prompt."""
    config: GenerateConfig
    """The resolved config (its ``seed`` is the item's seed)."""
    config_hash: str
    """Short sha256 of the resolved config; a changed config means the asset is redone on resume."""
    format: str = "glb"
    """``glb`` or ``vrm``: the avatar file's suffix."""

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def asset(self) -> str:
        """The avatar file's name: ``<name>.glb`` or ``<name>.vrm``."""
        return f"{self.name}.{self.format}"

    @property
    def files(self) -> list[str]:
        """The file names this item writes: the avatar, ``.json``, ``.png``, then its LODs."""
        return item_files(self.name, self.config, self.format)


FORMATS = ("glb", "vrm")
"""What ``batch --format`` accepts."""


def item_files(name: str, config: GenerateConfig, fmt: str = "glb") -> list[str]:
    """The file names an item called ``name`` writes with ``config`` as ``fmt`` (LODs included)."""
    return [p.name for p in output_paths(Path(f"{name}.{fmt}"), config.export.lods)]


@dataclass
class BadLine:
    """A PROMPTS line that cannot become an item; recorded as a failed manifest record."""

    line: int
    """1-based line in the PROMPTS file."""
    error: str
    """What is wrong, naming the bad value."""
    prompt: str | None = None
    """The prompt as read (for the report), if there was one."""


def config_hash(config: GenerateConfig) -> str:
    blob = json.dumps(asdict(config), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _item_config(entry: RawEntry, defaults: ItemDefaults) -> GenerateConfig:
    sets = [*defaults.overrides, *entry.sets]
    if entry.seed is not None:
        if isinstance(entry.seed, bool) or not str(entry.seed).strip().lstrip("-").isdigit():
            raise ConfigError(f"seed {entry.seed!r} is not an integer")
        sets.append(f"seed={int(str(entry.seed).strip())}")
    preset = entry.preset if entry.preset is not None else defaults.preset
    if preset is not None and not isinstance(preset, str):
        raise ConfigError(f"preset {preset!r} must be a preset name")
    return resolve_config(preset, defaults.config_file, sets)


def _base_name(entry: RawEntry, prompt: str) -> str:
    if entry.name is None:
        return safe_name(prompt)
    if not isinstance(entry.name, (str, int)):
        raise InputError(f"name {entry.name!r} must be a string")
    return safe_name(str(entry.name))


def _short(value) -> str | None:
    if value is None:
        return None
    s = _printable(str(value))  # the manifest and the contact sheet must be able to write it
    return s if len(s) <= 300 else s[:300] + "..."


def plan_items(entries: list[RawEntry], defaults: ItemDefaults, out_dir: str | Path | None = None
               ) -> tuple[list[BatchItem], list[BadLine]]:
    """Validate entries in line order: (items with unique names, bad lines)."""
    items: list[BatchItem] = []
    bad: list[BadLine] = []
    if defaults.format not in FORMATS:
        raise InputError(f"--format {defaults.format!r}: expected one of {', '.join(FORMATS)}")
    used: set[str] = set()
    taken: set[str] = set()  # every file name an earlier item writes
    root = Path(out_dir).resolve() if out_dir is not None else None
    for e in entries:
        if e.error is not None:
            bad.append(BadLine(e.line, e.error, _short(e.prompt)))
            continue
        try:
            if e.prompt is None or (isinstance(e.prompt, str) and not e.prompt.strip()):
                raise InputError("missing or empty 'prompt'")
            prompt = clean_prompt(e.prompt)
            cfg = _item_config(e, defaults)
            base = _base_name(e, prompt)
        except (InputError, ConfigError) as err:
            bad.append(BadLine(e.line, str(err).splitlines()[0], _short(e.prompt)))
            continue
        except Exception as err:  # noqa: BLE001 - one line's surprise must not stop the batch
            bad.append(BadLine(e.line, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
                               .rstrip(": "), _short(e.prompt)))
            continue
        name, k = base, 1
        while name in used or taken.intersection(item_files(name, cfg, defaults.format)):
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        taken.update(item_files(name, cfg, defaults.format))
        if root is not None and (root / f"{name}.glb").resolve().parent != root:  # safe_name makes this impossible
            bad.append(BadLine(e.line, f"name {e.name!r} leaves the output folder", _short(e.prompt)))
            continue
        items.append(BatchItem(e.line, name, prompt, cfg, config_hash(cfg), defaults.format))
    return items, bad
