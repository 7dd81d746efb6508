"""What a queued job does: one ``generate`` (or one batch) on the models the server keeps loaded, reporting
stages, refinement steps and items through ``update``, which raises ``Cancelled`` when the user cancels."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

from pipeline.batch.worker import ForgeCache
from pipeline.inputs import InputError
from pipeline.serve.jobs import Job

AVATARS, UPLOADS, BATCHES = "avatars", "uploads", "batches"
"""Sub-folders of the output folder."""


class Workshop:
    """The server's loaded models and output folder, and the two kinds of job run on them."""

    def __init__(self, root: str | os.PathLike, libraries: dict[str, str | None], cache: ForgeCache | None = None):
        self.root = Path(root)
        self.libraries = libraries
        """Name shown in the page -> ``texture.library`` value (None: the shipped swatches)."""
        self.cache = cache or ForgeCache(keep=2)
        for sub in (AVATARS, UPLOADS, BATCHES):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def url(self, path: Path) -> str:
        return "/files/" + path.relative_to(self.root).as_posix()

    def overrides(self, p: dict) -> list[str]:
        sets = [f"seed={int(p['seed'])}"]
        if p.get("steps") is not None:
            sets.append(f"optim.steps={int(p['steps'])}")
        lib = self.libraries.get(p.get("library") or "default")
        if lib:
            sets.append(f"texture.library={lib}")
        return sets

    def config(self, p: dict):
        from pipeline.config import resolve_config

        return resolve_config(p["preset"], None, self.overrides(p))

    def warm(self, preset: str) -> float | None:
        """Load the models for ``preset`` now (at start), so the first request costs what every later one does."""
        return self.cache.get(self.config({"preset": preset, "seed": 0}))[1]

    # ------------------------------------------------------------ generate
    def generate(self, job: Job, update) -> dict:
        from pipeline.inputs import default_output
        from pipeline.limits import check_memory

        p = job.params
        cfg = self.config(p)
        check_memory([cfg])
        update(steps=cfg.optim.steps, stage="load")
        forge, _ = self.cache.get(cfg)
        out, _ = default_output(p["prompt"], self.root / AVATARS, cfg.export.lods)
        if p.get("format") == "vrm":
            out = out.with_suffix(".vrm")
        image = str(self.root / UPLOADS / p["image"]) if p.get("image") else None
        res = forge.generate(p["prompt"], out, cfg, image=image,
                             progress=lambda s, i: update(step=s, loss=float(i["loss"]),
                                                          clip_score=float(i["clip_score"])),
                             on_stage=lambda name: update(stage=name))
        sc = res.sidecar_data
        return {"files": {"avatar": self.url(Path(res.glb)), "sidecar": self.url(Path(res.sidecar)),
                          "preview": self.url(Path(res.preview))},
                "name": Path(res.glb).name, "summary": summary(sc)}

    # ------------------------------------------------------------ batch
    def batch(self, job: Job, update) -> dict:
        from pipeline.batch.items import ItemDefaults
        from pipeline.batch.run import BatchConfig, run_batch
        from pipeline.batch.worker import produce

        p = job.params
        out = self.root / BATCHES / job.id
        defaults = ItemDefaults(p["preset"], None, self.overrides(p), p.get("format") or "glb")

        def runner(todo, stage_root, on_outcome):
            update(steps=len(todo), step=0)
            for i, item in enumerate(todo, 1):
                update(stage=f"item {i}/{len(todo)}: {item.name}")
                on_outcome(item, produce(self.cache, item, Path(stage_root) / "serve", "serve"))
                update(step=i)

        s = run_batch(BatchConfig(str(self.root / UPLOADS / p["prompts"]), str(out), quiet=True, defaults=defaults),
                      runner=runner)
        update(stage="zip")
        archive = zip_folder(out, self.root / BATCHES / f"{job.id}.zip")
        items = []
        for r in s.records:
            files = {}
            if r.status == "ok" and r.asset:
                files = {"avatar": self.url(out / r.asset), "sidecar": self.url(out / f"{r.name}.json"),
                         "preview": self.url(out / f"{r.name}.png")}
            items.append({"line": r.line, "name": r.name, "prompt": r.prompt, "status": r.status, "error": r.error,
                          "files": files})
        return {"ok": len(s.ok), "failed": len(s.failed), "items": items,
                "files": {"index": self.url(out / "index.html"), "zip": self.url(archive)}}


def summary(sc: dict) -> dict:
    """The sidecar entries the page shows: what the prompt was understood as, the mesh, the clips, the timings."""
    export = sc.get("export") or {}
    return {"prompt": sc.get("prompt"), "seed": sc.get("seed"),
            "understood": {"template": sc.get("template"), "height_m": (sc.get("body") or {}).get("height_m"),
                           "pieces": (sc.get("body") or {}).get("pieces"), "report": sc.get("understood")},
            "warnings": sc.get("warnings") or [], "triangles": (sc.get("mesh") or {}).get("triangles"),
            "joints": export.get("joints"), "animations": export.get("animations") or [],
            "morph_targets": export.get("morph_targets") or [], "clip_score": sc.get("clip_score"),
            "timings_s": sc.get("timings_s")}


def zip_folder(folder: Path, dest: Path) -> Path:
    """``dest``: a zip of the batch's outputs (its manifest and contact sheet too; no hidden or staging files),
    written beside it under a temporary name and renamed into place."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:  # GLBs and PNGs are compressed already
            for f in sorted(folder.iterdir()):
                if f.is_file() and not f.is_symlink() and not f.name.startswith("."):
                    z.write(f, f"{folder.name}/{f.name}")
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def check_prompt(prompt, max_chars: int) -> str:
    from pipeline.inputs import clean_prompt

    if not isinstance(prompt, str):
        raise InputError("prompt must be text")
    if len(prompt) > max_chars:
        raise InputError(f"prompt is {len(prompt)} characters; at most {max_chars} are accepted")
    return clean_prompt(prompt)
