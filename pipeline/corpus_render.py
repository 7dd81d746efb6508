"""Corpus images of the avatars users get: an ``AvatarSpec`` as the dressed anny body that ``generate --steps 0``
exports, seen through the corpus cameras.

The spec's template parameters (``nerf.template.TemplateParams.from_spec``) become anny phenotypes
(``nerf.body.phenotypes.body_parameters``, gender from ``AvatarSpec.gender``), the body is dressed in the
spec's layout (``nerf.body.dress``), its atlas baked at :data:`ATLAS_SIZE` with the region colours and
patterns (``texture.dressed.rig_dressed``, no library swatches, no morph targets) and rendered with the
mesh renderer the evaluator's ``--render mesh`` uses (``texture.view_render.render_mesh``). It lives in
``pipeline`` because it joins ``nerf`` (the spec, the body) and ``texture`` (the bake, the renderer);
``nerf.synthetic.corpus.render_avatar`` takes it as its ``body`` renderer.
"""
from __future__ import annotations

import torch

from nerf.cameras import View
from nerf.synthetic.avatar_spec import AvatarSpec
from nerf.synthetic.surface_render import Lighting
from nerf.template import TemplateParams

ATLAS_SIZE = 256
"""Texture size baked for a corpus render: the renders are 64 px, so a 1024 px atlas would change nothing."""
GENDER_VALUE = {"female": 1.0, "male": 0.0, "any": 0.5}
"""anny's gender phenotype for each ``AvatarSpec.gender`` (0.5 is what ``gender_of`` gives "a person")."""


class BodyRenderer:
    """Renders specs as dressed anny bodies; the body model is loaded once (load it before forking workers)."""

    def __init__(self, model=None):
        if model is None:
            from nerf.body import BodyModel

            model = BodyModel.load()
        self.model = model

    def rigged(self, spec: AvatarSpec):
        """The ``RiggedMesh`` of ``spec``: the body, its garments and its baked atlas, in the T-pose."""
        from nerf.body.dress import dress
        from nerf.body.phenotypes import body_parameters
        from texture.artifacts import TextureReport
        from texture.dressed import rig_dressed
        from texture.gltf.config import ExportConfig
        from texture.triplanar import ProjectionConfig

        params = TemplateParams.from_spec(spec)
        bp = body_parameters(params.clamped_shape(), GENDER_VALUE.get(spec.gender, 0.5), self.model)
        with torch.no_grad():
            body = self.model.forward(bp.phenotypes, bp.local_changes, rest_pose="t")
        dressed = dress(body, params.layout)
        config = ExportConfig(texture_size=ATLAS_SIZE, morph_targets="none")
        return rig_dressed(dressed, params.colors.float().clamp(0, 1).numpy(), params.layout.metal,
                           TextureReport(library=None), ProjectionConfig(), config, patterns=params.layout.patterns)

    def __call__(self, spec: AvatarSpec, views: list[View], size: int, backgrounds: list[torch.Tensor],
                 lightings: list[Lighting]) -> list[torch.Tensor]:
        """One Float[size, size, 3] image per view, each over its own background and lighting."""
        from texture.view_render import render_mesh

        rigged = self.rigged(spec)
        return [render_mesh(rigged, [v], size, bg[None], light)[0]
                for v, bg, light in zip(views, backgrounds, lightings)]

