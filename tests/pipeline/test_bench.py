"""``avatarforge bench``: the JSON report has every key, positive timings and consistent ratios."""
import json

import pytest
import torch

from pipeline.cli import main

KEYS = ("end_to_end_s", "step_s", "field_fwd_bwd_s", "guidance_fwd_bwd_s", "overhead_ratio", "guidance_ratio",
        "model_load_s", "peak_rss_mb")


def check_report(rep):
    for k in KEYS:
        assert rep[k] > 0, k
    assert rep["overhead_ratio"] == pytest.approx(rep["step_s"] / (rep["field_fwd_bwd_s"] + rep["guidance_fwd_bwd_s"]),
                                                  rel=0.02)
    assert rep["guidance_ratio"] == pytest.approx(rep["step_s"] / rep["guidance_fwd_bwd_s"], rel=0.02)
    assert rep["guidance_ratio"] > rep["overhead_ratio"]
    for stage in ("encode", "reference", "condition", "prior", "optimize", "mesh", "texture",  # the body keeps
                  "texture.bake", "texture.rig", "export"):  # its UVs: no texture.uv on the default path
        assert rep["stages_s"][stage] > 0, stage
    assert set(rep["step_breakdown_s"]) == {"field_query", "rendering", "guidance_forward", "backward", "optimizer"}
    assert sum(rep["step_breakdown_s"].values()) > 0
    assert 0 < rep["samples_per_step"] and rep["optimize"]["steps_run"] >= 1
    assert rep["end_to_end_s"] >= rep["stages_s"]["optimize"]


def test_bench_cli_tiny(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--preset", "tiny", "--device", "cpu", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    check_report(rep)
    assert rep["device"] == "cpu" and rep["cuda_peak_mb"] is None and rep["preset"] == "tiny"
    text = capsys.readouterr().out
    assert "overhead ratio" in text and "end to end" in text


def test_bench_rejects_negative_steps(capsys):
    assert main(["bench", "--preset", "tiny", "--steps", "-1"]) == 2
    assert "--steps" in capsys.readouterr().err


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_bench_gpu_hash_field(tmp_path):
    """The gpu preset's field (hash grid) and CUDA memory figures, at tiny sizes."""
    from pipeline.bench import BenchConfig, run_bench
    from pipeline.config import resolve_config

    cfg = resolve_config("tiny", None, ["model.device=cuda", "field.kind=hash"])
    rep = run_bench(cfg, BenchConfig(repeats=2, warmup=1), preset="tiny")
    check_report(rep)
    assert rep["device"].startswith("cuda") and rep["cuda_peak_mb"] > 0
