"""What the pipeline can honour on one machine: the bound of every size-like config key, and an estimate of
a config's peak memory checked against the memory the machine (and its limits) leaves free.

Every bound below was chosen from measurements (``docs/LIMITS.md``) so that a config with that one key at
its bound, the others at the default, peaks under 8 GB of address space (``ulimit -v 8000000``) on CPU.
A value above its bound is a one-line error (exit 2) before any model loads; so is a config whose keys are
each in bounds but whose estimated peak (``estimate_peak_bytes``) does not fit the free memory.
"""
from __future__ import annotations

import os
import resource
from dataclasses import dataclass

from pipeline.config_io import value_at
from texture.gltf.config import MAX_ANIMATION_SECONDS, MAX_LODS, MAX_TEXTURE_SIZE, MAX_TRIANGLES

GB = 1 << 30


@dataclass(frozen=True)
class Limit:
    """The largest accepted value of one config key, and what it costs."""

    max: float
    why: str


#: Every size-like config key (all that scale memory, time or output size) with its largest accepted value.
LIMITS: dict[str, Limit] = {
    "reference.max_pixels": Limit(100_000_000, "a decoded 100-megapixel reference holds ~0.7 GB"),
    "fusion.hidden": Limit(4096, "model width; the trained weights fix it (1024)"),
    "fusion.out": Limit(4096, "model width; the trained weights fix it (512)"),
    "fusion.clause_hidden": Limit(4096, "model width; the trained weights fix it (256)"),
    "generator.hidden": Limit(4096, "model width; the trained weights fix it (512)"),
    "field.grid_resolution": Limit(256, "grid residual with Adam state: 1.8 GB peak at 256"),
    "field.hash_levels": Limit(16, "hash tables with Adam state: levels x 2**hash_log2_size"),
    "field.hash_log2_size": Limit(21, "hash tables with Adam state: 4.9 GB peak at 22 (12 levels), on CPU"),
    "field.hash_max_res": Limit(8192, "finest hash-grid resolution"),
    "prior_resolution": Limit(384, "baked prior grid: 1.9 GB peak at 384"),
    "render.image_size": Limit(512, "rendered views per step: 2.5 GB peak at 512"),
    "render.samples_per_ray": Limit(512, "ray samples: 1.8 GB peak at 512 (box sampling)"),
    "render.views_per_step": Limit(64, "views per step: 1.4 GB peak at 64"),
    "guidance.augmentations": Limit(16, "CLIP passes per view per step"),
    "guidance.sds.latent_size": Limit(128, "diffusion latents (1024-pixel renders)"),
    "optim.steps": Limit(20_000, "about 25 minutes of refinement on a 2-core CPU"),
    "optim.patience": Limit(20_000, "no more than the steps"),
    "optim.max_bad_steps": Limit(100, "restores of the last good state"),
    "optim.background_pool": Limit(1024, "backgrounds held at render.image_size"),
    "optim.eval_views": Limit(64, "fixed views scored before and after"),
    "mesh.resolution": Limit(512, "marching-cubes grid: 3.0 GB peak at 512"),
    "mesh.chunk": Limit(1 << 21, "points per field query"),
    "texture.texels": Limit(4096, "swatch side: 1.3 GB peak at 4096"),
    "texture.top_k": Limit(64, "library images retrieved per region"),
    "export.triangles": Limit(MAX_TRIANGLES, "2.5 GB peak and 2 minutes on a 2-core CPU at 500000"),
    "export.texture_size": Limit(MAX_TEXTURE_SIZE, "3.1 GB peak at 4096; 8192 needs more than 8 GB"),
    "export.lods": Limit(MAX_LODS, "each LOD halves the triangles"),
    "export.animation_seconds": Limit(MAX_ANIMATION_SECONDS, "keyframes of the clip"),
    "export.skin.smooth_iterations": Limit(100, "smoothing passes over the mesh graph"),
}

MAX_WORKERS = 512
"""``batch --workers``: at most this, and no more than the free memory holds (each worker loads the models)."""


def check_limits(config) -> None:
    """``ValueError`` naming the first key above its bound (``LIMITS``)."""
    for key, lim in LIMITS.items():
        v = value_at(config, key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > lim.max:
            raise ValueError(f"{key}={v}: at most {bound_text(lim.max)} on this pipeline ({lim.why}; docs/LIMITS.md)")


def bound_text(x: float) -> str:
    """A bound as written in messages and help: 500000, not 500000.0."""
    return str(int(x)) if float(x).is_integer() else str(x)


# ---------------------------------------------------------------- memory
BASE_BYTES = int(1.2 * GB)
"""Peak resident memory of the default ``generate`` on CPU (1.19 GB measured): torch, the models, the stages."""
MARGIN = 1.1
"""The estimated growth is multiplied by this before it is compared with the free memory (the estimate itself
is 7-40% above every measured peak)."""


def estimate_peak_bytes(config) -> int:
    """Peak resident memory of one ``generate`` with ``config`` on CPU, from the costs measured per key
    (docs/LIMITS.md): the baked prior and the field persist, then the largest of refinement, mesh extraction
    and texturing. Within 25% of the measured peaks of every key at its bound."""
    c = config
    prior = 15 * c.prior_resolution ** 3
    if c.field.kind == "hash":
        field = 75 * c.field.hash_levels * 2 ** c.field.hash_log2_size
    else:
        field = 36 * c.field.grid_resolution ** 3
    px = c.render.image_size ** 2
    refine = (0 if c.optim.steps == 0 else
              80 * c.render.views_per_step * px * c.render.samples_per_ray
              + 12 * px * (c.optim.background_pool + c.optim.eval_views
                           + c.render.views_per_step * c.guidance.augmentations))
    mesh = 15 * c.mesh.resolution ** 3 + 200 * c.mesh.chunk
    lod_share = 2.0 if c.export.lods else 1.0
    texture = int(118 * c.export.texture_size ** 2 + 2700 * c.export.triangles * lod_share
                  + 12 * c.texture.texels ** 2)
    return BASE_BYTES + prior + field + max(refine, mesh, texture)


def free_bytes() -> tuple[int, str]:
    """(bytes this process may still allocate, what limits it): the least of the machine's available memory,
    the cgroup's room and the address-space limit (``ulimit -v``, less what is mapped already)."""
    cands: list[tuple[int, str]] = []
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    cands.append((int(line.split()[1]) * 1024, "available memory"))
    except OSError:
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            cap = fh.read().strip()
        if cap != "max":
            with open("/sys/fs/cgroup/memory.current") as fh:
                cands.append((int(cap) - int(fh.read().strip()), "the memory cgroup's limit"))
    except (OSError, ValueError):
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        mapped = _vm_size()
        # address space grows ~1.25x faster than resident memory (thread arenas, mapped libraries)
        cands.append((int((soft - mapped) / 1.25), f"the address-space limit (ulimit -v {soft // 1024})"))
    if not cands:
        return 1 << 62, "no known limit"
    return min(cands)


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _rss() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def check_memory(configs, workers: int = 1) -> None:
    """``InputError`` when the largest of ``configs`` (times ``workers`` processes, each with its own models)
    would not fit in the memory this process may still use: said before any model loads or array is made."""
    from pipeline.inputs import InputError

    configs = list(configs)
    if not configs:
        return
    peak = max(estimate_peak_bytes(c) for c in configs)
    if workers > 1:  # each worker is a fresh process; the driver keeps what it has
        need = int(peak * MARGIN * workers)
    else:
        need = int(max(0, peak - _rss()) * MARGIN)
    have, why = free_bytes()
    if need > have:
        who = f"{workers} workers of about {peak / GB:.1f} GB each" if workers > 1 else \
            f"about {peak / GB:.1f} GB at its peak"
        raise InputError(f"this config needs {who}, more than {why} leaves ({max(have, 0) / GB:.1f} GB); lower "
                         "export.texture_size, export.triangles, mesh.resolution or render sizes"
                         + (" or --workers" if workers > 1 else "") + " (docs/LIMITS.md)")
