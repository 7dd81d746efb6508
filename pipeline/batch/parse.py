"""Read a batch PROMPTS file into raw entries, one per non-blank line (or CSV row), with line numbers.

Formats, chosen by extension (``.jsonl``/``.ndjson``, ``.csv``; anything else is text):

* text: one prompt a line; ``#`` comment lines and blank lines are ignored.
* JSONL: one object a line with ``prompt`` and optional ``name``, ``seed``, ``preset``, ``set``.
* CSV: a header row naming the same fields (``prompt`` required).

``set`` is a list of ``key=value`` strings, one string of ``;``-separated ``key=value`` pairs,
or (JSONL) a mapping. A line that cannot be read becomes a :class:`RawEntry` with ``error``
set, so the batch reports it with its line number and runs the rest. Only a file that cannot
be read at all raises :class:`~pipeline.inputs.InputError` (exit 2).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.inputs import InputError

FIELDS = ("prompt", "name", "seed", "preset", "set")
"""Fields a JSONL object or CSV header may name."""
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass
class RawEntry:
    """One non-blank line of the PROMPTS file, before validation."""

    line: int
    """1-based line number in the PROMPTS file (the first line of a CSV row)."""
    prompt: Any = None
    """The prompt as read (validated later by ``clean_prompt``)."""
    name: Any = None
    """The user's file stem, or None to derive one from the prompt."""
    seed: Any = None
    """Per-item seed, or None for the config's seed."""
    preset: Any = None
    """Per-item preset, or None for the batch's preset."""
    sets: list[str] = field(default_factory=list)
    """Per-item ``key=value`` config overrides."""
    error: str | None = None
    """Why this line cannot be used (then the other fields may be empty)."""


def detect_format(path: Path) -> str:
    ext = path.suffix.lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}.get(ext, "text")


def read_prompts(path: str | Path) -> tuple[str, list[RawEntry]]:
    """(format, entries) for a PROMPTS file; raises InputError when the file itself is unusable."""
    from pipeline.inputs import read_input_bytes

    p, raw = read_input_bytes(path, "PROMPTS", MAX_FILE_BYTES)  # a .txt, .jsonl or .csv file
    if b"\0" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"PROMPTS file {str(path)!r} looks binary; expected text, .jsonl or .csv")
    text = raw.decode("utf-8-sig", errors="surrogateescape")  # bad bytes fail their own line only
    fmt = detect_format(p)
    entries = {"text": _parse_text, "jsonl": _parse_jsonl, "csv": _parse_csv}[fmt](text, str(path))
    return fmt, entries


def _bad_utf8(value: Any) -> bool:
    return isinstance(value, str) and any("\udc80" <= ch <= "\udcff" for ch in value)


def _printable(value: Any) -> Any:
    """A string as it can be shown and stored: undecodable bytes and lone surrogates become U+FFFD."""
    if not isinstance(value, str):
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if _bad_utf8(value) else \
        value.encode("utf-8", "replace").decode("utf-8")


def _finish(entry: RawEntry) -> RawEntry:
    if entry.error is None and any(_bad_utf8(v) for v in (entry.prompt, entry.name, entry.preset, *entry.sets)):
        entry.error = "not valid UTF-8"
    if entry.error is not None:  # the report and the manifest show the line; they must be able to write it
        entry.prompt, entry.name, entry.preset = (_printable(v) for v in (entry.prompt, entry.name, entry.preset))
        entry.sets = [_printable(v) for v in entry.sets]
    return entry


def _parse_text(text: str, src: str) -> list[RawEntry]:
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        out.append(_finish(RawEntry(i, prompt=line)))
    return out


def parse_sets(value: Any, line: int) -> list[str]:
    """``set`` as a list of ``key=value`` strings; raises ValueError naming the bad value."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = [s.strip() for s in value.split(";")]
    elif isinstance(value, dict):
        items = [f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in value.items()]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [s.strip() for s in value]
    else:
        raise ValueError(f"'set' must be a list of key=value strings or 'k=v;k=v', got {value!r}")
    items = [s for s in items if s]
    for s in items:
        if "=" not in s or not s.split("=", 1)[0].strip():
            raise ValueError(f"'set' entry {s!r} is not key=value (e.g. optim.steps=20)")
    return items


def _from_mapping(obj: dict, line: int) -> RawEntry:
    unknown = [k for k in obj if k not in FIELDS]
    if unknown:
        return _finish(RawEntry(line, prompt=obj.get("prompt"),
                                error=f"unknown field {unknown[0]!r}; accepted: {', '.join(FIELDS)}"))
    entry = RawEntry(line, prompt=obj.get("prompt"), name=obj.get("name") or None, seed=obj.get("seed"),
                     preset=obj.get("preset") or None)
    if entry.seed == "":
        entry.seed = None
    try:
        entry.sets = parse_sets(obj.get("set"), line)
    except ValueError as e:
        entry.error = str(e)
    return _finish(entry)


def _parse_jsonl(text: str, src: str) -> list[RawEntry]:
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        try:
            obj = json.loads(s)
        except json.JSONDecodeError as e:
            out.append(RawEntry(i, error=f"not valid JSON ({e.msg}; column {e.colno})"))
            continue
        if isinstance(obj, str):
            obj = {"prompt": obj}
        if not isinstance(obj, dict):
            out.append(RawEntry(i, error=f"expected a JSON object with a 'prompt', got {type(obj).__name__}"))
            continue
        out.append(_from_mapping(obj, i))
    return out


def _csv_rows(text: str):
    """``(first line, row or csv.Error)`` for every CSV row after the header, strictly parsed: a quote that
    never closes is an error of the row it opens (not a prompt that swallows the rest of the file), and
    reading goes on from the next line, so the other rows still run."""
    lines = text.splitlines(keepends=True)
    offset = 0
    while offset < len(lines):
        reader = csv.reader(io.StringIO("".join(lines[offset:]), newline=""), strict=True)
        end, restart = 0, None
        while True:
            start = end + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                yield offset + start, e
                restart = offset + start  # the line after the bad row's first line
                break
            end = reader.line_num
            yield offset + start, row
        offset = restart


def _csv_error(e: csv.Error, line: int) -> str:
    if "unexpected end of data" in str(e):
        return f"unterminated quote: the quoted field opened on line {line} never closes (rows after it still run)"
    return f"unreadable CSV row ({e})"


def _parse_csv(text: str, src: str) -> list[RawEntry]:
    rows = _csv_rows(text)
    first = next(rows, None)
    if first is None:
        return []
    if isinstance(first[1], csv.Error):
        raise InputError(f"PROMPTS file {src!r}: the CSV header cannot be read ({first[1]})")
    header_line, header = first
    cols = [h.strip().lower() for h in header]
    if "prompt" not in cols:
        raise InputError(f"PROMPTS file {src!r}: the CSV header {header!r} has no 'prompt' column "
                         f"(columns: {', '.join(FIELDS)})")
    unknown = [c for c in cols if c not in FIELDS]
    if unknown:
        raise InputError(f"PROMPTS file {src!r}: unknown CSV column {unknown[0]!r}; accepted: {', '.join(FIELDS)}")
    out = []
    for start, row in rows:
        if isinstance(row, csv.Error):
            out.append(_finish(RawEntry(start, error=_csv_error(row, start))))
            continue
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) > len(cols):
            out.append(_finish(RawEntry(start, prompt=row[0] if row else None,
                                        error=f"CSV row has {len(row)} cells but the header has {len(cols)}")))
            continue
        out.append(_from_mapping({c: v for c, v in zip(cols, row) if v.strip() or c == "prompt"}, start))
    return out
