"""Every size-like config key has a bound (``pipeline.limits.LIMITS``, the one table), a value just above it
exits 2 before any model loads, and a value at it is accepted."""
from __future__ import annotations

import pytest

from pipeline.cli import main
from pipeline.config import GenerateConfig, resolve_config
from pipeline.config_io import all_keys, value_at
from pipeline.limits import LIMITS

#: Numeric keys that do not scale memory, time or output size (weights, rates, fractions, ratios): the rest
#: must be in LIMITS, so a new size-like key cannot land without a bound.
NOT_SIZE = {
    "seed", "fusion.dropout", "field.beta", "field.max_offset", "field.max_inset", "field.max_color_shift",
    "guidance.transmittance_target", "guidance.transmittance_weight", "guidance.transmittance_slack",
    "guidance.image_weight", "guidance.sds.guidance_scale", "guidance.sds.t_min", "guidance.sds.t_max",
    "optim.lr", "optim.regularizer_weight", "optim.min_delta", "mesh.min_component_fraction", "texture.blend",
    "texture.tile_m", "texture.sharpness", "texture.min_score", "export.metallic", "export.roughness",
    "export.skin.falloff", "export.skin.behind", "export.skin.max_influences",
}


def _numeric_keys() -> set[str]:
    c = GenerateConfig()
    return {k for k in all_keys(c) if isinstance(value_at(c, k), (int, float)) and not isinstance(value_at(c, k), bool)}


def test_every_size_like_key_is_in_the_table():
    keys = _numeric_keys()
    assert set(LIMITS) <= keys, set(LIMITS) - keys
    assert keys - set(LIMITS) == NOT_SIZE


def _just_above(key: str) -> str:
    lim = LIMITS[key].max
    if isinstance(value_at(GenerateConfig(), key), int):
        return str(int(lim) * 2 if key == "export.texture_size" else int(lim) + 1)  # sizes are powers of two
    return str(lim * 1.01)


@pytest.mark.parametrize("key", sorted(LIMITS))
def test_just_above_the_bound_exits_2_before_any_model_loads(key, tmp_path, capsys, monkeypatch):
    import pipeline.generate

    def refuse(self, *a, **k):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(pipeline.generate.AvatarForge, "__init__", refuse)
    code = main(["generate", "a knight", "--out", str(tmp_path / "k.glb"), "--set", f"{key}={_just_above(key)}"])
    err = capsys.readouterr().err
    assert code == 2 and key.rsplit(".", 1)[-1] in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("key", sorted(LIMITS))
def test_the_bound_itself_is_accepted(key):
    lim = LIMITS[key].max
    v = int(lim) if isinstance(value_at(GenerateConfig(), key), int) else lim
    extra = ["optim.steps=20000"] if key == "optim.patience" else []  # patience is at most the steps
    cfg = resolve_config(overrides=[*extra, f"{key}={v}"])
    assert value_at(cfg, key) == v


def test_the_config_command_lists_every_bound(capsys):
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    for key, lim in LIMITS.items():
        line = next(x for x in out.splitlines() if x.startswith(f"{key} = "))
        assert str(int(lim.max)) in line.replace(",", ""), line


def test_docs_list_every_bound():
    from pathlib import Path

    from pipeline.limits import bound_text

    doc = (Path(__file__).resolve().parents[2] / "docs" / "LIMITS.md").read_text()
    for key, lim in LIMITS.items():
        assert f"| `{key}` | {bound_text(lim.max)} |" in doc, key
