"""``avatarforge batch``: many avatars from a PROMPTS file, resumable, on local processes or Ray.

    summary = run_batch(BatchConfig("prompts.jsonl", "out/", workers=2, resume=True))
    summary.exit_code   # 0 all ok, 1 some item failed

Per item the output folder gets ``<name>.glb`` (or ``.vrm``) ``/.json/.png``; ``manifest.jsonl`` gets one record
per finished item (written by this process alone); ``index.html`` is a contact sheet. Bad
lines are failed records with their line number; the other lines still run. ``resume``
skips items whose outputs match their manifest hashes; ``retry_failed`` redoes failed ones.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.batch.items import BadLine, BatchItem, ItemDefaults, plan_items
from pipeline.batch.manifest import MANIFEST, Manifest, Record
from pipeline.batch.parse import read_prompts
from pipeline.batch.report import INDEX, print_summary, write_index
from pipeline.batch.worker import Outcome
from pipeline.inputs import InputError
from texture.atomic import atomic_write_bytes

STAGE_DIR = ".batch-work"


@dataclass
class BatchConfig:
    """One batch run: the PROMPTS file, where outputs go, and how the work is spread."""

    prompts: str
    """Text (one prompt a line), .jsonl or .csv file."""
    out_dir: str
    """Output folder (created); holds the assets, manifest.jsonl and index.html."""
    workers: int = 1
    """Worker processes (local) or actors (Ray); each loads the models once."""
    backend: str = "local"
    """local (multiprocessing, spawn) or ray."""
    ray_address: str | None = None
    """``auto`` or ``HOST:PORT`` of an existing Ray cluster; None starts a local Ray."""
    resume: bool = False
    """Continue a batch in out_dir: skip items whose outputs match the manifest."""
    retry_failed: bool = False
    """On resume, also redo items recorded as failed (implies resume)."""
    quiet: bool = False
    """No progress bar and no summary table."""
    defaults: ItemDefaults = field(default_factory=ItemDefaults)
    """Preset, config file and overrides every item starts from."""

    def validate(self) -> None:
        if not isinstance(self.workers, int) or not 1 <= self.workers <= 512:
            raise InputError(f"--workers {self.workers}: expected a whole number from 1 to 512")
        if self.backend not in ("local", "ray"):
            raise InputError(f"--backend {self.backend!r}: expected local or ray")
        if self.ray_address and self.backend != "ray":
            raise InputError(f"--ray-address {self.ray_address!r} needs --backend ray")


@dataclass
class BatchSummary:
    """The state of the batch after a run: the latest record of every current line, in line order."""

    out_dir: Path
    records: list[Record]
    generated: int
    """Items produced ok in this run."""
    skipped: int
    """Items left as they were (resume)."""
    wall_s: float

    @property
    def ok(self) -> list[Record]:
        return [r for r in self.records if r.status == "ok"]

    @property
    def failed(self) -> list[Record]:
        return [r for r in self.records if r.status != "ok"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


MARKER = ".avatarforge-batch"
"""Written into an out-dir when a batch adopts it: the proof that its manifest, contact sheet, staging folder
and temp files are the batch's own to repair and clean (a folder without it is someone else's)."""
MARKER_FORMAT = "avatarforge.batch/1"
_TMP_OF = re.compile(r"^\.(?P<name>.+)\.(?:[A-Za-z0-9_]+\.tmp|tmp\d+)$")  # texture/atomic.py temp files (and
# older .<name>.tmp<pid> ones): the file each was to become


def _check_out_dir(path: str) -> Path:
    """The out-dir as given, checked without creating or touching anything."""
    out = Path(path).expanduser()
    for a in [out, *out.parents]:
        if os.path.islink(a) and not os.path.exists(a):
            raise InputError(f"--out-dir {path!r}: {str(a)!r} is a broken symbolic link (to {os.readlink(a)!r})")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out-dir {path!r} is a file; give a folder")
    return out


def prepare_out_dir(path: str) -> Path:
    """The out-dir, checked, created if missing and writable (an :class:`InputError` saying why otherwise)."""
    out = _check_out_dir(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create --out-dir {path!r}: {e.strerror or e}") from e
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"--out-dir {path!r} is not writable")
    return out.resolve()


def _lock(out: Path) -> int:
    """An exclusive flock on the folder itself (released when this process ends, even by SIGKILL)."""
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InputError(f"another batch is running in --out-dir {str(out)!r}; wait for it or use another folder")
    return fd


def owns(out: Path) -> bool:
    """Whether ``out`` is a batch's folder: it holds the batch marker, or (a folder from before the marker)
    a manifest every line of which is a batch record, bar a truncated last one."""
    from texture.atomic import read_regular

    try:
        if MARKER_FORMAT.encode() in read_regular(out / MARKER, 4096):
            return True
    except (OSError, ValueError):
        pass
    path = out / MANIFEST
    try:
        data = read_regular(path, 1 << 30)
    except (OSError, ValueError):
        return False
    lines = [x for x in data.split(b"\n") if x.strip()]
    good = 0
    for n, raw in enumerate(lines, 1):
        try:
            d = json.loads(raw)
            if not isinstance(d, dict) or Record.from_dict(d).status not in ("ok", "failed"):
                raise ValueError
            good += 1
        except (ValueError, TypeError):
            if n < len(lines) or data.endswith(b"\n"):  # only the last line may be cut off mid-write
                return False
    return good > 0


def _write_marker(out: Path, prompts: str) -> None:
    atomic_write_bytes(out / MARKER, json.dumps({"format": MARKER_FORMAT, "prompts": str(prompts),
                                                 "created": time.time()}).encode())


def reserved_names(items: list[BatchItem]) -> list[str]:
    """Every name in the out-dir a batch of ``items`` writes: the items' files (LODs included), the
    manifest, the contact sheet, the marker and the staging folder."""
    return [*(f for it in items for f in it.files), MANIFEST, INDEX, MARKER, STAGE_DIR]


def clean_stale(out: Path, names) -> list[str]:
    """Remove what a crashed run of this batch left: temp files of the files in ``names`` (the batch's own,
    ``.<name>.<random>.tmp``) and the worker staging folder. Call only on a folder the batch ``owns``;
    nothing else is touched."""
    names = set(names)
    removed = []
    for p in out.iterdir():
        m = _TMP_OF.match(p.name)
        if m and m.group("name") in names and p.is_file() and not p.is_symlink():
            p.unlink(missing_ok=True)
            removed.append(p.name)
    if (out / STAGE_DIR).is_dir() and not (out / STAGE_DIR).is_symlink():
        shutil.rmtree(out / STAGE_DIR, ignore_errors=True)
        removed.append(STAGE_DIR)
    return removed


def _undo(out: Path, created: bool) -> None:
    """Take back what a batch that produced nothing added to ``out`` (its marker, manifest, contact sheet and
    staging folder), and the folder itself when the batch created it and it is empty again."""
    for n in (MANIFEST, INDEX, MARKER):
        try:
            (out / n).unlink()
        except OSError:
            pass
    shutil.rmtree(out / STAGE_DIR, ignore_errors=True)
    if created:
        try:
            out.rmdir()
        except OSError:
            pass


def _bad_record(b: BadLine) -> Record:
    return Record(None, b.line, b.prompt, "failed", b.error)


def _todo(items: list[BatchItem], manifest: Manifest, out: Path, retry_failed: bool) -> list[BatchItem]:
    todo = []
    for it in items:
        rec = manifest.latest.get(it.name)
        same = (rec is not None and rec.prompt == it.prompt and rec.config_hash == it.config_hash
                and (rec.status != "ok" or rec.asset == it.asset))  # a changed --format redoes the item
        if same and rec.status == "ok" and manifest.outputs_intact(rec, out):
            continue
        if same and rec.status == "failed" and not retry_failed:
            continue
        todo.append(it)
    return todo


def _place(out: Path, o: Outcome) -> dict:
    """Move an ok outcome's files into ``out`` (the avatar file last); returns the verified hashes."""
    names = sorted(o.sha256, key=lambda n: n in (f"{o.name}.glb", f"{o.name}.vrm"))
    for n in names:
        if Path(n).name != n or n.startswith("."):
            raise InputError(f"worker returned a bad file name {n!r}")
        if o.files is not None:
            if hashlib.sha256(o.files[n]).hexdigest() != o.sha256[n]:
                raise IOError(f"{n}: bytes received do not match the worker's sha256")
            atomic_write_bytes(out / n, o.files[n])
        else:
            os.replace(Path(o.stage_dir) / n, out / n)
    return {n: o.sha256[n] for n in sorted(o.sha256)}


def run_batch(cfg: BatchConfig, console=None, runner=None) -> BatchSummary:
    """Run (or resume) a batch; InputError/ConfigError for a bad file, folder or flag (exit 2).

    ``runner(todo, stage_root, on_outcome)`` replaces the backend (``avatarforge serve`` runs the items in its own
    process, on the models it already holds): it calls ``on_outcome(item, outcome)`` once per item it produced;
    whatever it raises stops the batch as Ctrl-C would, keeping the finished items.

    Everything is checked before the out-dir is touched. A folder the batch does not own (no marker, no
    manifest of its own) is adopted only when it holds none of the names the batch writes; nothing in it is
    cleaned or replaced. A batch that stops before producing anything takes back what it added.
    """
    from pipeline.config import resolve_config
    from pipeline.inputs import check_outputs_spare_inputs
    from pipeline.limits import check_memory

    cfg.validate()
    d = cfg.defaults
    base = resolve_config(d.preset, d.config_file, d.overrides)  # bad --preset/--set: exit 2 before any work
    fmt, entries = read_prompts(cfg.prompts)
    if not entries:
        raise InputError(f"PROMPTS file {cfg.prompts!r} holds no prompts")
    if cfg.backend == "ray":
        from pipeline.batch.ray_backend import import_ray

        import_ray()  # missing Ray is said before the folder is made
    out_given = _check_out_dir(cfg.out_dir)
    items, bad = plan_items(entries, d, out_given)
    if cfg.backend == "local" or not cfg.ray_address:  # the workers share this machine's memory
        check_memory([it.config for it in items] or [base], workers=min(cfg.workers, max(1, len(items))))
    names = reserved_names(items)
    check_outputs_spare_inputs([out_given / n for n in names], [("PROMPTS", cfg.prompts), ("--config", d.config_file)],
                               out_flag="--out-dir")
    created = not os.path.lexists(out_given)
    out = prepare_out_dir(cfg.out_dir)
    lock = _lock(out)
    t0 = time.perf_counter()
    adopted, generated = False, [0]
    try:
        owned = owns(out)
        manifest = Manifest.open(out) if owned else Manifest(out / MANIFEST, [], 0)
        resume = cfg.resume or cfg.retry_failed
        if manifest.records and not resume:
            raise InputError(f"--out-dir {str(out)!r} already holds a batch ({MANIFEST}); pass --resume to continue "
                             "it (--retry-failed to redo failures) or choose an empty folder")
        if owned:
            recorded = {n for r in manifest.records for n in r.sha256} | {MANIFEST, INDEX, MARKER, STAGE_DIR}
        else:
            recorded = set()
        clash = [n for n in names if n not in recorded and os.path.lexists(out / n)]
        if clash:  # a batch must not replace (or clean) files it did not write
            raise InputError(f"--out-dir {str(out)!r} already holds {clash[0]}" +
                             (f" and {len(clash) - 1} more file(s)" if len(clash) > 1 else "") +
                             " that this batch would overwrite and did not write; choose an empty folder or move them")
        if owned:
            clean_stale(out, names + sorted(recorded))
            if not (out / MARKER).is_file():  # a folder from before the marker
                _write_marker(out, cfg.prompts)
        else:
            _write_marker(out, cfg.prompts)
            adopted = True
        from rich.console import Console

        console = console or Console(stderr=True)
        for b in bad:
            print(f"avatarforge: {cfg.prompts} line {b.line}: {b.error}", file=sys.stderr, flush=True)
            prev = manifest.latest.get(f"line:{b.line}")
            if not (prev and prev.status == "failed" and prev.error == b.error and prev.prompt == b.prompt):
                manifest.append(_bad_record(b))
        todo = _todo(items, manifest, out, cfg.retry_failed)
        skipped = len(items) - len(todo)
        counts = {"ok": 0, "failed": 0}
        todo_names = {it.name for it in todo}
        for it in items:
            if it.name not in todo_names:
                counts[manifest.latest[it.name].status] += 1
        counts["failed"] += len(bad)
        bar, task = _progress(console, cfg.quiet, len(items) + len(bad), counts)
        stage_root = out / STAGE_DIR

        def on_outcome(item: BatchItem, o: Outcome) -> None:
            status, error, sha = ("ok", None, {}) if o.ok else ("failed", o.error, {})
            if o.ok:
                try:
                    sha = _place(out, o)
                except Exception as e:  # noqa: BLE001 - a disk error fails this item only
                    status, error = "failed", f"{type(e).__name__}: could not write outputs: {e}"
            manifest.append(Record(item.name, item.line, item.prompt, status, error, o.timings, sha, item.seed,
                                   item.config_hash, o.worker or None))
            counts[status] += 1
            generated[0] += status == "ok"
            if bar is not None:
                rate = generated[0] / max(time.perf_counter() - t0, 1e-6) * 3600
                bar.update(task, advance=1, ok=counts["ok"], failed=counts["failed"],
                           left=bar.tasks[0].total - counts["ok"] - counts["failed"], rate=rate)

        try:
            if bar is not None:
                bar.start()
            if cfg.backend == "ray":
                from pipeline.batch.ray_backend import run_ray

                run_ray(todo, cfg.workers, cfg.ray_address, base.model.device, on_outcome)
            elif runner is not None:
                runner(todo, stage_root, on_outcome)
            else:
                from pipeline.batch.local import run_local

                run_local(todo, cfg.workers, stage_root, on_outcome)
        finally:
            if bar is not None:
                bar.stop()
            shutil.rmtree(stage_root, ignore_errors=True)
        current = [manifest.latest[it.name] for it in items] + [manifest.latest[f"line:{b.line}"] for b in bad]
        current.sort(key=lambda r: r.line)
        write_index(out, current, title=f"avatarforge batch: {Path(cfg.prompts).name}")
        summary = BatchSummary(out, current, generated[0], skipped, round(time.perf_counter() - t0, 3))
        if not cfg.quiet:
            print_summary(current, summary.generated, summary.wall_s, console)
        return summary
    except BaseException:
        if adopted and not generated[0]:
            _undo(out, created)
        raise
    finally:
        os.close(lock)


def _progress(console, quiet: bool, total: int, counts: dict):
    if quiet:
        return None, None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("[green]{task.fields[ok]} ok[/] [red]{task.fields[failed]} failed[/] "
                              "{task.fields[left]} left"),
                   TextColumn("{task.fields[rate]:.0f}/h"), TimeElapsedColumn(), TimeRemainingColumn(),
                   console=console, transient=False)
    done = counts["ok"] + counts["failed"]
    task = bar.add_task("batch", total=total, completed=done, ok=counts["ok"], failed=counts["failed"],
                        left=total - done, rate=0.0)
    return bar, task
