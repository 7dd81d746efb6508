"""``generate``: prompt (+ optional reference image) -> rigged, textured GLB + sidecar + preview.

Stages (each takes typed artifacts and a config section, returns an artifact):

encode prompt -> reference image -> image features -> FusionMLP -> ShapeGenerator ->
template prior + residual field -> CLIP-guided refinement -> marching cubes mesh ->
retrieval texturer (UV, bake) -> skeleton + skin -> GLB, sidecar JSON, preview PNG.

:class:`AvatarForge` loads the models once; batch workers keep one per process.
"""
from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from nerf.artifacts import REGIONS
from nerf.fields import make_field
from nerf.mesh import extract_mesh
from nerf.prior import BakedPrior
from nerf.synthetic.clauses import split_clauses
from nerf.template import TemplateParams, primitive_distances, primitives, region_weights, skeleton
from pipeline import __version__
from pipeline.amortised import AmortisedModel
from pipeline.artifacts import AmortisedAvatar, AvatarResult, Conditioning, ImageFeatures, TextFeatures
from pipeline.config import GenerateConfig
from pipeline.config_io import check_tree
from pipeline.encoders.clip_encoder import ClipEncoder
from pipeline.guidance import make_guidance
from pipeline.inputs import InputError, check_output, clean_prompt, load_image, resolve_device
from pipeline.refine import refine
from texture.atomic import atomic_write_bytes, staged

log = logging.getLogger("avatarforge")


class Timer:
    def __init__(self):
        self.stages: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = round(self.stages.get(name, 0.0) + time.perf_counter() - t, 4)


class AvatarForge:
    """Loaded models (CLIP encoder, amortised generator, texture library) reused across prompts."""

    def __init__(self, config: GenerateConfig):
        self.device = resolve_device(config.model.device)
        self.encoder = ClipEncoder.load(config.model.clip_model or None, config.model.clip_pretrained or None,
                                        self.device)
        self.amortised = AmortisedModel.load_for(self.encoder, config, self.device)
        self._library = None
        self._library_key = None

    # -------------------------------------------------------------- stages
    def encode_prompt(self, prompt: str) -> TextFeatures:
        # only a trained generator reads the clauses (with a user's CLIP there is none)
        reads_clauses = self.amortised.trained and self.amortised.fusion.clauses is not None
        clauses = split_clauses(prompt) if reads_clauses else []
        tok = self.encoder.tokenize([prompt] + clauses)
        emb = self.encoder.encode_tokens(tok)
        return TextFeatures(prompt, emb[0], truncated=tok.truncated[0], unknown=tok.unknown[0], clauses=clauses,
                            clause_embeddings=emb[1:] if clauses else None)

    def library(self, config: GenerateConfig):
        from texture.library import open_library

        key = config.texture.library or "<default>"
        if self._library is None or self._library_key != key:
            self._library = open_library(config.texture.library or None, self.encoder, quiet=True)
            self._library_key = key
        return self._library

    def reference(self, text: TextFeatures, image_path: str | None, config: GenerateConfig) -> ImageFeatures:
        if image_path:
            img = load_image(image_path, config.reference.max_pixels)
            emb = torch.from_numpy(self.encoder.encode_images([img])[0])
            return ImageFeatures(emb, source=str(image_path))
        if not config.reference.use_library:
            return ImageFeatures(None)
        lib = self.library(config)
        best = lib.best_match(text.embedding.cpu().numpy())
        if best is None:
            return ImageFeatures(None)
        path, score, emb = best
        return ImageFeatures(torch.from_numpy(emb), source=f"library:{path}", score=score)

    def condition(self, text: TextFeatures, image: ImageFeatures) -> Conditioning:
        return Conditioning(self.amortised.fuse(text.embedding, image.embedding, text.clause_embeddings))

    def template(self, cond: Conditioning) -> TemplateParams:
        return self.amortised.decode(cond.z)

    def amortised_template(self, prompt: str, config: GenerateConfig, image: str | None = None,
                           timer: "Timer | None" = None) -> AmortisedAvatar:
        """What ``--steps 0`` decodes, without building a field."""
        timer = timer or Timer()
        text, ref = self.features(prompt, config, image, timer)
        with timer("condition"):
            params = self.template(self.condition(text, ref))
        return AmortisedAvatar(text, ref, params)

    def features(self, prompt: str, config: GenerateConfig, image: str | None, timer: "Timer",
                 library: bool = True) -> tuple[TextFeatures, ImageFeatures]:
        """The prompt's text features and the reference's (the user's image, else a library match unless
        ``library`` is False, or none)."""
        with timer("encode"):
            text = self.encode_prompt(prompt)
        with timer("reference"):
            ref = self.reference(text, image, config) if image or library else ImageFeatures(None)
        return text, ref

    def build_field(self, prompt: str, config: GenerateConfig, image: str | None = None, init: str = "amortised",
                    timer: "Timer | None" = None, progress: Callable[[int, dict], None] | None = None,
                    start: TemplateParams | None = None):
        """Stages up to the refined field: (TextFeatures, ImageFeatures, TemplateParams, field, stats).

        ``init`` = "amortised" (the trained generator's avatar) or "template" (the neutral prior).
        ``start`` replaces either with given parameters, colours kept as the generator's would be
        (``avatarforge eval`` refines the prompts' ground-truth avatars this way).
        """
        timer = timer or Timer()
        if start is None and init == "amortised":
            text, ref, params = self.amortised_template(prompt, config, image, timer)
        else:  # the start is given or neutral: the generator's avatar is not needed, nor a library reference
            text, ref = self.features(prompt, config, image, timer, library=False)  # (only the generator reads it)
            params = start if start is not None else TemplateParams.default(self.device)
        # the neutral template (or an untrained generator's) has no colours to keep: guidance paints them
        keeps_colors = start is not None or (init == "amortised" and self.amortised.trained)
        with timer("prior"):
            prior = BakedPrior.bake(params, config.prior_resolution)
            field_config = config.field if keeps_colors else replace(config.field, max_color_shift=-1.0)
            field = make_field(field_config, prior, self.device)
        guidance = make_guidance(config.guidance, encoder=self.encoder, text=text.embedding, prompt=prompt,
                                 image=ref.embedding if image else None,
                                 generator=torch.Generator().manual_seed(config.seed))
        with timer("optimize"):
            opt = refine(field, guidance, config.render, config.optim, seed=config.seed, progress=progress)
        opt["max_color_shift"] = field_config.max_color_shift  # the bound in effect (see FieldConfig)
        if getattr(guidance, "counterfactuals", None):  # guidance.contrast_weight's counterfactual prompts
            opt["contrasted_with"] = list(guidance.counterfactuals)
        return text, ref, params, field, opt

    def mesh_and_texture(self, prompt: str, text: TextFeatures, ref: ImageFeatures, params: TemplateParams, field,
                         config: GenerateConfig, image: str | None = None, timer: "Timer | None" = None):
        """Marching cubes, then the retrieval texturer and the rig: (MeshArtifact, RiggedMesh, texture info)."""
        from texture.texturer import texture_and_rig

        timer = timer or Timer()
        prior = field.prior
        with timer("mesh"):
            mesh = extract_mesh(field_query(field, params), prior.lo.cpu().numpy(), prior.hi.cpu().numpy(),
                                skeleton(params.shape), replace(config.mesh, triangles=config.export.triangles))
        with timer("texture"):
            cond = text.embedding.float().cpu()
            if image and ref.embedding is not None:  # the user's reference re-ranks swatches too
                cond = torch.nn.functional.normalize(cond + ref.embedding.float().cpu(), dim=-1)
            rigged, tex_info = texture_and_rig(mesh, prompt, self.library(config), self.encoder, config.texture,
                                               config.export, conditioning=cond.numpy())
        return mesh, rigged, tex_info

    # -------------------------------------------------------------- run
    def generate(self, prompt: str, out: str | os.PathLike, config: GenerateConfig, image: str | None = None,
                 progress: Callable[[int, dict], None] | None = None) -> AvatarResult:
        from texture.gltf.export import export_glb
        from texture.preview import render_preview

        prompt = clean_prompt(prompt)
        check_tree(config)  # a config built in code, not through resolve_config, is checked too
        out = check_output(out)
        torch.manual_seed(config.seed)
        np.random.seed(config.seed % (2**32))
        timer = Timer()
        warnings: list[str] = []
        t_all = time.perf_counter()
        text, ref, params, field, opt = self.build_field(prompt, config, image, timer=timer, progress=progress)
        if text.truncated:
            msg = (f"prompt is longer than the text encoder's context ({self.encoder.context_length} tokens) "
                   "and was truncated")
            log.warning(msg)
            warnings.append(msg)
        if text.unknown:
            parts = ", ".join(repr(u) for u in dict.fromkeys(text.unknown))
            if "".join(text.unknown) == "".join(prompt.split()):
                msg = (f"the text encoder reads none of the prompt (no token for {parts}): "
                       "the avatar follows no description")
            else:
                msg = f"the text encoder has no token for {parts}: that part of the prompt says nothing"
            msg += "; describe it in words"
            log.warning(msg)
            warnings.append(msg)
        mesh, rigged, tex_info = self.mesh_and_texture(prompt, text, ref, params, field, config, image, timer)
        if config.texture.blend > 0 and not len(self.library(config).index):
            msg = (f"texture library {config.texture.library or 'default'!r} holds no usable images (png, jpg, webp): "
                   "the avatar has the field's flat colours only")
            log.warning(msg)
            warnings.append(msg)
        sidecar = {
            "prompt": prompt, "clauses": text.clauses, "seed": config.seed, "generator": f"avatarforge {__version__}",
            "config": asdict(config),
            "models": {"clip": self.encoder.name, "clip_weights_sha256": self.encoder.weights_hash,
                       "generator": self.amortised.name, "generator_weights_sha256": self.amortised.weights_hash},
            "reference": {"source": ref.source, "score": ref.score},
            "template": {"shape": dict(zip(("height", "girth", "head", "shoulders", "legs"),
                                           [round(float(v), 4) for v in params.shape])),
                         "layout": asdict(params.layout),
                         "colors": {r: [round(float(c), 4) for c in params.colors[i]] for i, r in enumerate(REGIONS)}},
            "clip_score": {"initial": opt["initial_clip_score"], "final": opt["final_clip_score"]},
            "optimization": opt, "texture": tex_info,
            "mesh": {"vertices": int(rigged.n_vertices), "triangles": int(rigged.n_faces),
                     "height_m": round(float(rigged.vertices[:, 1].max() - rigged.vertices[:, 1].min()), 4),
                     "watertight": mesh.meta.get("watertight")},
            "rest_pose": rigged.skeleton.rest_pose, "warnings": warnings, "device": str(self.device),
            "versions": versions(),
        }
        preview_path = out.with_suffix(".png")
        json_path = out.with_suffix(".json")
        # GLB, LODs, sidecar and preview land together (the GLB last) or not at all: a kill or an
        # error mid-write never leaves a new preview beside an old GLB
        with staged(out.parent, last=out.name) as stage:
            with timer("preview"):
                atomic_write_bytes(stage / preview_path.name, render_preview(rigged))
            with timer("export"):
                stats = export_glb(rigged, stage / out.name, config.export,
                                   extras={"prompt": prompt, "seed": config.seed, "sidecar": json_path.name},
                                   generator=f"avatarforge {__version__}")
            for s in (stats, *stats["lods"]):  # where the files will be
                s["path"] = str(out.parent / Path(s["path"]).name)
            sidecar["export"] = stats
            sidecar["timings_s"] = dict(timer.stages, total=round(time.perf_counter() - t_all, 3))
            atomic_write_bytes(stage / json_path.name, json.dumps(sidecar, indent=2, default=_jsonable).encode())
        return AvatarResult(out, json_path, preview_path, sidecar)


class _Lazy(Mapping):
    """A query result whose entries are computed only when asked for (the density pass of mesh
    extraction needs no colours or regions)."""

    def __init__(self, **fns):
        self._fns, self._vals = fns, {}

    def __getitem__(self, k):
        if k not in self._vals:
            self._vals[k] = self._fns[k]()
        return self._vals[k]

    def __iter__(self):
        return iter(self._fns)

    def __len__(self):
        return len(self._fns)


def field_query(field, params: TemplateParams):
    """Density/rgb from the refined field, regions from the template, for mesh extraction."""
    prims = {k: v.detach().cpu() for k, v in primitives(params).items()}
    dev = next(iter(field.buffers())).device

    def query(x: torch.Tensor) -> Mapping[str, torch.Tensor]:
        xf = x.float()
        out = {}

        def both():
            if "d" not in out:
                with torch.no_grad():
                    out["d"], out["c"] = (t.cpu() for t in field(xf.to(dev)))
            return out

        def region():
            with torch.no_grad():
                return region_weights(primitive_distances(xf.cpu(), prims), prims["region"]).argmax(-1)

        return _Lazy(density=lambda: both()["d"], rgb=lambda: both()["c"], region=region)

    return query


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("avatarforge", "torch", "open_clip_torch", "nerfstudio", "trimesh", "pygltflib", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _jsonable(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, (np.ndarray, torch.Tensor)):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def generate(prompt: str, out: str | os.PathLike, config: GenerateConfig | None = None, image: str | None = None,
             progress: Callable[[int, dict], None] | None = None) -> AvatarResult:
    """One-shot convenience: load models, generate one avatar."""
    from pipeline.config import resolve_config

    config = config or resolve_config()
    return AvatarForge(config).generate(prompt, out, config, image=image, progress=progress)


__all__ = ["AvatarForge", "generate", "InputError"]
