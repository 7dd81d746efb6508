"""``manifest.jsonl``: an append-only log with one JSON record per finished batch item.

Each record is appended in one ``write`` followed by flush + fsync, so a crash leaves at
most a truncated last line; :meth:`Manifest.open` drops such a line (and any other line that
does not parse) and rewrites the file atomically before anything new is appended. The latest
record for a key (the item's name, or ``line:N`` for a line that could not be parsed) wins.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from texture.atomic import atomic_write_bytes
from texture.library.index import sha256_file as file_sha256  # noqa: F401 (re-exported)

log = logging.getLogger("avatarforge")

MANIFEST = "manifest.jsonl"


@dataclass
class Record:
    """One finished item (ok or failed) as stored in the manifest."""

    name: str | None
    """File stem of the outputs; None for a line that could not be parsed."""
    line: int
    """1-based line in the PROMPTS file."""
    prompt: str | None
    """The cleaned prompt (or the raw text of a bad line)."""
    status: str
    """``ok`` or ``failed``."""
    error: str | None = None
    """Why the item failed (None when ok)."""
    timings: dict = field(default_factory=dict)
    """Seconds: ``wall`` for the item, ``model_load`` when this item loaded the models, per-stage times."""
    sha256: dict = field(default_factory=dict)
    """sha256 of each output, keyed by file name (``<name>.glb`` or ``.vrm``, ``.json``, ``.png``, LODs)."""
    seed: int | None = None
    """The item's seed."""
    config_hash: str | None = None
    """Short hash of the resolved config."""
    worker: str | None = None
    """Which worker produced it (``local:0``, ``ray:<node ip>``, ...)."""
    finished_at: float = field(default_factory=time.time)
    """Unix time the record was written."""

    @property
    def key(self) -> str:
        return self.name if self.name is not None else f"line:{self.line}"

    @property
    def asset(self) -> str | None:
        """The avatar file the record lists (``<name>.glb`` or ``<name>.vrm``), or None."""
        for suffix in ("glb", "vrm"):
            if self.name is not None and f"{self.name}.{suffix}" in (self.sha256 or {}):
                return f"{self.name}.{suffix}"
        return None

    @classmethod
    def from_dict(cls, d: dict) -> "Record":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


class Manifest:
    """The manifest of one output folder; only the batch driver (one process) writes it."""

    def __init__(self, path: Path, records: list[Record], dropped: int):
        self.path = path
        self.records = records
        self.dropped = dropped
        """Lines ignored on open (a truncated last line from a crash, or garbage)."""
        self.latest: dict[str, Record] = {}
        for r in records:
            self.latest[r.key] = r

    @classmethod
    def open(cls, out_dir: str | os.PathLike) -> "Manifest":
        """Read ``out_dir/manifest.jsonl`` (missing = empty), dropping lines that do not parse."""
        path = Path(out_dir) / MANIFEST
        records, good, dropped = [], [], 0
        if path.exists():
            data = path.read_bytes()
            for n, raw in enumerate(data.split(b"\n"), 1):
                if not raw.strip():
                    continue
                try:
                    d = json.loads(raw)
                    rec = Record.from_dict(d)
                    if rec.status not in ("ok", "failed"):
                        raise ValueError(f"status {rec.status!r}")
                except (ValueError, TypeError) as e:
                    dropped += 1
                    log.warning("%s line %d is truncated or corrupt (%s); ignoring it", path, n,
                                type(e).__name__)
                    continue
                records.append(rec)
                good.append(raw)
            if dropped or (data and not data.endswith(b"\n")):
                atomic_write_bytes(path, b"".join(g + b"\n" for g in good))
        return cls(path, records, dropped)

    def append(self, rec: Record) -> None:
        """Append one record: a single write, then flush and fsync."""
        # backslashreplace: a lone surrogate that slipped into a field must not stop the batch (or this line)
        line = (json.dumps(asdict(rec), ensure_ascii=False, default=str) + "\n").encode("utf-8", "backslashreplace")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            done = os.write(fd, line)
            while done < len(line):  # a short write on a regular file is rare; finish it
                done += os.write(fd, line[done:])
            os.fsync(fd)
        finally:
            os.close(fd)
        self.records.append(rec)
        self.latest[rec.key] = rec

    def outputs_intact(self, rec: Record, out_dir: Path) -> bool:
        """True when every output the record lists exists with the recorded sha256."""
        if not rec.sha256 or rec.asset is None:
            return False
        for fname, digest in rec.sha256.items():
            p = out_dir / fname
            if p.parent != out_dir or not p.is_file() or file_sha256(p) != digest:
                return False
        return True
