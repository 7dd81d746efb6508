"""``texture.view_render``: the textured mesh through the orbit cameras agrees with the surface renderer."""
import numpy as np
import pytest
import torch

from nerf.cameras import View, standard_views
from nerf.fields import FieldConfig, make_field
from nerf.mesh import MeshConfig, extract_mesh, field_query
from nerf.prior import BakedPrior
from nerf.synthetic.surface_render import Lighting, render_template
from nerf.template import TemplateParams, skeleton
from texture.assemble import build_rigged
from texture.gltf.config import ExportConfig
from texture.view_render import render_mesh

FLAT = Lighting(ambient=1.0)


@pytest.fixture(scope="module")
def avatar():
    params = TemplateParams.default()
    prior = BakedPrior.bake(params, 64)
    field = make_field(FieldConfig(), prior)
    mesh = extract_mesh(field_query(field, params), prior.lo.numpy(), prior.hi.numpy(), skeleton(params.shape),
                        MeshConfig(resolution=128), triangles=20000)
    return params, build_rigged(mesh, ExportConfig(triangles=20000, texture_size=1024))


def body(images: torch.Tensor) -> torch.Tensor:
    return (images - 1).abs().sum(-1) > 1e-3


def test_mesh_renders_match_the_surface_renderer(avatar):
    params, rigged = avatar
    views = standard_views(4, 0.1) + [View(0.7, 0.35)]
    a = render_mesh(rigged, views, 64, None, FLAT)
    b = render_template(params, views, 64, None, FLAT)
    ma, mb = body(a), body(b)
    for v in range(len(views)):  # same camera: the silhouettes overlap, not just have equal areas
        iou = (ma[v] & mb[v]).sum() / (ma[v] | mb[v]).sum()
        assert iou > 0.9, (v, float(iou))
    both = ma & mb
    assert (a[both] - b[both]).abs().mean() < 0.03  # the baked texture carries the template's colours


def test_shading_darkens_faces_turned_from_the_light(avatar):
    _, rigged = avatar
    view = [View(0.0, 0.1)]
    flat = render_mesh(rigged, view, 64, None, FLAT)[0]
    lit = render_mesh(rigged, view, 64, None, Lighting(direction=(0.0, 1.0, 0.0), ambient=0.3))[0]
    m = body(flat[None])[0]
    assert torch.equal(m, body(lit[None])[0])
    assert (lit[m] <= flat[m] + 1e-6).all() and lit[m].mean() < 0.9 * flat[m].mean()


def test_backgrounds_show_where_the_mesh_is_not(avatar):
    _, rigged = avatar
    bg = torch.zeros(1, 32, 32, 3)
    bg[..., 1] = 1.0
    img = render_mesh(rigged, [View(np.pi, 0.0)], 32, bg, FLAT)[0]
    miss = (img - bg[0]).abs().sum(-1) < 1e-6
    assert 0.5 < miss.float().mean() < 0.98  # mostly background, with the avatar in it
