"""``avatarforge eval``: how good the embedded model and the generate path are.

* Zero-shot attribute accuracy and image<->text recall@1/@5 of the shipped model, on
  freshly rendered held-out avatars (attribute combinations and wording nobody trained on).
* With ``--prompts FILE``: CLIP R-precision of generated avatars under the independent
  evaluator model (DreamFields' metric), with the evaluator's ceiling -- the same
  retrieval on ground-truth renders of the same prompts -- beside it. ``--modes`` picks
  the rows: template (no conditioning), template+refine, amortised, refined, and truth+refine
  (refinement from each prompt's ground-truth avatar: its bound with a perfect generator). ``--render``
  picks what is scored: the refined field (default) or the textured mesh the GLB carries.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from pathlib import Path

import torch

from nerf.cameras import standard_views
from nerf.prior import BakedPrior
from nerf.render import render_views
from nerf.synthetic.avatar_spec import sample_spec
from nerf.synthetic.corpus import is_heldout, render_avatar, spec_from_dict
from nerf.synthetic.surface_render import Lighting, render_template
from nerf.template import TemplateParams
from pipeline.artifacts import ImageFeatures, NerfState, RefineStats
from pipeline.encoders.clip_encoder import ClipEncoder
from pipeline.encoders.models import EVALUATOR_MODEL
from pipeline.eval.metrics import paired_comparison, r_precision, recall_at_k, retrieved_prompts, zero_shot_accuracy
from pipeline.inputs import InputError
from texture.view_render import render_mesh

DEFAULT_PROMPTS = Path(__file__).resolve().parents[1] / "assets" / "heldout_prompts.jsonl"
MODES = ("template", "template+refine", "amortised", "refined", "truth+refine")
"""``truth+refine`` refines each prompt's ground-truth avatar (rows need ``spec``): what refinement
reaches from a perfect generator."""
ROWS = ("ceiling", *MODES)
"""The order of a report's rows (and of its table), whatever order the avatars were made or saved in."""
EVALUATOR_SIZE = 64
"""Pixels of the ceiling's and the mesh renders: the size the evaluator was trained at."""


MAX_PROMPT_FILE_BYTES = 16 << 20
"""Largest ``--prompts`` file read (16 MiB; the held-out set is 30 KB)."""


def read_prompt_file(path: str | Path) -> list[dict]:
    """JSONL ({"prompt", "spec"?}) or plain text (one prompt a line, # comments); every problem with the file
    is an ``InputError`` naming the line."""
    from pipeline.inputs import clean_prompt, read_input_bytes

    path, raw = read_input_bytes(path, "--prompts", MAX_PROMPT_FILE_BYTES)
    if b"\0" in raw:
        raise InputError(f"--prompts {str(path)!r} is a binary file, not JSONL or text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise InputError(f"--prompts {str(path)!r} line {line}: not UTF-8 text") from None
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                row = json.loads(line)
            except ValueError as e:
                raise InputError(f"--prompts {str(path)!r} line {n}: not valid JSON ({e.msg}, column {e.colno})") \
                    from None
            if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
                raise InputError(f"--prompts {str(path)!r} line {n}: a JSON row needs a \"prompt\" string")
        else:
            row = {"prompt": line}
        try:
            row["prompt"] = clean_prompt(row["prompt"])
        except InputError as e:
            raise InputError(f"--prompts {str(path)!r} line {n}: {e}") from None
        rows.append(row)
    if not rows:
        raise InputError(f"--prompts {str(path)!r} holds no prompts (one a line, or JSONL rows with \"prompt\")")
    return rows


def heldout_renders(n: int, seed: int = 7):
    """``n`` held-out avatars, one random view each: (images Float[n,3,64,64], specs, captions)."""
    imgs, specs, caps = [], [], []
    i = 0
    while len(imgs) < n:
        rng = random.Random(seed * 1_000_003 + i)
        if is_heldout(sample_spec(rng)):
            rec = render_avatar(i, seed, 1, 64)[0]
            imgs.append(torch.from_numpy(rec["image"]).permute(2, 0, 1).float() / 255)
            specs.append(rec["meta"]["spec"])
            caps.append(rec["meta"]["captions"]["heldout"][0])
        i += 1
    return torch.stack(imgs), specs, caps


def model_report(enc: ClipEncoder, n: int) -> dict:
    imgs, specs, caps = heldout_renders(n)
    with torch.no_grad():
        f = torch.cat([enc.encode_image_tensor(imgs[i:i + 256]) for i in range(0, len(imgs), 256)])
        zs = zero_shot_accuracy(f, specs, enc.encode_text_tensor)
        rec = recall_at_k(f, enc.encode_text_tensor(caps))
    return {"model": enc.name, "n": n, "zero_shot": zs, "retrieval": rec}


def _views_features(evaluator: ClipEncoder, images: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return evaluator.encode_image_tensor(images.permute(0, 3, 1, 2))


def r_precision_report(rows: list[dict], config, modes: list[str], n_views: int, quiet: bool,
                       render_kind: str = "field", evaluator_weights: str | Path | None = None,
                       save_renders: str | Path | None = None, renders: str | Path | None = None) -> dict:
    """R-precision per mode (and the ceiling when every row has a spec).

    ``out["retrieved"][row]`` lists, per prompt, the index of the prompt its avatar retrieved.
    Rows come in ``ROWS`` order. ``out["paired"]`` compares each generated row with the one before it, prompt by
    prompt (``evaluation.paired_comparison``): whether a difference between rows is more than noise.
    ``render_kind`` "field": the refined field through the volume renderer (the ceiling through
    the surface renderer). "mesh": every avatar, the ceiling's ground truth included, goes through
    marching cubes, the retrieval texturer and ``texture.view_render`` -- what the GLB shows.
    ``evaluator_weights``: another safetensors file of the evaluator's architecture (default: the shipped one).
    ``save_renders`` writes every row's views to a safetensors file; ``renders`` scores such a file
    instead of generating (the same avatars under another evaluator; ``modes`` and ``render_kind`` are
    then the file's).
    """
    from pipeline.eval.renders import load_renders, write_renders

    prompts = [r["prompt"] for r in rows]
    evaluator = load_evaluator(evaluator_weights)  # a bad path fails before the avatars are made
    if renders is not None:
        images, info = load_renders(renders, prompts)
    else:
        images, info = render_rows(rows, config, modes, n_views, quiet, render_kind)
        if save_renders is not None:
            write_renders(save_renders, images, prompts, info)
    pf = evaluator.encode_text_tensor(prompts)
    out: dict = {"n_prompts": len(rows), "views": info["views"], "evaluator": evaluator.name,
                 "evaluator_sha256": evaluator.weights_hash, "render": info["render"], "retrieved": {}}
    for row in sorted(images, key=ROWS.index):
        out[row], out["retrieved"][row] = _score([_views_features(evaluator, im) for im in images[row]], pf)
    generated = [m for m in out["retrieved"] if m != "ceiling"]
    out["paired"] = [{"before": a, "after": b, **paired_comparison(out["retrieved"][a], out["retrieved"][b])}
                     for a, b in zip(generated, generated[1:])]
    out.update({f"{m}_seconds_per_prompt": s for m, s in info["seconds_per_prompt"].items()})
    return out


def render_rows(rows: list[dict], config, modes: list[str], n_views: int, quiet: bool,
                render_kind: str = "field") -> tuple[dict[str, torch.Tensor], dict]:
    """The views R-precision scores: {row: Float[N, V, H, W, 3]} for the ceiling (when every row
    has a spec) and each mode, and {"views", "render", "seconds_per_prompt": {mode: s}}."""
    from pipeline.generate import AvatarForge
    if "truth+refine" in modes and not all("spec" in r for r in rows):
        raise InputError("--modes truth+refine needs every prompt row to carry its ground-truth 'spec' "
                         "(scripts/make_heldout_prompts.py writes them)")
    prompts = [r["prompt"] for r in rows]
    # the evaluator and its ground truth know the procedural template only, until the corpus is re-rendered
    # from anny avatars (issue 29): score that path, so the rows stay comparable with the recorded ones
    config = replace(config, mesh=replace(config.mesh, source="field"))
    views = standard_views(n_views, 0.1)
    forge = AvatarForge(config)
    render = config.render
    flat = Lighting(ambient=1.0)
    images: dict[str, torch.Tensor] = {}
    info: dict = {"views": n_views, "render": render_kind, "seconds_per_prompt": {}}

    def mesh_views(state: NerfState):
        rigged = forge.rig(forge.mesh(state, config), forge.textures(state, config), config, state)
        return render_mesh(rigged, views, EVALUATOR_SIZE, None, flat)

    if all("spec" in r for r in rows):
        ims = []
        for r in rows:
            if render_kind == "mesh":
                params = TemplateParams.from_spec(spec_from_dict(r["spec"]), forge.device)
                field = config.field.setup(BakedPrior.bake(params, config.prior_resolution), forge.device)
                state = NerfState(forge.encode_prompt(r["prompt"]), ImageFeatures(None), params, field,
                                  RefineStats(float("nan"), float("nan")))
                ims.append(mesh_views(state))
            else:
                params = TemplateParams.from_spec(spec_from_dict(r["spec"]))
                ims.append(render_template(params, views, EVALUATOR_SIZE, None, flat))
        images["ceiling"] = torch.stack(ims)
    for mode in modes:
        t0 = time.perf_counter()
        cfg = _mode_config(config, mode)
        ims = []
        for k, p in enumerate(prompts):
            start = TemplateParams.from_spec(spec_from_dict(rows[k]["spec"]), forge.device) \
                if mode == "truth+refine" else None
            state = forge.build_field(p, cfg, init="template" if mode.startswith("template") else "amortised",
                                      start=start)
            if render_kind == "mesh":
                ims.append(mesh_views(state))
            else:
                with torch.no_grad():
                    bg = torch.ones(n_views, render.image_size, render.image_size, 3)
                    ims.append(render_views(state.field, views, render, bg)["rgb"])
            if not quiet:
                print(f"  {mode}: {k + 1}/{len(prompts)}", end="\r", flush=True)
        images[mode] = torch.stack(ims).detach()
        info["seconds_per_prompt"][mode] = round((time.perf_counter() - t0) / len(prompts), 2)
    return images, info


def load_evaluator(weights: str | Path | None) -> ClipEncoder:
    if weights is not None and not Path(weights).is_file():
        raise InputError(f"--evaluator-weights {str(weights)!r} not found")
    return ClipEncoder.load(EVALUATOR_MODEL, str(weights) if weights is not None else None)


def _score(feats: list[torch.Tensor], prompt_feats: torch.Tensor) -> tuple[float, list[int]]:
    """(R-precision, the prompt each avatar retrieved) for per-avatar view features."""
    pred = retrieved_prompts(torch.stack(feats), prompt_feats)
    return r_precision(pred), pred.tolist()


def _mode_config(config, mode: str):
    import copy

    cfg = copy.deepcopy(config)
    if mode in ("template", "amortised"):
        cfg.optim.steps = 0
    return cfg
