"""The worker side of a batch: one :class:`AvatarForge` per worker, one item at a time, never raising.

Both backends use it: a local worker process (``pipeline.batch.local``) stages an item's
files in its own folder and the driver moves them into place; a Ray actor
(``pipeline.batch.ray_backend``) returns the files' bytes, because the driver may be on another machine.
"""
from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipeline.batch.items import BatchItem
from pipeline.batch.manifest import file_sha256


@dataclass
class Outcome:
    """What a worker reports for one item."""

    name: str
    """The item's name."""
    ok: bool
    """True when all outputs were written and look sane."""
    error: str | None = None
    """``ExceptionType: message`` when not ok."""
    timings: dict = field(default_factory=dict)
    """Seconds: ``wall``, ``model_load`` (if this item loaded models) and the generate stages."""
    sha256: dict = field(default_factory=dict)
    """sha256 of each output file, keyed by file name."""
    files: dict | None = None
    """File name -> bytes (Ray); None when the files are in ``stage_dir`` (local)."""
    stage_dir: str | None = None
    """Folder holding the staged files (local backend)."""
    worker: str = ""
    """Which worker produced it."""


class ForgeCache:
    """``AvatarForge`` instances keyed by the model-defining config sections (normally just one)."""

    def __init__(self, factory: Callable | None = None, keep: int = 2):
        self.factory = factory
        self.keep = keep
        self.forges: dict[str, object] = {}

    @staticmethod
    def key(config) -> str:
        from pipeline.config import load_key

        return load_key(config)

    def get(self, config) -> tuple[object, float | None]:
        """(forge, seconds spent loading it now, or None when it was already loaded)."""
        k = self.key(config)
        if k in self.forges:
            return self.forges[k], None
        t = time.perf_counter()
        if self.factory is None:
            from pipeline.generate import AvatarForge

            self.factory = AvatarForge
        forge = self.factory(config)
        while len(self.forges) >= self.keep:
            self.forges.pop(next(iter(self.forges)))
        self.forges[k] = forge
        return forge, round(time.perf_counter() - t, 3)


def output_files(stage: Path, item: BatchItem) -> list[Path]:
    """The files ``generate`` wrote for ``item`` (exactly its ``files``: glb or vrm, json, png and its LODs)."""
    return sorted(stage / n for n in item.files if (stage / n).is_file())


def _check_finite(sidecar: dict) -> None:
    for section in ("clip_score", "optimization"):
        for k, v in (sidecar.get(section) or {}).items():
            if isinstance(v, float) and not math.isfinite(v):
                raise FloatingPointError(f"{section}.{k} is {v} (the optimisation diverged)")
    if not sidecar.get("mesh", {}).get("triangles"):
        raise ValueError("the mesh has no triangles")


def _relative_paths(sidecar: Path, stage: Path) -> None:
    """Rewrite staging-folder paths in the sidecar as bare file names (the files end up side by side)."""
    prefix = str(stage) + os.sep

    def fix(o):
        if isinstance(o, dict):
            return {k: fix(v) for k, v in o.items()}
        if isinstance(o, list):
            return [fix(v) for v in o]
        return o[len(prefix):] if isinstance(o, str) and o.startswith(prefix) else o

    data = json.loads(sidecar.read_text())
    fixed = fix(data)
    if fixed != data:
        from texture.atomic import atomic_write_bytes

        atomic_write_bytes(sidecar, json.dumps(fixed, indent=2).encode())


def produce(cache: ForgeCache, item: BatchItem, stage: Path, worker: str, with_bytes: bool = False) -> Outcome:
    """Generate one item into ``stage``; every failure (MemoryError included) becomes a failed Outcome."""
    t0 = time.perf_counter()
    timings: dict = {}
    stage.mkdir(parents=True, exist_ok=True)
    try:
        forge, load_s = cache.get(item.config)
        if load_s is not None:
            timings["model_load"] = load_s
        res = forge.generate(item.prompt, stage / item.asset, item.config)
        _check_finite(res.sidecar_data)
        _relative_paths(Path(res.sidecar), stage)
        timings.update(res.sidecar_data.get("timings_s", {}))
        files = output_files(stage, item)
        sha = {p.name: file_sha256(p) for p in files}
        blobs = {p.name: p.read_bytes() for p in files} if with_bytes else None
        if with_bytes:
            for p in files:
                p.unlink()
        timings["wall"] = round(time.perf_counter() - t0, 3)
        return Outcome(item.name, True, None, timings, sha, blobs, None if with_bytes else str(stage), worker)
    except Exception as e:  # noqa: BLE001 - one item's failure must not stop the batch
        if os.environ.get("AVATARFORGE_DEBUG"):
            traceback.print_exc()
        for p in output_files(stage, item) if stage.is_dir() else []:
            p.unlink(missing_ok=True)
        timings["wall"] = round(time.perf_counter() - t0, 3)
        msg = str(e).splitlines()[0] if str(e) else ""
        return Outcome(item.name, False, f"{type(e).__name__}: {msg}".rstrip(": "), timings, worker=worker)


def threads_for(workers: int) -> int:
    """Torch threads per worker: the usable cores divided among the workers, at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def setup_worker(threads: int, die_with_parent: bool = True) -> None:
    """Per-process setup: thread counts, quiet libraries, and (Linux) die when the driver dies."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TQDM_DISABLE"] = "1"
    if die_with_parent and sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    import warnings

    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.ERROR, format="avatarforge worker: %(levelname)s: %(message)s")
    logging.getLogger().setLevel(logging.ERROR)
    import torch

    torch.set_num_threads(threads)
