"""CLIP-guided refinement of a field: random views, random backgrounds, Adam, early stopping.

When the final score is below the start's, the start is handed back (``revert_if_worse``).

A NaN/inf loss restores the last good state and lowers the learning rate; if that
happens ``max_bad_steps`` times the run fails with a clear message.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable, Literal

import torch

from nerf.cameras import View, standard_views
from nerf.render import RenderConfig, render_views
from pipeline.artifacts import RefineStats


@dataclass
class OptimConfig:
    """The refinement loop."""

    steps: int = 60
    """Optimisation steps (0 = the amortised avatar as it is)."""
    lr: float = 0.03
    """Adam learning rate of the residual field."""
    regularizer_weight: float = 2.0
    """Weight of the residual's smoothness/magnitude regulariser."""
    patience: int = 25
    """Stop early when the smoothed CLIP score has not improved for this many steps (0 = never)."""
    min_delta: float = 1e-5
    """Smallest rise of the smoothed CLIP score that counts as an improvement for early stopping."""
    max_bad_steps: int = 3
    """NaN/inf losses tolerated (each restores the last good state and halves the lr) before failing."""
    background_pool: int = 32
    """Random backgrounds drawn once and reused."""
    eval_views: int = 4
    """Fixed views used to measure the CLIP score before and after."""
    revert_if_worse: bool = True
    """Hand back the starting field when the final CLIP score (on the ``eval_views`` fixed views) is
    below the initial one, so refinement never returns an avatar its own guidance scores worse than
    the one it was given; the sidecar's ``optimization.reverted`` says when it did, and
    ``reverted_from_clip_score`` what the discarded field scored."""
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    """fp32, bf16 or fp16: autocast of rendering and guidance in each step (mixed precision).
    bf16 needs no loss scaling (Ampere or newer GPUs); fp16 uses a gradient scaler. The
    parameters, Adam state and the loss stay in float32."""

    def check(self) -> None:
        for name in ("steps", "patience", "max_bad_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)}: must be >= 0")
        for name in ("background_pool", "eval_views"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)}: at least 1")
        if self.lr <= 0:
            raise ValueError(f"lr={self.lr}: must be > 0")
        if self.regularizer_weight < 0 or self.min_delta < 0:
            raise ValueError(f"regularizer_weight={self.regularizer_weight}, min_delta={self.min_delta}: "
                             "must be >= 0")


PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(precision: str, device: torch.device):
    """The autocast context of ``precision`` on ``device`` (a no-op for fp32)."""
    if precision not in PRECISIONS:
        raise ValueError(f"optim.precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    dtype = PRECISIONS[precision]
    return torch.autocast(device.type, dtype=dtype, enabled=dtype is not None)


class OptimizationError(RuntimeError):
    """The loss kept diverging."""


def background_pool(n: int, size: int, gen: torch.Generator, device) -> torch.Tensor:
    """Float[n, size, size, 3]: solid colours, vertical gradients and smooth noise (DreamFields)."""
    c1 = torch.rand(n, 1, 1, 3, generator=gen)
    c2 = torch.rand(n, 1, 1, 3, generator=gen)
    t = torch.linspace(0, 1, size).view(1, size, 1, 1)
    grad = c1 * (1 - t) + c2 * t
    noise = torch.nn.functional.interpolate(torch.rand(n, 3, 6, 6, generator=gen), size=(size, size), mode="bilinear",
                                            align_corners=False).permute(0, 2, 3, 1)
    kind = torch.arange(n) % 3
    out = torch.where(kind.view(n, 1, 1, 1) == 0, c1.expand(n, size, size, 3),
                      torch.where(kind.view(n, 1, 1, 1) == 1, grad, 0.5 * noise + 0.5 * c1))
    return out.to(device)


def random_views(n: int, gen: torch.Generator) -> list[View]:
    """Front, back and sides in turn with a random offset and elevation (all sides every step)."""
    base = float(torch.rand(1, generator=gen)) * 2 * math.pi
    el = torch.rand(n, generator=gen) * 0.45 - 0.1
    return [View((base + 2 * math.pi * i / n) % (2 * math.pi), float(el[i])) for i in range(n)]


def clip_score(field, guidance, render: RenderConfig, n_views: int) -> float:
    with torch.no_grad():
        views = standard_views(n_views, 0.1)
        dev = next(iter(field.buffers())).device
        bg = torch.ones(n_views, render.image_size, render.image_size, 3, device=dev)
        out = render_views(field, views, render, bg)
        return float(guidance.score(out["rgb"]))


def refine(field, guidance, render: RenderConfig, config: OptimConfig, seed: int = 0,
           progress: Callable[[int, dict], None] | None = None) -> RefineStats:
    """Optimise ``field``'s residual against ``guidance``; what happened, for the sidecar."""
    gen = torch.Generator().manual_seed(seed)
    dev = next(iter(field.buffers())).device
    params = [p for p in field.parameters() if p.requires_grad]
    initial = clip_score(field, guidance, render, config.eval_views)
    stats = RefineStats(initial_clip_score=initial, final_clip_score=initial)
    if config.steps <= 0 or not params:
        return stats
    lr = config.lr
    opt = torch.optim.Adam(params, lr=lr)
    amp = autocast(config.precision, dev)
    scaler = torch.amp.GradScaler(dev.type, enabled=config.precision == "fp16")
    bgs = background_pool(config.background_pool, render.image_size, gen, dev)
    good = copy.deepcopy(field.residual.state_dict())
    start = copy.deepcopy(good) if config.revert_if_worse else None
    best, since_best, ema = -1e9, 0, None
    t0 = time.perf_counter()
    for step in range(config.steps):
        views = random_views(render.views_per_step, gen)
        pick = torch.randint(0, config.background_pool, (len(views),), generator=gen)
        with amp:
            out = render_views(field, views, render, bgs[pick])
            loss, info = guidance.loss(out["rgb"], out["acc"])
        loss = loss.float() + config.regularizer_weight * field.regularizer()
        if not torch.isfinite(loss):
            stats.bad_steps += 1
            if stats.bad_steps > config.max_bad_steps:
                raise OptimizationError(f"loss was NaN/inf {stats.bad_steps} times (last at step {step}) "
                                        f"even after lowering the learning rate to {lr:g}; try a smaller "
                                        f"--set optim.lr or fewer --steps")
            field.residual.load_state_dict(good)
            lr *= 0.5
            opt = torch.optim.Adam(params, lr=lr)
            continue
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        if step % 5 == 0:
            good = copy.deepcopy(field.residual.state_dict())
        stats.steps_run = step + 1
        ema = info["clip_score"] if ema is None else 0.9 * ema + 0.1 * info["clip_score"]
        if ema > best + config.min_delta:
            best, since_best = ema, 0
        else:
            since_best += 1
        info.update(step=step + 1, loss=float(loss.detach()), lr=lr)
        if progress:
            progress(step + 1, info)
        if config.patience and since_best >= config.patience:
            stats.early_stopped = True
            break
    stats.optimize_seconds = round(time.perf_counter() - t0, 3)
    stats.step_seconds = round(stats.optimize_seconds / max(1, stats.steps_run), 4)
    stats.final_clip_score = clip_score(field, guidance, render, config.eval_views)
    if start is not None and stats.final_clip_score < stats.initial_clip_score:
        field.residual.load_state_dict(start)
        stats.reverted, stats.reverted_from_clip_score = True, stats.final_clip_score
        stats.final_clip_score = stats.initial_clip_score
    return stats
