"""``avatarforge bench``: per-stage timings and peak memory of ``generate`` and of one refinement step.

    avatarforge bench [--preset cpu] [--device cpu|cuda] [--steps N] [--json FILE]

Three measurements, all in one process with the same loaded models:

1. a full ``AvatarForge.generate`` with the preset (``end_to_end_s``; its stage timings, with
   the texture stage split into retrieval / UV / bake / rig by wrapping those functions);
2. one optimisation step exactly as :func:`pipeline.refine.refine` runs it (``step_s``), and
   the same step instrumented: field query, the rest of rendering, guidance forward, backward,
   optimiser update;
3. the two models alone on the step's own inputs: the field forward+backward on the step's
   sample points (``field_fwd_bwd_s``) and the guidance loss forward+backward on the step's
   images (``guidance_fwd_bwd_s``). ``overhead_ratio`` = step / (field + guidance): what the
   loop costs beyond the two models (sampling, compositing, bookkeeping); 1.0 is no overhead.

Every timing is the median of ``repeats`` runs after ``warmup`` runs; CUDA is synchronised.
"""
from __future__ import annotations

import os
import platform
import resource
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from pipeline.config import GenerateConfig


@dataclass
class BenchConfig:
    """What ``avatarforge bench`` measures."""

    prompt: str = "a tall knight in a red tunic with a silver helmet"
    """Prompt of the timed run."""
    repeats: int = 5
    """Timed repeats per step measurement (the median is reported)."""
    warmup: int = 2
    """Untimed repeats first (allocator, caches, lazy imports)."""
    end_to_end: bool = True
    """Also time a full ``generate`` (off: step measurements only)."""


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _now(dev: torch.device) -> float:
    _sync(dev)
    return time.perf_counter()


def _timed(fn, dev: torch.device) -> float:
    t = _now(dev)
    fn()
    return _now(dev) - t


class _TimedField:
    """Wraps a field: times its forward calls and keeps the last input points."""

    def __init__(self, field, dev):
        self._field, self._dev, self.seconds, self.points = field, dev, 0.0, None

    def __call__(self, x):
        _sync(self._dev)
        t = time.perf_counter()
        out = self._field(x)
        _sync(self._dev)
        self.seconds += time.perf_counter() - t
        self.points = x
        return out

    def __getattr__(self, name):
        return getattr(self._field, name)


@contextmanager
def _wrapped(timings: dict[str, float], targets: list[tuple[object, str, str]]):
    """Time calls of ``module.attr`` under ``timings[label]`` for the duration of the block."""
    saved = []
    for module, attr, label in targets:
        orig = getattr(module, attr)

        def timed(*a, _orig=orig, _label=label, **k):
            t = time.perf_counter()
            try:
                return _orig(*a, **k)
            finally:
                timings[_label] = timings.get(_label, 0.0) + time.perf_counter() - t

        saved.append((module, attr, orig))
        setattr(module, attr, timed)
    try:
        yield
    finally:
        for module, attr, orig in saved:
            setattr(module, attr, orig)


def time_generate(forge, config: GenerateConfig, prompt: str) -> dict:
    """A full ``generate`` into a temp folder: wall time, stage timings, refinement figures."""
    import texture.assemble as assemble
    import texture.dressed as dressed
    import texture.texturer as tpipe

    sub: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="avatarforge-bench-") as tmp:
        with _wrapped(sub, [(tpipe, "retrieve_regions", "texture.retrieve"), (assemble, "unwrap", "texture.uv"),
                            (assemble, "bake", "texture.bake"), (assemble, "skin", "texture.rig"),
                            (dressed, "bake", "texture.bake"), (dressed, "top_k_normalised", "texture.rig")]):
            t = time.perf_counter()
            res = forge.generate(prompt, Path(tmp) / "bench.glb", config)
            _sync(forge.device)
            wall = time.perf_counter() - t
    side = res.sidecar_data
    stages = {k: v for k, v in side["timings_s"].items() if k != "total"}
    stages.update({k: round(v, 4) for k, v in sub.items()})
    opt = side["optimization"]
    return {"end_to_end_s": round(wall, 3), "stages_s": stages,
            "optimize": {k: opt.get(k) for k in ("steps_run", "step_seconds", "early_stopped",
                                                 "initial_clip_score", "final_clip_score")},
            "mesh": side["mesh"]}


def time_step(forge, config: GenerateConfig, prompt: str, repeats: int, warmup: int) -> dict:
    """One refinement step, whole and split, and the field and guidance alone on its inputs."""
    from nerf.render import render_views
    from pipeline.refine import background_pool, random_views

    dev = forge.device
    cfg0 = replace(config, optim=replace(config.optim, steps=0))
    state = forge.build_field(prompt, cfg0)
    field = state.field
    guidance = config.guidance.setup(encoder=forge.encoder, text=state.text.embedding, image=None, prompt=prompt,
                                     generator=torch.Generator().manual_seed(config.seed))
    gen = torch.Generator().manual_seed(config.seed)
    bgs = background_pool(config.optim.background_pool, config.render.image_size, gen, dev)
    views = random_views(config.render.views_per_step, gen)
    bg = bgs[: len(views)]
    params = [p for p in field.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=config.optim.lr)
    w = config.optim.regularizer_weight

    def step():  # what refine() does per step
        out = render_views(field, views, config.render, bg)
        loss, _ = guidance.loss(out["rgb"], out["acc"])
        loss = loss + w * field.regularizer()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    state = {k: v.clone() for k, v in field.residual.state_dict().items()}
    timed = _TimedField(field, dev)
    parts: dict[str, list[float]] = {k: [] for k in ("field_query", "rendering", "guidance_forward", "backward",
                                                       "optimizer")}
    captured: dict[str, torch.Tensor] = {}

    def split_step():
        timed.seconds = 0.0
        marks = [_now(dev)]
        out = render_views(timed, views, config.render, bg)
        marks.append(_now(dev))
        loss, _ = guidance.loss(out["rgb"], out["acc"])
        loss = loss + w * field.regularizer()
        marks.append(_now(dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        marks.append(_now(dev))
        opt.step()
        marks.append(_now(dev))
        d = [b - a for a, b in zip(marks, marks[1:])]
        captured.update(points=timed.points.detach(), rgb=out["rgb"].detach(), acc=out["acc"].detach())
        return timed.seconds, d[0] - timed.seconds, d[1], d[2], d[3]

    def field_alone():
        density, rgb = field(captured["points"])
        (density.sum() + rgb.sum()).backward()

    def guidance_alone():
        img = captured["rgb"].clone().requires_grad_(True)
        acc = captured["acc"].clone().requires_grad_(True)
        loss, _ = guidance.loss(img, acc)
        loss.backward()

    # round-robin, so that all four measurements see the same machine load
    times: dict[str, list[float]] = {"step": [], "field": [], "guidance": []}
    for i in range(warmup + max(1, repeats)):
        t_step = _timed(step, dev)
        split = split_step()
        t_field = _timed(field_alone, dev)
        t_guid = _timed(guidance_alone, dev)
        if i >= warmup:
            for k, v in zip(parts, split):
                parts[k].append(v)
            for k, v in zip(times, (t_step, t_field, t_guid)):
                times[k].append(v)
    step_s, field_s, guidance_s = (statistics.median(times[k]) for k in ("step", "field", "guidance"))
    pts = captured["points"]
    field.residual.load_state_dict(state)
    n_views = len(views)
    size = config.render.image_size
    return {"step_s": round(step_s, 4),
            "step_breakdown_s": {k: round(statistics.median(v), 4) for k, v in parts.items()},
            "field_fwd_bwd_s": round(field_s, 4), "guidance_fwd_bwd_s": round(guidance_s, 4),
            "overhead_ratio": round(step_s / (field_s + guidance_s), 3),
            "guidance_ratio": round(step_s / guidance_s, 3),
            "rays_per_step": n_views * size * size, "samples_per_step": int(pts.shape[0])}


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "load_avg_1m": round(os.getloadavg()[0], 2), "torch": torch.__version__,
            "python": platform.python_version(),
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}
    return info


def run_bench(config: GenerateConfig, bench: BenchConfig | None = None, preset: str | None = None) -> dict:
    """Every measurement as one JSON-ready dict (see the module docstring for the keys)."""
    from pipeline.generate import AvatarForge

    bench = bench or BenchConfig()
    t = time.perf_counter()
    forge = AvatarForge(config)
    load_s = time.perf_counter() - t
    dev = forge.device
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    report = {"preset": preset or "cpu", "device": str(dev), "machine": machine(), "model_load_s": round(load_s, 3)}
    if bench.end_to_end:
        report.update(time_generate(forge, config, bench.prompt))
    report.update(time_step(forge, config, bench.prompt, bench.repeats, bench.warmup))
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report["cuda_peak_mb"] = round(torch.cuda.max_memory_allocated(dev) / 2**20, 1) if dev.type == "cuda" else None
    report["machine"]["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    return report


def print_report(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    tab = Table(title=f"avatarforge bench: preset {report['preset']} on {report['device']}")
    tab.add_column("measurement")
    tab.add_column("seconds", justify="right")
    tab.add_row("model load", f"{report['model_load_s']:.3f}")
    for k, v in report.get("stages_s", {}).items():
        tab.add_row(f"  stage {k}", f"{v:.3f}")
    if "end_to_end_s" in report:
        o = report["optimize"]
        tab.add_row("[bold]end to end (generate)", f"[bold]{report['end_to_end_s']:.3f}")
        tab.add_row(f"  steps run {o['steps_run']}, clip {o['initial_clip_score']:.3f} -> "
                    f"{o['final_clip_score']:.3f}", f"{o['step_seconds'] or 0:.3f}/step")
    tab.add_row("[bold]one step", f"[bold]{report['step_s']:.4f}")
    for k, v in report["step_breakdown_s"].items():
        tab.add_row(f"  {k}", f"{v:.4f}")
    tab.add_row(f"field fwd+bwd alone ({report['samples_per_step']} samples)", f"{report['field_fwd_bwd_s']:.4f}")
    tab.add_row("guidance fwd+bwd alone", f"{report['guidance_fwd_bwd_s']:.4f}")
    tab.add_row("overhead ratio  step / (field + guidance)", f"{report['overhead_ratio']:.3f}")
    tab.add_row("guidance ratio  step / guidance", f"{report['guidance_ratio']:.3f}")
    tab.add_row("peak CPU RSS (MB)", f"{report['peak_rss_mb']:.0f}")
    if report.get("cuda_peak_mb") is not None:
        tab.add_row("peak CUDA allocated (MB)", f"{report['cuda_peak_mb']:.0f}")
    m = report["machine"]
    Console().print(tab)
    print(f"machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['torch_threads']} threads), "
          f"gpu {m['gpu'] or 'none'}, load average {m['load_avg_1m']} -> {m['load_avg_1m_end']}")
