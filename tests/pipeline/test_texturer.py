"""The retrieval texturer with the shipped CLIP model: the right swatches are retrieved and baked."""
import random

import numpy as np
import pytest

from nerf.artifacts import REGIONS
from nerf.mesh import MeshConfig, extract_mesh, template_query
from nerf.synthetic.avatar_spec import AvatarSpec
from nerf.template import TemplateParams, bounds, skeleton
from pipeline.encoders.clip_encoder import ClipEncoder
from texture.gltf.config import ExportConfig
from texture.library import open_library
from texture.library.swatches import library_filename, render_swatch
from texture.texturer import TextureConfig, choose_textures, texture_and_rig

PROMPT = "a person in a green plaid shirt and black trousers"


@pytest.fixture(scope="module")
def encoder():
    return ClipEncoder.load()


@pytest.fixture(scope="module")
def library(tmp_path_factory, encoder):
    folder = tmp_path_factory.mktemp("swatches")
    rng = random.Random(0)
    for color in ("green", "black", "red", "blue", "teal", "white", "grey", "brown"):
        for material in ("solid", "plaid", "stripes", "denim", "leather"):
            render_swatch(material, color, size=128, rng=rng).save(folder / library_filename(color, material))
    return open_library(folder, encoder, index_path=str(folder / "index.json"), quiet=True)


def test_prompt_regions_retrieve_the_described_swatches(library, encoder):
    from texture.library.retrieval import retrieve_regions

    hits = retrieve_regions(PROMPT, library.index, encoder, k=3)
    assert hits["upper"][0][0].name == "green_plaid.png", hits["upper"]
    assert hits["lower"][0][0].name.startswith("black_"), hits["lower"]


def test_baked_torso_shows_the_retrieved_swatch(library, encoder):
    spec = AvatarSpec(upper_color="grey", lower_color="grey")  # neutral field colour: the swatch must show
    params = TemplateParams.from_spec(spec)
    lo, hi = (b.numpy() for b in bounds(params.shape))
    mesh = extract_mesh(template_query(params), lo, hi, skeleton(params.shape), MeshConfig(resolution=72),
                        triangles=6000)
    config = TextureConfig(blend=0.8)
    report = choose_textures(PROMPT, library, encoder, config)
    rigged = texture_and_rig(mesh, report, config, ExportConfig(triangles=6000, texture_size=256))
    info = report.to_dict()
    assert info["applied"]["upper"] == "green_plaid.png"
    tex = rigged.texture.astype(float)
    h, w = tex.shape[:2]
    v = rigged.vertices
    torso = (rigged.vertex_regions == REGIONS.index("upper")) & (np.abs(v[:, 0]) < 0.12) & (v[:, 1] > 1.1)
    uv = rigged.uvs[torso]
    cols = tex[np.clip((uv[:, 1] * h).astype(int), 0, h - 1), np.clip((uv[:, 0] * w).astype(int), 0, w - 1)]
    mean = cols.mean(0)
    assert mean[1] > mean[0] + 15 and mean[1] > mean[2] + 15, mean  # green dominates the grey body
