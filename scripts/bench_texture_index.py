"""Benchmark the texture index: indexing throughput and query latency (faiss vs numpy).

    python scripts/bench_texture_index.py [--model ViT-B-32 | --model avatarforge-vit16-minilm]
        [--images 64] [--vectors 100000] [--dim 512] [--queries 200]

Throughput uses a randomly initialised open_clip model of the named architecture (the
speed of a forward pass does not depend on the weights) on generated 256 px swatches,
PNG decoding and hashing included. Latency is for one query vector at a time against an
index of ``--vectors`` random unit vectors; the target is <= 10 ms per query.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from texture.library import search as library_search  # noqa: E402
from texture.library.index import IndexConfig, index_library  # noqa: E402
from texture.library.search import LibraryIndex  # noqa: E402
from texture.library.swatches import MATERIALS, render_swatch  # noqa: E402


def make_embedder(name: str):
    import open_clip
    import torch

    from texture.library.embedder import OpenClipEmbedder

    if name.startswith("avatarforge-"):  # the project's embedded architectures live in pipeline
        from pipeline.encoders.models import register_embedded
        register_embedded()
    torch.manual_seed(0)
    model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=None)
    return OpenClipEmbedder(model, preprocess, open_clip.get_tokenizer(name), name, weights_hash="random-init")


def bench_indexing(embedder, n: int, batch: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as d:
        rng = random.Random(0)
        colors = ["red", "green", "blue", "black", "white", "yellow", "purple", "brown"]
        for i in range(n):
            render_swatch(MATERIALS[i % len(MATERIALS)], colors[i % len(colors)], 256, rng).save(f"{d}/{i:05d}.png")
        t = time.perf_counter()
        rep = index_library(d, embedder, f"{d}/idx/i.json", IndexConfig(progress=False, batch_size=batch))
        full = time.perf_counter() - t
        t = time.perf_counter()
        rep2 = index_library(d, embedder, f"{d}/idx/i.json", IndexConfig(progress=False))
        again = time.perf_counter() - t
        assert rep.n_encoded == n and rep2.n_encoded == 0
    return n / full, again


def bench_queries(n: int, dim: int, q: int) -> dict[str, tuple[float, float]]:
    g = np.random.default_rng(0)
    emb = g.standard_normal((n, dim), dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    queries = emb[g.integers(0, n, q)] + 0.05 * g.standard_normal((q, dim), dtype=np.float32)
    idx = LibraryIndex(Path("."), [str(i) for i in range(n)], emb)
    out = {}
    for backend in ("faiss", "numpy"):
        if backend == "faiss" and library_search.faiss is None:
            continue
        idx.search(queries[:1], 5, backend=backend)  # build / warm up
        times = []
        for v in queries:
            t = time.perf_counter()
            idx.search(v[None], 5, backend=backend)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        idx.search(queries, 5, backend=backend)
        out[backend] = (1e3 * float(np.median(times)), 1e3 * (time.perf_counter() - t) / q)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="ViT-B-32", help="open_clip architecture for the throughput test")
    ap.add_argument("--images", type=int, default=64, help="images indexed for the throughput test")
    ap.add_argument("--batch", type=int, default=32, help="encoding batch size")
    ap.add_argument("--vectors", type=int, default=100_000, help="index size for the latency test")
    ap.add_argument("--dim", type=int, default=256,
                    help="embedding dimension (the embedded model: 256) for the latency test")
    ap.add_argument("--queries", type=int, default=200, help="queries timed")
    args = ap.parse_args(argv)

    emb = make_embedder(args.model)
    ips, again = bench_indexing(emb, args.images, args.batch)
    lat = bench_queries(args.vectors, args.dim, args.queries)
    print(f"{'measure':52s} {'value':>12s}")
    print(f"{'indexing throughput, ' + args.model + ' (CPU)':52s} {ips:9.1f} img/s")
    print(f"{'re-index of unchanged ' + str(args.images) + ' images':52s} {1e3 * again:9.1f} ms")
    for b, (one, batched) in lat.items():
        print(f"{b + ' query latency, ' + f'{args.vectors:,}x{args.dim}':52s} {one:9.2f} ms"
              f"{'  OK' if one <= 10 else '  > 10 ms target'}")
        print(f"{b + ' per query in a batch of ' + str(args.queries):52s} {batched:9.2f} ms")
    if "faiss" in lat:
        print(f"{'numpy / faiss single-query latency ratio':52s} {lat['numpy'][0] / lat['faiss'][0]:9.2f} x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
