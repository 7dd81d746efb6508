"""Mesh extraction from the template's density: watertight, on budget, grounded, correctly sized and coloured."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh

from nerf.artifacts import REGIONS, Skeleton
from nerf.mesh import MeshConfig, extract_mesh, template_query
from nerf.mesh_ops import MIN_AREA
from nerf.synthetic.avatar_spec import COLORS, AvatarSpec, apply_archetype
from nerf.template import TemplateParams, bounds, skeleton

SPECS = {
    # name: (spec, triangle budget) -- 12000 decimates marching cubes, 20000 needs subdivision first
    "knight": (apply_archetype(AvatarSpec(height="tall", build="stout"), "knight"), 12000),
    "child_hat": (AvatarSpec(age="child", headwear="hat", headwear_color="red", upper_pattern="stripes"), 20000),
}


@pytest.fixture(scope="module", params=sorted(SPECS))
def case(request):
    spec, budget = SPECS[request.param]
    p = TemplateParams.from_spec(spec)
    lo, hi = bounds(p.clamped_shape())
    mesh = extract_mesh(template_query(p), lo, hi, skeleton(p.clamped_shape()),
                        MeshConfig(resolution=96), triangles=budget)
    return request.param, spec, budget, mesh, skeleton(p.clamped_shape())


def test_every_part_is_watertight_and_outward(case):
    _, _, _, mesh, _ = case
    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    parts = tm.split(only_watertight=False)
    assert len(parts) >= 1
    for part in parts:
        assert part.is_watertight and part.is_winding_consistent
        assert part.volume > 0, "faces must wind counter-clockwise seen from outside"
    assert mesh.meta["watertight"] is True


def test_triangle_budget_and_clean_faces(case):
    _, _, budget, mesh, _ = case
    assert abs(mesh.n_faces - budget) <= 0.05 * budget
    f = mesh.faces
    assert ((f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])).all()
    assert len(np.unique(np.sort(f, axis=1), axis=0)) == len(f), "duplicate faces"
    tri = mesh.vertices[f].astype(np.float64)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    assert area.min() > MIN_AREA, "degenerate faces"
    assert len(np.unique(f)) == mesh.n_vertices, "unreferenced vertices"


def test_height_and_feet_on_ground(case):
    name, spec, _, mesh, rest = case
    y = mesh.vertices[:, 1]
    assert abs(float(y.min())) < 1e-5
    body = mesh.vertex_regions != REGIONS.index("headwear") if spec.headwear == "hat" else slice(None)
    height = float(y[body].max())  # a hat adds ~15% on a child; the body without it is the spec height
    assert abs(height - spec.height_m) <= 0.05 * spec.height_m, (name, height, spec.height_m)
    offset = np.asarray(mesh.meta["ground_offset"])
    np.testing.assert_allclose(mesh.skeleton.positions, rest.positions + offset, atol=1e-6)


def test_colours_and_regions_sampled_at_vertices(case):
    _, spec, _, mesh, _ = case
    assert mesh.vertex_colors.shape == (mesh.n_vertices, 3) and mesh.vertex_regions.shape == (mesh.n_vertices,)
    shoes = mesh.vertex_regions == REGIONS.index("shoes")
    assert shoes.any() and mesh.vertices[shoes, 1].mean() < 0.1 * spec.height_m
    head = mesh.vertex_regions == REGIONS.index("headwear")
    assert head.any() and mesh.vertices[head, 1].min() > 0.7 * spec.height_m
    want = np.asarray(COLORS[spec.headwear_color][0])
    assert np.abs(np.median(mesh.vertex_colors[head], axis=0) - want).max() < 0.05


def _two_spheres(big_r: float, small_r: float):
    def query(x: torch.Tensor) -> dict:
        d = torch.minimum((x - torch.tensor([0.0, 0.5, 0.0])).norm(dim=1) - big_r,
                          (x - torch.tensor([0.45, 0.5, 0.0])).norm(dim=1) - small_r)
        n = x.shape[0]
        return {"density": torch.sigmoid(-d / 0.01) / 0.01, "rgb": torch.full((n, 3), 0.5),
                "region": torch.zeros(n, dtype=torch.long)}
    return query


def test_floaters_are_dropped_but_real_parts_kept():
    sk = Skeleton(["Hips"], [-1], np.zeros((1, 3), np.float32))
    lo, hi = np.array([-0.3, 0.1, -0.3]), np.array([0.6, 0.9, 0.3])
    cfg = MeshConfig(resolution=48, min_component_fraction=0.05)
    floater = extract_mesh(_two_spheres(0.25, 0.03), lo, hi, sk, cfg, triangles=2000)
    assert trimesh.Trimesh(floater.vertices, floater.faces).body_count == 1
    assert floater.vertices[:, 0].max() < 0.3
    pair = extract_mesh(_two_spheres(0.25, 0.1), lo, hi, sk, cfg, triangles=2000)
    assert trimesh.Trimesh(pair.vertices, pair.faces).body_count == 2


def test_bad_inputs_name_the_problem():
    sk = Skeleton(["Hips"], [-1], np.zeros((1, 3), np.float32))
    q = _two_spheres(0.25, 0.03)
    with pytest.raises(ValueError, match="hi > lo"):
        extract_mesh(q, [0, 0, 0], [1, -1, 1], sk, MeshConfig(resolution=16))
    with pytest.raises(ValueError, match="MeshConfig.level"):
        extract_mesh(q, [-0.3, 0.1, -0.3], [0.6, 0.9, 0.3], sk, MeshConfig(resolution=16, level=1e6))
