"""``generate``: prompt (+ optional reference image) -> rigged, textured GLB + sidecar + preview.

Stages (each takes typed artifacts and a config section, returns an artifact):

encode prompt (TextFeatures) -> reference image (ImageFeatures) -> FusionMLP (Conditioning) ->
ShapeGenerator (TemplateParams) -> template prior + residual field, CLIP-guided refinement (NerfState) ->
marching cubes (MeshArtifact) -> retrieval texturer (TextureReport, RiggedMesh) -> GLB, sidecar, preview.

:class:`AvatarForge` loads the models once; batch workers keep one per process.
"""
from __future__ import annotations

import json
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from nerf.body.garments import HIDES_HAIR
from nerf.body.phenotypes import gender_of, with_height
from nerf.mesh import extract_mesh, field_query
from nerf.prior import BakedPrior
from nerf.synthetic.archetype_words import stated_archetype
from nerf.synthetic.clauses import split_clauses
from nerf.synthetic.hair_styles import stated_hair_style
from nerf.synthetic.measures import stated_height
from nerf.template import TemplateParams, skeleton
from pipeline import __version__
from pipeline.amortised import AmortisedModel
from pipeline.artifacts import AmortisedAvatar, AvatarResult, Conditioning, ImageFeatures, NerfState, TextFeatures
from pipeline.config import GenerateConfig, load_key
from pipeline.config_io import ConfigError, check_tree
from pipeline.encoders.clip_encoder import ClipEncoder
from pipeline.inputs import InputError, check_generate_outputs, check_output, clean_prompt, load_image, resolve_device
from pipeline.refine import refine
from pipeline.sidecar import jsonable, make_sidecar
from pipeline.understood import understand
from texture.artifacts import RiggedMesh, TextureReport
from texture.atomic import atomic_write_bytes, staged

log = logging.getLogger("avatarforge")


class Timer:
    """Seconds per stage; ``on_stage(name)`` is told as each stage starts (a caller's progress display, which
    may raise to cancel the run between stages)."""

    def __init__(self, on_stage: Callable[[str], None] | None = None):
        self.stages: dict[str, float] = {}
        self.on_stage = on_stage

    @contextmanager
    def __call__(self, name: str):
        if self.on_stage is not None:
            self.on_stage(name)
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
                                        self.device, config.model.text_tower)
        self.amortised = AmortisedModel.load_for(self.encoder, config, self.device)
        self.load_key = load_key(config)
        self._library = None
        self._library_key = None

    def check_config(self, config: GenerateConfig) -> None:
        """Raise ``ConfigError`` for a bad value, or for load-time sections that differ from the loaded models'."""
        check_tree(config)  # a config built in code, not through resolve_config, is checked too
        if load_key(config) != self.load_key:
            raise ConfigError("the config's model, fusion or generator section differs from the models this "
                              "AvatarForge loaded; make an AvatarForge for that config")

    def models(self) -> dict:
        """Names and weight hashes of the loaded models (for the sidecar)."""
        out = {"clip": self.encoder.name, "clip_weights_sha256": self.encoder.weights_hash,
               "generator": self.amortised.name, "generator_weights_sha256": self.amortised.weights_hash,
               "text_tower": self.encoder.text_tower}
        if self.encoder.text_tower != "minilm":
            out["text_head_sha256"] = self.encoder.text_head_hash
        return out

    # -------------------------------------------------------------- stages
    def encode_prompt(self, prompt: str) -> TextFeatures:
        # only a trained generator reads the clauses (with a user's CLIP there is none)
        reads_clauses = self.amortised.trained and self.amortised.fusion.clauses is not None
        clauses = split_clauses(prompt) if reads_clauses else []
        tower = self.encoder.tower_for(prompt)  # the clauses are read by the prompt's tower
        tok = self.encoder.tokenize([prompt] + clauses, [tower] * (1 + len(clauses)))
        emb = self.encoder.encode_tokens(tok)
        return TextFeatures(prompt, emb[0], truncated=tok.truncated[0], unknown=tok.unknown[0], clauses=clauses,
                            clause_embeddings=emb[1:] if clauses else None, tower=tower,
                            warnings=_token_warnings(prompt, tok.truncated[0], tok.unknown[0],
                                                     self.encoder.context_length))

    def library(self, config: GenerateConfig):
        from texture.library import open_library

        key = config.texture.library or "<default>"
        if self._library is None or self._library_key != key:
            self._library = open_library(config.texture.library or None, self.encoder, quiet=True)
            self._library_key = key
        return self._library

    def reference(self, text: TextFeatures, image_path: str | None, config: GenerateConfig,
                  library: bool = True) -> ImageFeatures:
        """The user's image, else (when ``library`` and ``reference.use_library``) the library's best match."""
        if image_path:
            img = load_image(image_path, config.reference.max_pixels)
            emb = torch.from_numpy(self.encoder.encode_images([img])[0])
            return ImageFeatures(emb, source=str(image_path))
        if not (library and config.reference.use_library):
            return ImageFeatures(None)
        if config.reference.library_needs_colour:
            from pipeline.encoders.language import names_colour

            if not names_colour(text.prompt):
                return ImageFeatures(None, source="none (the prompt names no colour or material: "
                                                  "reference.library_needs_colour)")
        best = self.library(config).best_match(text.embedding.cpu().numpy())
        if best is None:
            return ImageFeatures(None)
        path, score, emb = best
        return ImageFeatures(torch.from_numpy(emb), source=f"library:{path}", score=score)

    def condition(self, text: TextFeatures, image: ImageFeatures) -> Conditioning:
        return Conditioning(self.amortised.fuse(text.embedding, image.embedding, text.clause_embeddings))

    def amortised_template(self, prompt: str, config: GenerateConfig, image: str | None = None,
                           timer: "Timer | None" = None) -> AmortisedAvatar:
        """What ``--steps 0`` decodes, without building a field."""
        timer = timer or Timer()
        with timer("encode"):
            text = self.encode_prompt(prompt)
        with timer("reference"):
            ref = self.reference(text, image, config)
        with timer("condition"):
            z = self.condition(text, ref).z
            heads = self.amortised.heads(z)
            params = self.amortised.decode(z, heads, seed=config.seed, archetype=stated_archetype(prompt))
            stated = stated_height(prompt)
            if stated is not None:  # "2 m tall", "5'4\"": the body is fitted to the number, not to the words
                params = replace(params, shape=with_height(params.shape, stated[0], gender_of(prompt)).to(
                    params.shape.device))
            style = stated_hair_style(prompt)
            if style is not None and params.layout.headwear not in HIDES_HAIR:  # a bun, a ponytail
                params = replace(params, layout=replace(params.layout, hair=style[0]))
            understood = understand(prompt, heads, params, self.amortised.name if self.amortised.trained
                                    else self.encoder.name, text.unknown, stated=stated, tower=text.tower,
                                    hair_style=style)
        return AmortisedAvatar(text, ref, params, understood)

    def build_field(self, prompt: str, config: GenerateConfig, image: str | None = None, init: str = "amortised",
                    timer: "Timer | None" = None, progress: Callable[[int, dict], None] | None = None,
                    start: TemplateParams | None = None) -> NerfState:
        """Stages up to the refined field.

        ``init`` = "amortised" (the trained generator's avatar) or "template" (the neutral prior).
        ``start`` replaces either with given parameters, colours kept as the generator's would be
        (``avatarforge eval`` refines the prompts' ground-truth avatars this way).
        """
        timer = timer or Timer()
        if start is None and init == "amortised":
            av = self.amortised_template(prompt, config, image, timer)
            text, ref, params, understood = av.text, av.image, av.params, av.understood
        else:  # the start is given or neutral: no generator, so no library reference (only the generator reads it)
            with timer("encode"):
                text = self.encode_prompt(prompt)
            with timer("reference"):
                ref = self.reference(text, image, config, library=False)
            params = start if start is not None else TemplateParams.default(self.device)
            understood = None
        # the neutral template (or an untrained generator's) has no colours to keep: guidance paints them
        keeps_colors = start is not None or (init == "amortised" and self.amortised.trained)
        dressed = body = None
        with timer("prior"):
            if config.mesh.source == "body":  # the dressed anny body is the prior
                dressed, body = self.dress(prompt, params, config)
                prior = dressed_prior(dressed, params, config.prior_resolution)
            else:
                prior = BakedPrior.bake(params, config.prior_resolution)
            field_config = config.field if keeps_colors else replace(config.field, max_color_shift=-1.0)
            field = field_config.setup(prior, self.device)
        guidance = config.guidance.setup(encoder=self.encoder, text=text.embedding, prompt=prompt,
                                         image=ref.embedding if image else None,
                                         generator=torch.Generator().manual_seed(config.seed))
        with timer("optimize"):
            stats = refine(field, guidance, config.render, config.optim, seed=config.seed, progress=progress)
        stats.max_color_shift = field_config.max_color_shift  # the bound in effect (see FieldConfig)
        return NerfState(text, ref, params, field, stats, dressed, body, understood)

    def body_model(self):
        """anny's body model, loaded on first use (~1.5 s) and kept."""
        if getattr(self, "_body_model", None) is None:
            from nerf.body import BodyModel

            self._body_model = BodyModel.load()
        return self._body_model

    def dress(self, prompt: str, params: TemplateParams, config: GenerateConfig):
        """(DressedBody, BodyParameters): the anny body for ``params``' shape and the prompt's gender, in the
        export's rest pose, wearing ``params``' outfit."""
        from nerf.body.dress import dress
        from nerf.body.phenotypes import body_parameters

        model = self.body_model()
        bp = body_parameters(params.clamped_shape(), gender_of(prompt), model)
        with torch.no_grad():
            body = model.forward(bp.phenotypes, bp.local_changes, rest_pose=config.export.rest_pose)
        return dress(body, params.layout), bp

    def mesh(self, state: NerfState, config: GenerateConfig):
        """The dressed body moved onto the refined field (``mesh.source=body``: a ``DressedBody``), or marching
        cubes of the refined field, cleaned and decimated to ``export.triangles`` (a ``MeshArtifact``)."""
        if state.dressed is not None:
            from nerf.body.dress import follow_field

            return follow_field(state.dressed, state.field)
        prior = state.prior
        return extract_mesh(field_query(state.field, state.params), prior.lo.cpu().numpy(), prior.hi.cpu().numpy(),
                            skeleton(state.params.shape), config.mesh, triangles=config.export.triangles)

    def textures(self, state: NerfState, config: GenerateConfig, image: str | None = None) -> TextureReport:
        """The library images for the prompt's regions (the user's reference image re-ranks them too)."""
        from texture.texturer import choose_textures

        cond = state.text.embedding.float().cpu()
        if image and state.image.embedding is not None:
            cond = torch.nn.functional.normalize(cond + state.image.embedding.float().cpu(), dim=-1)
        prompt = state.text.prompt
        if state.text.tower == "e5" and state.understood is not None:  # the texturer parses English garments:
            prompt = state.understood.outfit_text() or prompt  # give it what the generator decoded, in English
        return choose_textures(prompt, self.library(config), self.encoder, config.texture, conditioning=cond.numpy())

    def rig(self, mesh, textures: TextureReport, config: GenerateConfig, state: NerfState | None = None
            ) -> RiggedMesh:
        """A dressed body: bake its atlas (region colours, the chosen textures, the painted face) and bind it
        with its own weights. A field mesh: UV-unwrap, bake the chosen textures over the field's colours, skin."""
        from nerf.body.dress import DressedBody

        if isinstance(mesh, DressedBody):
            from texture.dressed import rig_dressed

            params = state.params
            return rig_dressed(mesh, params.colors.detach().float().cpu().clamp(0, 1).numpy(), params.layout.metal,
                               textures, config.texture, config.export, patterns=params.layout.patterns)
        from texture.texturer import texture_and_rig

        return texture_and_rig(mesh, textures, config.texture, config.export)

    # -------------------------------------------------------------- run
    def generate(self, prompt: str, out: str | os.PathLike, config: GenerateConfig, image: str | None = None,
                 progress: Callable[[int, dict], None] | None = None,
                 on_stage: Callable[[str], None] | None = None) -> AvatarResult:
        """Write ``out`` (GLB or VRM), its sidecar and preview. ``progress(step, {loss, clip_score})`` is called
        on every refinement step and ``on_stage(name)`` as each stage starts; either may raise to stop the run,
        and then no file is written."""
        from texture.gltf.export import export_glb
        from texture.preview import render_preview

        prompt = clean_prompt(prompt)
        self.check_config(config)
        check_generate_outputs(out, config, image=image)  # the preview must never replace the --image
        out = check_output(out, config.export.lods)
        torch.manual_seed(config.seed)
        np.random.seed(config.seed % (2**32))
        timer, t_all = Timer(on_stage), time.perf_counter()
        state = self.build_field(prompt, config, image, timer=timer, progress=progress)
        with timer("mesh"):
            mesh = self.mesh(state, config)
        with timer("texture"):
            textures = self.textures(state, config, image)
            rigged = self.rig(mesh, textures, config, state)
        warnings = state.text.warnings + self._library_warnings(config)
        for w in warnings:
            log.warning(w)
        json_path, preview_path = out.with_suffix(".json"), out.with_suffix(".png")
        generator = f"avatarforge {__version__}"
        # GLB, LODs, sidecar and preview land together (the GLB last) or not at all: a kill or an
        # error mid-write never leaves a new preview beside an old GLB
        with staged(out.parent, last=out.name) as stage:
            with timer("preview"):
                atomic_write_bytes(stage / preview_path.name, render_preview(rigged))
            with timer("export"):
                stats = export_glb(rigged, stage / out.name, config.export, generator=generator,
                                   version=__version__,
                                   extras={"prompt": prompt, "seed": config.seed, "sidecar": json_path.name})
            for s in (stats, *stats["lods"]):  # where the files will be
                s["path"] = str(out.parent / Path(s["path"]).name)
            sidecar = make_sidecar(prompt, config, self.models(), state, mesh, rigged, textures, stats, warnings,
                                   str(self.device), dict(timer.stages, total=round(time.perf_counter() - t_all, 3)),
                                   generator)
            atomic_write_bytes(stage / json_path.name, json.dumps(sidecar, indent=2, default=jsonable).encode())
        return AvatarResult(out, json_path, preview_path, sidecar)

    def _library_warnings(self, config: GenerateConfig) -> list[str]:
        if config.texture.blend > 0 and not len(self.library(config).index):
            return [f"texture library {config.texture.library or 'default'!r} holds no usable images (png, jpg, "
                    "webp): the avatar has the field's flat colours only"]
        return []


def dressed_prior(dressed, params: TemplateParams, resolution: int) -> BakedPrior:
    """The field prior of a dressed body: its signed distance and its region colours."""
    colors = params.colors.detach().float().cpu().clamp(0, 1).numpy()[dressed.vertex_regions]
    sheet = np.array([p.double_sided for p in dressed.pieces])[dressed.vertex_pieces]
    return BakedPrior.from_surface(dressed.vertices, dressed.faces, dressed.normals, colors, sheet, resolution)


def _token_warnings(prompt: str, truncated: bool, unknown: list[str], context_length: int) -> list[str]:
    """What to tell the user about how the text encoder read ``prompt``."""
    out = []
    if truncated:
        out.append(f"prompt is longer than the text encoder's context ({context_length} tokens) and was truncated")
    if unknown:
        parts = ", ".join(repr(u) for u in dict.fromkeys(unknown))
        if "".join(unknown) == "".join(prompt.split()):
            msg = f"the text encoder reads none of the prompt (no token for {parts}): the avatar follows no description"
        else:
            msg = f"the text encoder has no token for {parts}: that part of the prompt says nothing"
        out.append(msg + "; describe it in words")
    return out


def generate(prompt: str, out: str | os.PathLike, config: GenerateConfig | None = None, image: str | None = None,
             progress: Callable[[int, dict], None] | None = None) -> AvatarResult:
    """One-shot convenience: load models, generate one avatar."""
    from pipeline.config import resolve_config

    config = config or resolve_config()
    return AvatarForge(config).generate(prompt, out, config, image=image, progress=progress)


__all__ = ["AvatarForge", "generate", "InputError"]
