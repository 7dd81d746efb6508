"""Volume rendering: surface-interval sampling skips empty rays without changing the image."""
import pytest
import torch

from nerf.cameras import View
from nerf.fields import FieldConfig, make_field
from nerf.prior import BakedPrior
from nerf.render import RenderConfig, render_views, surface_intervals
from nerf.template import TemplateParams

VIEWS = [View(0.3, 0.1), View(1.9, -0.05), View(3.3, 0.2)]


def field(device="cpu", kind="grid"):
    torch.manual_seed(0)
    prior = BakedPrior.bake(TemplateParams.default("cpu"), 64)
    f = make_field(FieldConfig(kind=kind, grid_resolution=16), prior, device)
    if kind == "grid":
        with torch.no_grad():
            f.residual.grid.normal_(0, 0.5)  # the surface moves (up to max_offset) and changes colour
    return f


def count_samples(f):
    seen = []

    class Counting:
        def __call__(self, x):
            seen.append(x.shape[0])
            return f(x)

        def __getattr__(self, name):
            return getattr(f, name)

    return Counting(), seen


def test_surface_sampling_matches_box_sampling_with_fewer_samples():
    f = field()
    bg = torch.rand(len(VIEWS), 32, 32, 3)
    with torch.no_grad():
        box = render_views(f, VIEWS, RenderConfig(image_size=32, samples_per_ray=256, sampling="box"), bg)
        cf, seen = count_samples(f)
        surf = render_views(cf, VIEWS, RenderConfig(image_size=32, samples_per_ray=256, sampling="surface"), bg)
    assert (surf["rgb"] - box["rgb"]).abs().max() < 0.03
    assert (surf["acc"] - box["acc"]).abs().mean() < 1e-3
    hit_box = int((box["acc"] > 1e-3).sum())
    assert hit_box <= seen[0] // 256 < 0.8 * len(VIEWS) * 32 * 32  # every visible ray kept, most empty ones not


def test_surface_intervals_start_before_the_surface():
    f = field()
    o = torch.tensor([[0.0, 1.0, 3.0], [0.0, 1.0, 3.0]])
    d = torch.tensor([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # at the chest; straight up (misses)
    near, keep = surface_intervals(f, o, d, torch.tensor([2.0, 0.0]), torch.tensor([4.0, 0.5]))
    assert keep.tolist() == [True, False]
    z_front = 3.0 - float(near[0])
    assert 0.1 < z_front < 0.6  # entered the shell in front of the chest, not inside the body


def test_unknown_sampling_is_named():
    with pytest.raises(ValueError, match="render.sampling 'dense'"):
        render_views(field(), VIEWS[:1], RenderConfig(image_size=8, sampling="dense"), torch.zeros(1, 8, 8, 3))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("kind", ["grid", "hash"])
def test_render_and_backward_on_cuda(kind):
    f = field("cuda", kind)
    out = render_views(f, VIEWS, RenderConfig(image_size=32), torch.rand(len(VIEWS), 32, 32, 3, device="cuda"))
    (out["rgb"].mean() + out["acc"].mean()).backward()
    grads = [p.grad for p in f.residual.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
