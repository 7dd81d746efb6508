"""The JSON sidecar written beside every GLB: what is needed to reproduce the asset and what happened."""
from __future__ import annotations

import platform
from dataclasses import asdict

import numpy as np
import torch

from nerf.artifacts import REGIONS, MeshArtifact
from pipeline.artifacts import NerfState
from pipeline.config import GenerateConfig
from texture.artifacts import RiggedMesh, TextureReport

SHAPE_KEYS = ("height", "girth", "head", "shoulders", "legs")


def make_sidecar(prompt: str, config: GenerateConfig, models: dict, state: NerfState, mesh: MeshArtifact,
                 rigged: RiggedMesh, textures: TextureReport, export: dict, warnings: list[str], device: str,
                 timings: dict[str, float], generator: str) -> dict:
    """The sidecar of one avatar, from the stages' artifacts; ``export`` is ``export_glb``'s stats with the
    files' final paths, ``models`` the loaded models' names and weight hashes."""
    params = state.params
    return {
        "prompt": prompt, "clauses": state.text.clauses, "seed": config.seed, "generator": generator,
        "config": asdict(config), "models": models,
        "reference": {"source": state.image.source, "score": state.image.score},
        "template": {"shape": dict(zip(SHAPE_KEYS, [round(float(v), 4) for v in params.shape])),
                     "layout": asdict(params.layout),
                     "colors": {r: [round(float(c), 4) for c in params.colors[i]] for i, r in enumerate(REGIONS)}},
        "understood": None if state.understood is None else state.understood.to_dict(),
        "clip_score": {"initial": state.stats.initial_clip_score, "final": state.stats.final_clip_score},
        "optimization": state.stats.to_dict(), "texture": textures.to_dict(),
        "mesh": {"vertices": int(rigged.n_vertices), "triangles": int(rigged.n_faces),
                 "height_m": round(float(rigged.vertices[:, 1].max() - rigged.vertices[:, 1].min()), 4),
                 "watertight": mesh.meta.get("watertight")},
        "body": None if state.body is None else {
            "model": "anny (Apache-2.0 code, CC0 MakeHuman assets)", "height_m": round(state.body.height_m, 4),
            "phenotypes": {k: round(v, 4) for k, v in state.body.phenotypes.items()},
            "local_changes": {k: round(v, 4) for k, v in state.body.local_changes.items()},
            "pieces": [p.name for p in state.dressed.pieces]},
        "rest_pose": rigged.skeleton.rest_pose,
        "skeleton": {"joints": len(rigged.skeleton.names),
                     "springs": {c.name: list(c.joints) for c in rigged.skeleton.springs},
                     "colliders": len(rigged.skeleton.colliders)},
        "warnings": warnings, "device": device, "versions": versions(),
        "export": export, "timings_s": timings,
    }


def versions() -> dict[str, str]:
    """Python's and the main packages' versions."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("avatarforge", "torch", "open_clip_torch", "nerfstudio", "trimesh", "pygltflib", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def jsonable(o):
    """``json.dumps`` default for numpy scalars and arrays, tensors and paths."""
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, (np.ndarray, torch.Tensor)):
        return o.tolist()
    return str(o)
