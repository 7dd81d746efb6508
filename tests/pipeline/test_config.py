"""Presets, YAML files and --set overrides; unknown names are errors naming the closest valid ones."""
import pytest

from pipeline.config import resolve_config
from pipeline.config_io import ConfigError, describe, presets


def test_presets_exist_and_resolve():
    assert {"cpu", "gpu", "preview"} <= set(presets())
    cpu = resolve_config("cpu")
    assert cpu.field.kind == "grid"
    assert resolve_config("gpu").field.kind == "hash"
    assert resolve_config("preview").optim.steps < cpu.optim.steps


def test_overrides_and_file(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("optim:\n  steps: 7\nexport:\n  triangles: 1234\n")
    cfg = resolve_config("cpu", str(f), ["optim.lr=0.5", "export.animation=none", "seed=3"])
    assert (cfg.optim.steps, cfg.export.triangles, cfg.optim.lr, cfg.export.animation, cfg.seed) == \
        (7, 1234, 0.5, "none", 3)


@pytest.mark.parametrize("kwargs,needle", [
    (dict(preset="cpuu"), "did you mean cpu"),
    (dict(overrides=["optim.step=3"]), "optim.steps"),
    (dict(overrides=["optim.steps=many"]), "expected an integer"),
    (dict(overrides=["optim.steps"]), "key.path=value"),
])
def test_errors_name_the_problem(kwargs, needle):
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        resolve_config(kwargs.get("preset"), None, kwargs.get("overrides", ()))


@pytest.mark.parametrize("override,needle", [
    ("export.animation=dance", "export.animation='dance': choose one of wave"),
    ("export.texture_size=300", "export.texture_size=300: a power of two"),
    ("export.skin.max_influences=8", "export.skin.max_influences=8"),
    ("render.image_size=0", "render.image_size=0"),
    ("render.sampling=boxx", "did you mean box"),
    ("optim.lr=nan", "optim.lr=nan: expected a finite number"),
    ("optim.steps=-3", "optim.steps=-3"),
    ("guidance.sds.t_min=0.99", "guidance.sds.t_min=0.99"),
    ("mesh.resolution=2", "mesh.resolution=2"),
    ("seed=99999999999999999999", "seed=99999999999999999999"),  # exactly as given, not rounded
])
def test_values_out_of_range_are_refused_when_resolved(override, needle):
    """Before any model loads (exit 2), not as a crash at export after the whole pipeline ran."""
    with pytest.raises(ConfigError) as e:
        resolve_config("cpu", None, [override])
    assert needle in str(e.value), str(e.value)


def test_every_preset_passes_the_checks():
    for name in presets():
        resolve_config(name)


def test_unknown_section_key_in_file(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("optim:\n  stepz: 3\n")
    with pytest.raises(ConfigError, match="stepz.*steps"):
        resolve_config("cpu", str(f))


def test_every_key_is_documented():
    missing = [k for k, _, doc in describe(resolve_config("cpu")) if not doc]
    assert not missing, f"config keys without an attribute docstring: {missing}"


def test_a_sidecar_reproduces_its_config(tmp_path):
    import dataclasses
    import json

    cfg = resolve_config("preview", None, ["seed=11", "export.lods=2"])
    side = tmp_path / "a.json"
    side.write_text(json.dumps({"prompt": "x", "seed": 11, "config": dataclasses.asdict(cfg)}))
    again = resolve_config(None, str(side))
    assert dataclasses.asdict(again) == dataclasses.asdict(cfg)
