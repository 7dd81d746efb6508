"""Hostile but realistic inputs (issue 28): nothing the user owns is overwritten or deleted, no input
exhausts the machine or hangs, and every bad input gets a one-line answer with exit 2.

Each test is numbered by the issue's item. Model-free where the defect is found before the models load
(every check here is meant to run first); the batch ones use a fake forge."""
from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.cli import main
from pipeline.config_io import ConfigError, load_yaml
from pipeline.inputs import InputError

HAVE_FIFO = hasattr(os, "mkfifo")


@contextmanager
def no_hang(seconds: int = 20):
    """Fail (instead of hanging the suite) when the block blocks, e.g. on opening a FIFO."""
    def _alarm(signum, frame):
        raise TimeoutError(f"blocked for {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` with the sha256 of its bytes ("dir" for folders)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        out[str(p.relative_to(folder))] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def no_models(monkeypatch):
    """Every check under test must answer before any model loads: loading one fails the test."""
    import pipeline.generate

    def refuse(self, *a, **k):
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr(pipeline.generate.AvatarForge, "__init__", refuse)


def one_line_exit_2(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [x for x in err.splitlines() if x.startswith("avatarforge: error:")]
    assert len(lines) == 1 and "Traceback" not in err and "\x1b" not in err, err
    return lines[0]


def png(path: Path, rgb=(200, 20, 20)) -> Path:
    from PIL import Image

    Image.new("RGB", (64, 64), rgb).save(path)
    return path


# ------------------------------------------------------------------ 1. an output never replaces an input
def test_1_generate_refuses_to_write_its_preview_over_the_reference_image(tmp_path, capsys, no_models):
    hero = png(tmp_path / "hero.png")
    before = hero.read_bytes()
    msg = one_line_exit_2(capsys, ["generate", "a knight", "--image", str(hero), "--out", str(tmp_path / "hero.glb")])
    assert "hero.png" in msg and "--image" in msg
    assert hero.read_bytes() == before and not (tmp_path / "hero.glb").exists()


def test_1_generate_refuses_to_write_its_sidecar_over_the_config_file(tmp_path, capsys, no_models):
    cfg = tmp_path / "hero.json"
    cfg.write_text(json.dumps({"optim": {"steps": 0}}))
    before = cfg.read_bytes()
    msg = one_line_exit_2(capsys, ["generate", "a knight", "--config", str(cfg), "--out", str(tmp_path / "hero.glb")])
    assert "hero.json" in msg and "--config" in msg and cfg.read_bytes() == before


def test_1_the_api_refuses_too(tmp_path):
    from pipeline.config import resolve_config
    from pipeline.generate import AvatarForge

    hero = png(tmp_path / "hero.png")
    forge = AvatarForge.__new__(AvatarForge)  # the guard runs before any stage: no models needed
    forge.check_config = lambda c: None
    with pytest.raises(InputError, match="--image"):
        forge.generate("a knight", tmp_path / "hero.glb", resolve_config("tiny"), image=str(hero))


# ------------------------------------------------------------------ 2. a batch cleans only what it made
class _Res:
    def __init__(self, out: Path):
        out.write_bytes(b"glTF fake")
        out.with_suffix(".png").write_bytes(b"png")
        self.sidecar = out.with_suffix(".json")
        self.sidecar.write_text(json.dumps({"export": {"path": str(out)}}))
        self.sidecar_data = {"clip_score": {"initial": 0.1, "final": 0.2}, "mesh": {"triangles": 10},
                             "timings_s": {"total": 0.1}}


class _Forge:
    """Writes small files instead of loading models."""

    def __init__(self, config):
        pass

    def generate(self, prompt, out, config):
        return _Res(Path(out))


def _run_batch_inline(monkeypatch, prompts: Path, out: Path, **kw):
    """run_batch with the items produced in this process by ``_Forge`` (the real planning, checks,
    manifest, placing and report; only the worker processes and the models are left out)."""
    import pipeline.batch.local as local
    from pipeline.batch.items import ItemDefaults
    from pipeline.batch.run import BatchConfig, run_batch
    from pipeline.batch.worker import ForgeCache, produce

    def run_local(todo, workers, stage_root, on_outcome):
        cache = ForgeCache(_Forge)
        for i, item in enumerate(todo):
            on_outcome(item, produce(cache, item, Path(stage_root) / f"w{i}", "test"))

    monkeypatch.setattr(local, "run_local", run_local)
    return run_batch(BatchConfig(prompts=str(prompts), out_dir=str(out), workers=1, quiet=True,
                                 defaults=ItemDefaults(preset="tiny"), **kw))


def test_2_batch_refuses_a_folder_it_did_not_make_before_touching_anything(tmp_path, capsys):
    prompts = tmp_path / "p.txt"
    prompts.write_text("a knight\n")
    theirs = tmp_path / "work"
    (theirs / ".batch-work").mkdir(parents=True)
    (theirs / ".batch-work" / "notes.txt").write_text("mine")
    (theirs / ".draft.tmp").write_text("unsaved work")
    (theirs / ".a_knight.glb.x1y2.tmp").write_text("mine too")
    (theirs / "index.html").write_text("<h1>my site</h1>")
    before = snapshot(theirs)
    msg = one_line_exit_2(capsys, ["batch", str(prompts), "--out-dir", str(theirs), "--preset", "tiny"])
    assert "index.html" in msg or ".batch-work" in msg
    assert snapshot(theirs) == before


def test_2_batch_in_a_folder_of_other_files_leaves_them_byte_identical(tmp_path, monkeypatch):
    prompts = tmp_path / "p.txt"
    prompts.write_text("a knight\na wizard\n")
    out = tmp_path / "shared"
    out.mkdir()
    (out / "README.txt").write_text("our notes")
    (out / ".config.tmp").write_text("someone's temp file")
    (out / "sub").mkdir()
    (out / "sub" / "a_knight.glb").write_bytes(b"another avatar")
    before = snapshot(out)
    summary = _run_batch_inline(monkeypatch, prompts, out)
    assert summary.exit_code == 0
    after = snapshot(out)
    assert {k: after[k] for k in before} == before  # nothing that was there changed
    assert {"a_knight.glb", "a_wizard.glb", "index.html"} <= set(after)


# ------------------------------------------------------------------ 3. names reserved, LODs included
def test_3_lod_files_never_collide_with_another_items_name(tmp_path):
    from pipeline.batch.items import ItemDefaults, plan_items
    from pipeline.batch.parse import read_prompts

    p = tmp_path / "p.jsonl"
    p.write_text(json.dumps({"prompt": "a knight", "name": "hero"}) + "\n"
                 + json.dumps({"prompt": "a wizard", "name": "hero_lod1"}) + "\n"
                 + json.dumps({"prompt": "a ranger", "name": "hero_lod1"}) + "\n")
    _, entries = read_prompts(p)
    items, bad = plan_items(entries, ItemDefaults(preset="tiny", overrides=["export.lods=2"]), tmp_path)
    assert not bad
    files = [f for it in items for f in it.files]
    assert len(files) == len(set(files)), files  # no two items write the same file
    assert "hero_lod1.glb" in items[0].files and items[1].name != "hero_lod1"


# ------------------------------------------------------------------ 4. the default name never overwrites
def test_4_a_second_prompt_with_the_same_name_gets_a_new_file(tmp_path, monkeypatch):
    from pipeline.inputs import default_output

    monkeypatch.chdir(tmp_path)
    first, renamed = default_output("a red knight")
    assert first == Path("avatars/a_red_knight.glb") and not renamed
    first.parent.mkdir()
    first.write_bytes(b"the first knight")
    second, renamed = default_output("A RED KNIGHT!!")
    assert second == Path("avatars/a_red_knight_2.glb") and renamed
    (tmp_path / "avatars" / "a_red_knight_2.png").write_bytes(b"a preview alone still reserves the name")
    assert default_output("a red knight")[0] == Path("avatars/a_red_knight_3.glb")


# ------------------------------------------------------------------ 5. sizes bounded; memory estimated
def test_5_huge_budgets_exit_2_before_any_model_loads(capsys, no_models, tmp_path):
    for kv in ("export.triangles=100000000", "export.texture_size=8192"):
        msg = one_line_exit_2(capsys, ["generate", "a knight", "--out", str(tmp_path / "k.glb"), "--set", kv])
        assert kv.split("=")[0].split(".")[1] in msg
    assert not list(tmp_path.iterdir())


def test_5_a_config_that_does_not_fit_in_free_memory_is_refused(monkeypatch):
    from pipeline import limits
    from pipeline.config import resolve_config

    cfg = resolve_config("tiny", overrides=["export.texture_size=4096", "export.triangles=500000"])
    assert limits.estimate_peak_bytes(cfg) > limits.estimate_peak_bytes(resolve_config("tiny"))
    monkeypatch.setattr(limits, "free_bytes", lambda: (1 << 30, "the address-space limit (ulimit -v 1048576)"))
    with pytest.raises(InputError, match="ulimit -v"):
        limits.check_memory([cfg])
    monkeypatch.setattr(limits, "free_bytes", lambda: (64 << 30, "available memory"))
    limits.check_memory([cfg])
    with pytest.raises(InputError, match="workers"):
        limits.check_memory([cfg], workers=64)


# ------------------------------------------------------------------ 6. YAML: no aliases, size cap, one parse
def test_6_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        rows.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(rows) + "\n")
    t = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases are not accepted"):
        load_yaml(bomb)
    assert time.perf_counter() - t < 2


def test_6_a_big_config_is_refused_and_a_config_is_parsed_once(tmp_path, monkeypatch):
    import pipeline.config_io as cio

    big = tmp_path / "big.yaml"
    big.write_text("optim:\n  steps: 1\n" + "# padding\n" * 200_000)
    with pytest.raises(ConfigError, match="MiB"):
        load_yaml(big)
    small = tmp_path / "small.yaml"
    small.write_text("optim:\n  steps: 3\n")
    calls = []
    real = cio.parse_yaml
    monkeypatch.setattr(cio, "parse_yaml", lambda text: calls.append(1) or real(text))
    assert load_yaml(small) == load_yaml(small) == {"optim": {"steps": 3}}
    assert len(calls) == 1


# ------------------------------------------------------------------ 7. FIFOs and devices never opened
@pytest.mark.skipif(not HAVE_FIFO, reason="needs os.mkfifo")
def test_7_a_fifo_in_a_texture_library_is_skipped_not_read(tmp_path):
    from texture.library.scan import walk_images

    lib = tmp_path / "lib"
    lib.mkdir()
    png(lib / "red.png")
    os.mkfifo(lib / "pipe.png")
    with no_hang():
        found = list(walk_images(lib, (".png",)))
    ok = [f for f in found if isinstance(f, tuple)]
    skipped = [f for f in found if not isinstance(f, tuple)]
    assert [r for r, _ in ok] == ["red.png"]
    assert len(skipped) == 1 and "FIFO" in skipped[0].line()


@pytest.mark.skipif(not HAVE_FIFO, reason="needs os.mkfifo")
@pytest.mark.parametrize("flag", ["--image", "--config", "--clip-pretrained", "PROMPTS", "--prompts"])
def test_7_a_fifo_given_as_any_input_file_is_refused_at_once(tmp_path, capsys, no_models, flag):
    fifo = tmp_path / {"--image": "pipe.png", "--clip-pretrained": "w.safetensors"}.get(flag, "pipe.yaml")
    os.mkfifo(fifo)
    out = str(tmp_path / "k.glb")
    argv = {"--image": ["generate", "a knight", "--image", str(fifo), "--out", out],
            "--config": ["generate", "a knight", "--config", str(fifo), "--out", out],
            "--clip-pretrained": ["eval", "--clip-pretrained", str(fifo), "--n", "2"],
            "PROMPTS": ["batch", str(fifo), "--out-dir", str(tmp_path / "o")],
            "--prompts": ["eval", "--prompts", str(fifo)]}[flag]
    with no_hang():
        msg = one_line_exit_2(capsys, argv)
    assert "FIFO" in msg


# ------------------------------------------------------------------ 8, 9. one bad line, the others run
def test_8_9_invalid_utf8_and_nan_lines_fail_alone(tmp_path, monkeypatch):
    prompts = tmp_path / "p.jsonl"
    prompts.write_bytes(json.dumps({"prompt": "a knight"}).encode() + b"\n"
                        + b'{"prompt": "a b\xff\xfe ard"}\n'
                        + json.dumps({"prompt": "a wizard", "set": ["export.triangles=nan"]}).encode() + b"\n"
                        + json.dumps({"prompt": "a ranger", "set": ["export.triangles=inf"]}).encode() + b"\n"
                        + json.dumps({"prompt": "a queen"}).encode() + b"\n")
    out = tmp_path / "o"
    summary = _run_batch_inline(monkeypatch, prompts, out)
    rows = [json.loads(x) for x in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(r["name"] for r in rows if r["status"] == "ok") == ["a_knight", "a_queen"]
    failed = {r["line"]: r["error"] for r in rows if r["status"] == "failed"}
    assert set(failed) == {2, 3, 4} and "UTF-8" in failed[2] and "finite" in failed[3] and "finite" in failed[4]
    assert summary.exit_code == 1 and "a_queen.glb" in (out / "index.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------ 10, 12, 15, 16. one line, exit 2
@pytest.mark.parametrize("argv,words", [
    (["config", "--set", "export.triangles=nan"], "finite"),
    (["config", "--set", "export.triangles=inf"], "finite"),
    (["config", "--set", "seed=1e400"], "seed"),
    (["config", "--set", "export=3"], "is a section"),
    (["config", "--preset", "../../x"], "not a preset name"),
    (["generate", "a knight", "--image", "/dev/zero"], "character device"),
])
def test_12_15_16_bad_values_get_one_line(capsys, no_models, argv, words):
    if "/dev/zero" in argv and not os.path.exists("/dev/zero"):
        pytest.skip("needs /dev/zero")
    assert words in one_line_exit_2(capsys, argv)


def test_10_a_config_that_is_not_utf8_gets_one_line(tmp_path, capsys):
    bad = tmp_path / "c.yaml"
    bad.write_bytes(b"optim:\n  steps: \xff\xfe\n")
    assert "not UTF-8" in one_line_exit_2(capsys, ["config", "--config", str(bad)])


def test_15_a_dangling_output_folder_is_named(tmp_path, capsys, no_models):
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    msg = one_line_exit_2(capsys, ["generate", "a knight", "--out", str(tmp_path / "gone" / "k.glb")])
    assert "broken symbolic link" in msg


# ------------------------------------------------------------------ 11. eval --prompts
@pytest.mark.parametrize("content,words", [
    (b"", "holds no prompts"),
    (b"\x89PNG\r\n\x1a\n\0\0\0", "binary"),
    (b'{"prompt": "a knight"\n', "line 1: not valid JSON"),
    (b'{"text": "a knight"}\n', "needs a \"prompt\""),
    (b"a knight\n\xff\xfe\n", "line 2: not UTF-8"),
])
def test_11_eval_prompt_files(tmp_path, capsys, content, words):
    p = tmp_path / "p.jsonl"
    p.write_bytes(content)
    assert words in one_line_exit_2(capsys, ["eval", "--prompts", str(p)])


# ------------------------------------------------------------------ 13, 14. weights in our own words
def _shipped_state():
    from safetensors.torch import load_file

    from pipeline.encoders.models import DEFAULT_MODEL, WEIGHT_FILES

    return load_file(str(WEIGHT_FILES[DEFAULT_MODEL]))


def test_13_a_corrupt_or_pickled_pt_is_refused_without_advice_to_load_unsafely(tmp_path):
    from pipeline.encoders.weights import WeightsError, read_state_dict

    corrupt = tmp_path / "w.pt"
    corrupt.write_bytes(b"PK\x03\x04 not really a checkpoint")
    pickled = tmp_path / "p.pt"
    torch.save({"model": object.__new__(type("Net", (), {}))} if False else {"opt": Path("x")}, pickled)
    for f in (corrupt, pickled):
        with pytest.raises(WeightsError) as e:
            read_state_dict(f)
        assert "weights_only=False" not in str(e.value) and "\x1b" not in str(e.value) and f.name in str(e.value)
    with pytest.raises(WeightsError, match="never unpickles"):
        read_state_dict(pickled)


def test_13_a_mismatched_open_clip_checkpoint_says_which_tensors_differ(tmp_path):
    """open_clip's own message stops at "Error(s) in loading state_dict for CLIP:"; ours names a tensor."""
    open_clip = pytest.importorskip("open_clip")
    from safetensors.torch import save_file

    from pipeline.encoders.models import load_open_clip
    from pipeline.encoders.weights import WeightsError

    (tmp_path / "cfg").mkdir()
    cfg = {"embed_dim": 32, "vision_cfg": {"image_size": 32, "patch_size": 16, "width": 32, "layers": 1,
                                           "head_width": 16},
           "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
    (tmp_path / "cfg" / "afg-hostile-tiny.json").write_text(json.dumps(cfg))
    open_clip.add_model_config(tmp_path / "cfg")
    state = {k: v.contiguous() for k, v in open_clip.create_model("afg-hostile-tiny").state_dict().items()}
    state["visual.proj"] = torch.zeros(32, 7)
    bad = tmp_path / "bad.safetensors"
    save_file(state, str(bad))
    with pytest.raises(WeightsError) as e:
        load_open_clip("afg-hostile-tiny", str(bad))
    msg = str(e.value)
    assert "visual.proj" in msg and "shape mismatch" in msg and not msg.rstrip().endswith(":")


def test_14_a_pt_state_dict_loads_like_safetensors_and_nan_weights_exit_2(tmp_path, capsys):
    from pipeline.encoders.models import load_embedded

    state = _shipped_state()
    pt = tmp_path / "w.pt"
    torch.save(state, pt)
    model = load_embedded(weights=pt)
    ref = load_embedded()
    k = next(n for n, v in ref.state_dict().items() if v.is_floating_point() and not n.startswith("text.transformer"))
    assert torch.equal(model.state_dict()[k], ref.state_dict()[k])
    state[k] = torch.full_like(state[k], math.nan)
    nan = tmp_path / "nan.pt"
    torch.save(state, nan)
    assert "NaN" in one_line_exit_2(capsys, ["eval", "--clip-pretrained", str(nan), "--n", "2"])


# ------------------------------------------------------------------ 16. images and CSV
def test_16_a_16_bit_greyscale_png_keeps_its_tones(tmp_path):
    from PIL import Image

    from pipeline.inputs import load_image

    a = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    p = tmp_path / "grey16.png"
    Image.fromarray(a).save(p)
    rgb = np.asarray(load_image(p))
    assert rgb.shape == (64, 64, 3)
    assert rgb[0, 0].max() < 10 and rgb[-1, -1].min() > 245 and 100 < rgb.mean() < 155  # a ramp, not white


def test_16_an_unterminated_csv_quote_fails_its_row_only(tmp_path):
    from pipeline.batch.parse import read_prompts

    p = tmp_path / "p.csv"
    p.write_text('prompt,seed\n"a knight,1\na wizard,2\na ranger,3\n')
    _, entries = read_prompts(p)
    bad = [e for e in entries if e.error]
    assert len(bad) == 1 and bad[0].line == 2 and "unterminated quote" in bad[0].error
    assert [e.prompt for e in entries if not e.error] == ["a wizard", "a ranger"]


# ------------------------------------------------------------------ 17. staging after kills and clashes
def test_17_a_killed_writers_stage_folder_is_removed_by_the_next_write(tmp_path):
    import subprocess
    import sys

    from texture.atomic import STAGE_PREFIX, _host_tag, staged

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f"{STAGE_PREFIX}{_host_tag()}-{dead.pid}-abc123"
    left.mkdir()
    (left / "k.glb").write_bytes(b"half")
    live = tmp_path / f"{STAGE_PREFIX}{_host_tag()}-{os.getpid()}-def456"  # a live writer's: kept
    live.mkdir()
    with staged(tmp_path) as stage:
        (stage / "n.glb").write_bytes(b"new")
    assert not left.exists() and live.exists() and (tmp_path / "n.glb").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "n.glb"])


def test_17_a_folder_in_the_way_of_one_output_moves_none(tmp_path):
    from texture.atomic import staged

    (tmp_path / "k.png").mkdir()
    with pytest.raises(IsADirectoryError, match="k.png"):
        with staged(tmp_path, last="k.glb") as stage:
            for n in ("k.glb", "k.json", "k.png"):
                (stage / n).write_bytes(b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.png"]


def test_17_a_batch_that_aborts_leaves_no_folder_behind(tmp_path, monkeypatch):
    import pipeline.batch.run as run

    prompts = tmp_path / "p.txt"
    prompts.write_text("a knight\n")
    out = tmp_path / "new" / "out"

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "_progress", boom)
    with pytest.raises(KeyboardInterrupt):
        _run_batch_inline(monkeypatch, prompts, out)
    assert not out.exists()
