"""Texture library: swatches, incremental index, hostile files, model mismatch, regions, retrieval.

Rankings use ``ColourTextureDouble`` (conftest.py), a hand-written TEST DOUBLE of the CLIP
model; switch it to the project's trained model once ``pipeline`` ships one.
"""
from __future__ import annotations

import json
import os
import random
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from nerf.synthetic.avatar_spec import COLORS
from pipeline.cli.common import EXIT_FAIL, EXIT_OK
from pipeline.cli.index import index_and_report
from texture.library import search as library_search
from texture.library.index import IndexConfig, IndexMismatchError, index_library, load_index
from texture.library.regions import parse_regions
from texture.library.retrieval import region_queries, retrieve_regions
from texture.library.search import LibraryIndex
from texture.library.swatches import MATERIALS, library_filename, render_swatch, swatch_caption

CFG = IndexConfig(progress=False)


def _write_swatch(path: Path, material: str, color: str, size: int = 48) -> None:
    render_swatch(material, color, size, random.Random(f"{material}{color}")).save(path)


def _png_header(w: int, h: int) -> bytes:
    """A tiny PNG whose IHDR claims w x h (no pixel data worth decoding)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)

    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture
def small_lib(tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    (lib / "sub").mkdir(parents=True)
    for i, (m, c) in enumerate([("solid", "red"), ("plaid", "green"), ("stripes", "blue"), ("denim", "blue")]):
        _write_swatch((lib / "sub" if i % 2 else lib) / library_filename(c, m), m, c)
    return lib


def test_swatches_deterministic_and_captioned():
    a = render_swatch("plaid", "green", 64, random.Random(3))
    b = render_swatch("plaid", "green", 64, random.Random(3))
    assert a.size == (64, 64) and a.tobytes() == b.tobytes()
    for m in MATERIALS:  # every material renders, dominated by its colour's hue family
        assert render_swatch(m, "red", 32).mode == "RGB"
    caps = {swatch_caption("plaid", "green", random.Random(i)) for i in range(20)}
    assert len(caps) > 5 and all(any(s in c for s in COLORS["green"][1]) for c in caps)
    with pytest.raises(ValueError, match="unknown material 'tweed'"):
        render_swatch("tweed", "red")


def test_incremental_reindex(small_lib, tmp_path, double_embedder):
    idx = tmp_path / "idx" / "lib.json"
    emb = double_embedder
    r1 = index_library(small_lib, emb, idx, CFG)
    assert (r1.n_indexed, r1.n_encoded) == (4, 4)
    calls, n = emb.encode_image_calls, emb.images_encoded
    r2 = index_library(small_lib, emb, idx, CFG)  # unchanged: nothing encoded, no encode call
    assert (r2.n_indexed, r2.n_encoded, r2.n_reused) == (4, 0, 4)
    assert emb.encode_image_calls == calls and emb.images_encoded == n
    _write_swatch(small_lib / "sub" / "black_leather.png", "leather", "black")
    r3 = index_library(small_lib, emb, idx, CFG)  # one new file: exactly one image encoded
    assert (r3.n_indexed, r3.n_encoded) == (5, 1) and emb.images_encoded == n + 1
    os.utime(small_lib / "red_solid.png", ns=(1, 1))  # touched but same bytes: hash says unchanged
    (small_lib / "sub" / "green_plaid.png").unlink()
    r4 = index_library(small_lib, emb, idx, CFG)
    assert (r4.n_indexed, r4.n_encoded, r4.n_removed) == (4, 0, 1)
    loaded = load_index(idx)
    assert "sub/green_plaid.png" not in loaded.paths and "sub/black_leather.png" in loaded.paths
    assert np.allclose(np.linalg.norm(loaded.embeddings, axis=1), 1.0, atol=1e-2)
    assert len(list(idx.parent.glob("*.npy"))) == 1 and not list(idx.parent.glob("*.tmp"))


def test_hostile_files_are_skipped_with_reasons(small_lib, tmp_path, double_embedder):
    good = small_lib / "red_solid.png"
    data = good.read_bytes()
    (small_lib / "corrupt.png").write_bytes(data[:60] + b"\xff" * 40 + data[100:])
    (small_lib / "truncated.png").write_bytes(data[: len(data) // 2])
    (small_lib / "notes.jpg").write_text("this is not a jpeg\n")
    (small_lib / "bomb.png").write_bytes(_png_header(30000, 30000))
    outside = tmp_path / "outside.png"
    _write_swatch(outside, "solid", "pink")
    (small_lib / "escape.png").symlink_to(outside)
    (small_lib / "escape_dir").symlink_to(tmp_path, target_is_directory=True)
    (small_lib / "inside.png").symlink_to(good)  # a link that stays inside is followed
    lines: list[str] = []
    rep = index_library(small_lib, double_embedder, tmp_path / "i.json", CFG, on_skip=lambda s: lines.append(s.line()))
    reasons = {s.path: s.reason for s in rep.skipped}
    assert reasons == {"bomb.png": "oversized", "corrupt.png": "unreadable", "truncated.png": "truncated",
                       "notes.jpg": "not-an-image", "escape.png": "outside-root", "escape_dir": "outside-root"}
    assert rep.n_indexed == 5 and "inside.png" in rep.index.paths
    assert len(lines) == 6 and all("\n" not in ln for ln in lines)
    assert "900000000 px > limit 67108864" in next(ln for ln in lines if "bomb" in ln)
    small = index_library(small_lib, double_embedder, tmp_path / "j.json",
                          IndexConfig(progress=False, max_pixels=40 * 40), on_skip=lambda s: None)
    assert small.n_indexed == 0 and any("48x48 = 2304 px > limit 1600" in s.detail for s in small.skipped)


def test_model_mismatch_rebuilds_or_refuses(small_lib, tmp_path, double_embedder, capsys):
    idx = tmp_path / "m.json"
    index_library(small_lib, double_embedder, idx, CFG)
    other = type(double_embedder)(texture_weight=0.5)  # different weights -> different hash
    with pytest.raises(IndexMismatchError, match="built by model"):
        index_library(small_lib, other, idx, IndexConfig(progress=False, rebuild_on_mismatch=False))
    assert index_and_report(small_lib, idx, other, quiet=True,
                              config=IndexConfig(rebuild_on_mismatch=False)) == EXIT_FAIL
    rep = index_library(small_lib, other, idx, CFG)
    assert rep.rebuilt and rep.n_encoded == 4
    assert json.loads(idx.read_text())["model"]["weights_hash"] == other.weights_hash
    assert index_and_report(small_lib, idx, other, quiet=False) == EXIT_OK
    assert "0 encoded, 4 unchanged" in capsys.readouterr().out


@pytest.mark.parametrize("prompt, expect", [
    ("a person in a green plaid shirt and black trousers",
     {"upper": "green plaid shirt", "lower": "black trousers"}),
    ("a shirt in green plaid and black trousers", {"upper": "green plaid shirt", "lower": "black trousers"}),
    ("a tall knight in a red tunic with a silver helmet", {"upper": "red tunic", "head": "silver helmet"}),
    ("a wizard in a purple robe", {"upper": "purple robe", "lower": "purple robe"}),
    ("a girl with blue jeans and white sneakers", {"lower": "blue jeans", "feet": "white sneakers"}),
    ("a chef with a white hat, checkered trousers and a striped blue jacket",
     {"head": "white hat", "lower": "checkered trousers", "upper": "striped blue jacket"}),
    ("a red knight", {"outfit": "red"}),
])
def test_region_parser(prompt, expect):
    got = parse_regions(prompt)
    assert {r: p.text for r, p in got.items()} == expect


def test_region_parser_canonicalises_and_falls_back(double_embedder):
    r = parse_regions("a robot in steel armour and crimson polka dot trousers")
    assert (r["upper"].color, r["upper"].material) == ("silver", "metal")
    assert (r["lower"].color, r["lower"].material) == ("red", "polka dots")
    assert parse_regions("a girl in blue jeans")["lower"].material == "denim"
    assert region_queries(parse_regions("a green plaid shirt")["upper"])[0] == "a close-up of green plaid fabric"

    class Stub:  # embeds region descriptions and chunks so that "tuxedo" lands on upper
        name, weights_hash = "stub", "0"

        def encode_texts(self, texts):
            return np.array([[1.0, 0.0] if ("tuxedo" in t or "upper" in t) else [0.0, 1.0] for t in texts],
                            np.float32)

    got = parse_regions("a man wearing a tuxedo", embedder=Stub())
    assert got["upper"].text == "tuxedo" and got["upper"].source == "embedding"


def test_retrieval_ranks_the_described_swatch_first(tmp_path, double_embedder):
    lib = tmp_path / "gen"
    lib.mkdir()
    for c in ("green", "black", "red", "blue", "white"):
        for m in ("solid", "plaid", "checks", "stripes", "leather"):
            _write_swatch(lib / library_filename(c, m), m, c, size=64)
    index = index_library(lib, double_embedder, tmp_path / "g.json", CFG).index
    res = retrieve_regions("a person in a green plaid shirt and black trousers", index, double_embedder, k=3)
    assert set(res) == {"upper", "lower"}
    assert res["upper"][0][0].name == "green_plaid.png"
    assert all(p.name.startswith("black_") for p, _ in res["lower"])
    assert res["upper"][0][1] >= res["upper"][1][1]
    # a conditioning vector pointing at red plaid pulls red plaid up for the upper region
    cond = double_embedder.encode_texts(["red plaid fabric"])[0]
    res2 = retrieve_regions("a green plaid shirt", index, double_embedder, k=3, conditioning=cond)
    names = [p.name for p, _ in res["upper"]]
    before = names.index("red_plaid.png") if "red_plaid.png" in names else 99
    assert [p.name for p, _ in res2["upper"]].index("red_plaid.png") < before


def test_search_faiss_and_numpy_agree(monkeypatch):
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(500, 32)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    idx = LibraryIndex(Path("."), [f"{i}.png" for i in range(500)], emb)
    q = emb[:7] + 0.01
    s_np, i_np = idx.search(q, 10, backend="numpy")
    assert (i_np[:, 0] == np.arange(7)).all()
    if library_search.faiss is not None:
        s_f, i_f = idx.search(q, 10, backend="faiss")
        assert (i_f == i_np).all() and np.allclose(s_f, s_np, atol=1e-5)
    monkeypatch.setattr(library_search, "faiss", None)
    s_fb, i_fb = LibraryIndex(Path("."), idx.paths, emb).search(q, 10)
    assert (i_fb == i_np).all()
    with pytest.raises(ValueError, match="dimension 3"):
        idx.search(np.ones((1, 3)), 1)
