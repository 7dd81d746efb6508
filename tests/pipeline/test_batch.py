"""``avatarforge batch``: parsing, naming, the manifest, the contact sheet, failure isolation, and
end to end: a batch SIGKILLed midway, resumed, and the same batch on Ray."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.batch.items import ItemDefaults, plan_items
from pipeline.batch.manifest import MANIFEST, Manifest, Record, file_sha256
from pipeline.batch.parse import read_prompts
from pipeline.batch.report import write_index
from pipeline.batch.run import MARKER, BatchConfig, _todo, clean_stale, run_batch
from pipeline.batch.worker import ForgeCache, produce
from pipeline.cli import main
from pipeline.inputs import InputError, safe_name

FAST = ["optim.steps=1", "mesh.resolution=56", "export.texture_size=128"]
FAST_ARGS = ["--preset", "tiny"] + [a for s in FAST for a in ("--set", s)]


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def plan(path, **kw):
    _, entries = read_prompts(path)
    return plan_items(entries, ItemDefaults("tiny", None, []), **kw)


# ------------------------------------------------------------------ parsing and naming
def test_text_comments_blanks_and_line_numbers(tmp_path):
    p = write(tmp_path, "p.txt", "# a comment\n\na tall knight\n  \n\x07\na wizard  in\ta robe\n")
    items, bad = plan(p)
    assert [(i.line, i.name, i.prompt) for i in items] == [(3, "a_tall_knight", "a tall knight"),
                                                            (6, "a_wizard_in_a_robe", "a wizard in a robe")]
    assert [(b.line, "control character" in b.error) for b in bad] == [(5, True)]


def test_jsonl_fields_and_bad_lines(tmp_path):
    lines = [
        '{"prompt": "a knight", "name": "Hero One", "seed": 7, "set": ["optim.steps=2"]}',
        '{"prompt": "a knight", "set": "optim.steps=4; export.triangles=3000"}',
        "{not json",
        '{"prompt": ""}',
        '{"name": "x"}',
        '{"prompt": "a wizard", "set": ["optim.stepz=2"]}',
        '{"prompt": "a wizard", "preset": "nosuch"}',
        '{"prompt": "a wizard", "colour": "red"}',
        '["a list"]',
        '{"prompt": "a wizard", "seed": "seven"}',
        '"a bare string prompt"',
    ]
    items, bad = plan(write(tmp_path, "p.jsonl", "\n".join(lines) + "\n"))
    assert [(i.line, i.name) for i in items] == [(1, "hero_one"), (2, "a_knight"), (11, "a_bare_string_prompt")]
    assert items[0].seed == 7 and items[0].config.optim.steps == 2
    assert items[1].config.optim.steps == 4 and items[1].config.export.triangles == 3000
    assert items[0].config_hash != items[1].config_hash
    errors = {b.line: b.error for b in bad}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "JSON" in errors[3] and "prompt" in errors[4] and "prompt" in errors[5]
    assert "optim.stepz" in errors[6] and "nosuch" in errors[7] and "colour" in errors[8]
    assert "seven" in errors[10]


def test_csv_multiline_rows_keep_their_first_line(tmp_path):
    text = ('prompt,name,seed,set\n'
            'a knight,,1,optim.steps=2;export.triangles=3000\n'
            '"a wizard\nin a robe",wiz,,\n'
            ',,,\n'
            ',nameonly,,\n'
            'a pirate,p,2,,extra\n'
            'a queen,,,\n')
    items, bad = plan(write(tmp_path, "p.csv", text))
    assert [(i.line, i.name, i.seed) for i in items] == [(2, "a_knight", 1), (3, "wiz", 0), (8, "a_queen", 0)]
    assert items[0].config.optim.steps == 2 and items[1].prompt == "a wizard in a robe"
    assert sorted(b.line for b in bad) == [6, 7]
    with pytest.raises(InputError, match="prompt"):
        read_prompts(write(tmp_path, "q.csv", "text,name\na knight,x\n"))


def test_names_are_sanitised_unique_and_stay_inside_the_folder(tmp_path):
    lines = [{"prompt": "a knight"}, {"prompt": "a knight"}, {"prompt": "a knight", "name": "a_knight_2"},
             {"prompt": "x", "name": "../../x"}, {"prompt": "y", "name": "/etc/passwd"},
             {"prompt": "z", "name": "..\\..\\evil"}, {"prompt": "a knight"}, {"prompt": "w", "name": "..."}]
    p = write(tmp_path, "p.jsonl", "\n".join(json.dumps(x) for x in lines))
    items, bad = plan(p, out_dir=tmp_path / "out")
    names = [i.name for i in items]
    assert names == ["a_knight", "a_knight_2", "a_knight_2_2", "x", "etc_passwd", "evil", "a_knight_3",
                     safe_name("...")]
    assert names[-1].startswith("avatar_")
    assert not bad
    assert names == [i.name for i in plan(p)[0]]  # deterministic
    for n in names:
        assert (tmp_path / "out" / f"{n}.glb").resolve().parent == (tmp_path / "out").resolve()


# ------------------------------------------------------------------ manifest, stale files, contact sheet
def test_manifest_drops_a_truncated_last_line_and_appends_after_it(tmp_path):
    m = Manifest.open(tmp_path)
    m.append(Record("a", 1, "a knight", "ok", sha256={"a.glb": "0" * 64}, seed=0, config_hash="h"))
    m.append(Record(None, 2, "\x07", "failed", "bad prompt"))
    path = tmp_path / MANIFEST
    with open(path, "ab") as f:
        f.write(b'{"name": "b", "line": 3, "prompt": "a wiz')  # the crash came mid-write
    m2 = Manifest.open(tmp_path)
    assert m2.dropped == 1 and [r.key for r in m2.records] == ["a", "line:2"]
    assert path.read_bytes().endswith(b"}\n")
    m2.append(Record("b", 3, "a wizard", "failed", "MemoryError: "))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3] and Manifest.open(tmp_path).dropped == 0


def test_resume_skips_intact_outputs_and_redoes_tampered_changed_or_retried(tmp_path):
    p = write(tmp_path, "p.txt", "a knight\na wizard\na pirate\n")
    items, _ = plan(p)
    out = tmp_path / "out"
    out.mkdir()
    m = Manifest.open(out)
    for it in items[:2]:
        for ext in (".glb", ".json", ".png"):
            (out / f"{it.name}{ext}").write_bytes(it.name.encode() + ext.encode())
        m.append(Record(it.name, it.line, it.prompt, "ok", sha256={f"{it.name}{e}": file_sha256(out / f"{it.name}{e}")
                                                                   for e in (".glb", ".json", ".png")},
                        seed=it.seed, config_hash=it.config_hash))
    m.append(Record("a_pirate", 3, "a pirate", "failed", "MemoryError: ", seed=0, config_hash=items[2].config_hash))
    assert _todo(items, m, out, retry_failed=False) == []
    assert [i.name for i in _todo(items, m, out, retry_failed=True)] == ["a_pirate"]
    (out / "a_wizard.png").write_bytes(b"edited")
    assert [i.name for i in _todo(items, m, out, retry_failed=False)] == ["a_wizard"]
    changed, _ = plan_items(read_prompts(p)[1], ItemDefaults("tiny", None, ["optim.steps=9"]))
    assert [i.name for i in _todo(changed, m, out, retry_failed=False)] == ["a_knight", "a_wizard", "a_pirate"]
    as_vrm, _ = plan_items(read_prompts(p)[1], ItemDefaults("tiny", None, [], "vrm"))
    assert [i.files[0] for i in as_vrm] == ["a_knight.vrm", "a_wizard.vrm", "a_pirate.vrm"]
    assert [i.name for i in _todo(as_vrm, m, out, retry_failed=False)] == ["a_knight", "a_wizard"]  # glb is not vrm
    with pytest.raises(InputError, match="--format 'fbx'"):
        plan_items(read_prompts(p)[1], ItemDefaults("tiny", None, [], "fbx"))


def test_clean_stale_removes_temp_files_and_staging(tmp_path):
    for n in (".a.glb.x1y2.tmp", ".b.png.tmp1234", "keep.glb", ".hidden", ".theirs.glb.x1y2.tmp"):
        (tmp_path / n).write_bytes(b"x")
    (tmp_path / ".batch-work" / "w0").mkdir(parents=True)
    clean_stale(tmp_path, ["a.glb", "b.png"])  # only temp files of the batch's own outputs
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden", ".theirs.glb.x1y2.tmp", "keep.glb"]


def test_index_lists_every_ok_item_and_escapes_prompts(tmp_path):
    recs = [Record(f"n{i}", i, f"knight {i}", "ok", timings={"wall": 1.0}, seed=0) for i in range(1, 4)]
    recs += [Record("evil", 4, '<script>alert("x")</script>', "ok", seed=0),
             Record(None, 5, "\x07", "failed", "prompt contains a control character <U+0007>")]
    page = write_index(tmp_path, recs).read_text()
    for r in recs[:4]:
        assert f'href="{r.name}.glb"' in page and f'src="{r.name}.png"' in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;U+0007&gt;" in page
    assert not list(tmp_path.glob(".*.tmp"))


# ------------------------------------------------------------------ failure isolation (no models)
class _Res:
    def __init__(self, out: Path, clip: float):
        for ext in (".glb", ".png"):
            out.with_suffix(ext).write_bytes(b"data" + ext.encode())
        self.sidecar = out.with_suffix(".json")
        self.sidecar.write_text(json.dumps({"export": {"path": str(out)}}))
        self.sidecar_data = {"clip_score": {"initial": 0.1, "final": clip}, "mesh": {"triangles": 10},
                             "timings_s": {"total": 0.1}}


class _Forge:
    def __init__(self, config):
        pass

    def generate(self, prompt, out, config):
        if "oom" in prompt:
            raise MemoryError("cannot allocate")
        return _Res(Path(out), math.nan if "nan" in prompt else 0.2)


@pytest.mark.parametrize("prompt,error", [("oom avatar", "MemoryError"), ("nan avatar", "FloatingPointError"),
                                          ("fine avatar", None)])
def test_produce_turns_any_failure_into_a_failed_outcome(tmp_path, prompt, error):
    (item,), _ = plan(write(tmp_path, "p.txt", prompt))
    cache = ForgeCache(_Forge)
    out = produce(cache, item, tmp_path / "stage", "test", with_bytes=True)
    if error:
        assert not out.ok and out.error.startswith(error) and not list((tmp_path / "stage").iterdir())
    else:
        assert out.ok and sorted(out.files) == sorted(out.sha256) == [f"{item.name}{e}" for e in
                                                                      (".glb", ".json", ".png")]
        assert "model_load" in out.timings and cache.get(item.config)[1] is None  # loaded once
        assert json.loads(out.files[f"{item.name}.json"])["export"]["path"] == f"{item.name}.glb"  # no staging path


def test_bad_flags_files_and_folders_exit_2(tmp_path, capsys):
    p = write(tmp_path, "p.txt", "a knight\n")
    assert main(["batch", str(p), "--out-dir", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert main(["batch", str(p), "--out-dir", str(tmp_path / "o"), "--ray-address", "auto"]) == 2
    assert main(["batch", str(p), "--out-dir", str(tmp_path / "o"), "--set", "optim.stepz=1"]) == 2
    assert main(["batch", str(tmp_path / "missing.txt"), "--out-dir", str(tmp_path / "o")]) == 2
    assert main(["batch", str(write(tmp_path, "e.txt", "# only a comment\n")), "--out-dir", str(tmp_path / "o")]) == 2
    assert main(["batch", str(p), "--out-dir", str(p)]) == 2
    assert main(["batch", str(tmp_path), "--out-dir", str(tmp_path / "o")]) == 2
    assert "not a regular file" in capsys.readouterr().err
    import fcntl

    (tmp_path / "busy").mkdir()
    fd = os.open(tmp_path / "busy", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as another batch in that folder would
    try:
        assert main(["batch", str(p), "--out-dir", str(tmp_path / "busy")]) == 2
    finally:
        os.close(fd)
    (tmp_path / "done").mkdir()
    Manifest.open(tmp_path / "done").append(Record("a_knight", 1, "a knight", "ok"))
    assert main(["batch", str(p), "--out-dir", str(tmp_path / "done")]) == 2
    assert "--resume" in capsys.readouterr().err
    # a value out of range fails before any item, and leaves no manifest that would demand --resume
    assert main(["batch", str(p), "--out-dir", str(tmp_path / "o2"), "--set", "export.animation=dance"]) == 2
    assert not (tmp_path / "o2" / MANIFEST).exists()
    # a new batch does not replace a file it did not write
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "a_knight.glb").write_bytes(b"someone else's avatar")
    assert main(["batch", str(p), "--out-dir", str(tmp_path / "theirs")]) == 2
    assert "a_knight.glb" in capsys.readouterr().err
    assert (tmp_path / "theirs" / "a_knight.glb").read_bytes() == b"someone else's avatar"


def test_ray_missing_gives_an_install_hint(monkeypatch):
    from pipeline.batch.ray_backend import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(InputError, match=r"pip install 'avatarforge\[ray\]'"):
        import_ray()


# ------------------------------------------------------------------ end to end
GOOD = [
    {"prompt": "a tall knight in a red tunic"},
    {"prompt": "a wizard in a purple robe", "seed": 3},
    {"prompt": "a knight in green plaid", "name": "../../escape"},
    {"prompt": "a tall knight in a red tunic"},
    {"prompt": "a ranger in a denim jacket", "set": "export.triangles=3000"},
    {"prompt": "a pirate in a striped shirt"},
    {"prompt": "a robot in silver armour", "name": "Robot One"},
    {"prompt": "a queen in a blue gown"},
]
EXPECTED = ["a_tall_knight_in_a_red_tunic", "a_wizard_in_a_purple_robe", "escape", "a_tall_knight_in_a_red_tunic_2",
            "a_ranger_in_a_denim_jacket", "a_pirate_in_a_striped_shirt", "robot_one", "a_queen_in_a_blue_gown"]
BAD_LINES = {3: {"prompt": "\u0007"}, 6: {"prompt": "a short dwarf", "set": ["optim.stepz=2"]}}


def prompts_file(tmp_path: Path) -> Path:
    rows, good = [], iter(GOOD)
    for line in range(1, 11):
        rows.append(json.dumps(BAD_LINES.get(line) or next(good)))
    return write(tmp_path, "prompts.jsonl", "\n".join(rows) + "\n")


def manifest_rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]  # every line must parse


def cli(*args) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "batch", *map(str, args)]


@pytest.fixture(scope="module")
def killed_then_resumed(tmp_path_factory):
    """Start a 2-worker batch, SIGKILL it after the first ok record, break the manifest's tail, resume."""
    import psutil

    tmp = tmp_path_factory.mktemp("batch")
    prompts, out = prompts_file(tmp), tmp / "out"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen(cli(prompts, "--out-dir", out, "--workers", 2, "--quiet", *FAST_ARGS), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if (out / MANIFEST).exists() and any(r["status"] == "ok" for r in manifest_rows(out)):
            break
        time.sleep(0.2)
    assert proc.poll() is None, f"batch ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, "workers outlived their killed driver"
    killed_ok = {r["name"] for r in manifest_rows(out) if r["status"] == "ok"}
    with open(out / MANIFEST, "ab") as f:
        f.write(b'{"name": "a_queen_in_a_blue_gown", "line": 10, "sta')  # as if killed mid-append
    (out / ".a_queen_in_a_blue_gown.glb.k3j.tmp").write_bytes(b"half a glb")
    t = time.time()
    done = subprocess.run(cli(prompts, "--out-dir", out, "--workers", 1, "--resume", *FAST_ARGS), env=env,
                          capture_output=True, text=True, timeout=420)
    return out, done, killed_ok, time.time() - t


@pytest.mark.slow
def test_batch_format_vrm_writes_valid_vrm_files(tmp_path, gltf_validator):
    from texture.gltf.validate import validate_many

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from vrm_rules import vrm_file_problems

    prompts = write(tmp_path, "p.txt", "a knight in a red tunic\na wizard in a purple robe\n")
    out = tmp_path / "out"
    assert main(["batch", str(prompts), "--out-dir", str(out), "--format", "vrm", "--quiet", *FAST_ARGS]) == 0
    names = ["a_knight_in_a_red_tunic", "a_wizard_in_a_purple_robe"]
    assert sorted(p.name for p in out.glob("*.vrm")) == [f"{n}.vrm" for n in names] and not list(out.glob("*.glb"))
    rows = manifest_rows(out)
    assert all(set(r["sha256"]) == {f"{r['name']}{e}" for e in (".vrm", ".json", ".png")} for r in rows)
    reports = validate_many([out / f"{n}.vrm" for n in names])
    assert [(r["issues"]["numErrors"], r["issues"]["numWarnings"]) for r in reports] == [(0, 0)] * 2
    assert [vrm_file_problems(out / f"{n}.vrm") for n in names] == [[], []]
    assert all(f'href="{n}.vrm"' in (out / "index.html").read_text() for n in names)


@pytest.mark.slow
def test_killed_batch_resumes_to_complete_valid_outputs(killed_then_resumed, gltf_validator):
    from texture.gltf.validate import validate_many

    out, done, killed_ok, _ = killed_then_resumed
    assert done.returncode == 1, done.stderr[-2000:]  # the two bad lines are failures
    assert "line 3" in done.stderr and "line 6" in done.stderr
    assert 1 <= len(killed_ok) < len(EXPECTED)
    rows = manifest_rows(out)
    failed = [r for r in rows if r["status"] == "failed"]
    assert sorted(r["line"] for r in failed) == [3, 6] and all(r["error"] for r in failed)
    ok = [r for r in rows if r["status"] == "ok"]
    assert sorted(r["name"] for r in ok) == sorted(EXPECTED)  # each good item finished exactly once
    assert sorted(p.stem for p in out.glob("*.glb")) == sorted(EXPECTED)
    for r in ok:
        assert {n: file_sha256(out / n) for n in r["sha256"]} == r["sha256"]
        assert set(r["sha256"]) == {f"{r['name']}{e}" for e in (".glb", ".json", ".png")}
    reports = validate_many([out / f"{n}.glb" for n in EXPECTED])
    assert [rep["issues"]["numErrors"] for rep in reports] == [0] * len(EXPECTED)
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [MARKER]  # no temp files, no staging
    page = (out / "index.html").read_text()
    assert all(f'href="{n}.glb"' in page for n in EXPECTED)
    assert json.loads((out / "escape.json").read_text())["seed"] == 0
    assert json.loads((out / "a_wizard_in_a_purple_robe.json").read_text())["seed"] == 3


@pytest.fixture(scope="session")
def local_ray():
    ray = pytest.importorskip("ray")
    from pipeline.batch.ray_backend import RAY_SLOW_START

    for var, value in RAY_SLOW_START.items():
        os.environ.setdefault(var, value)
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_backend_gives_the_same_outputs(killed_then_resumed, local_ray, tmp_path):
    local_out = killed_then_resumed[0]
    out = tmp_path / "ray"
    summary = run_batch(BatchConfig(str(prompts_file(tmp_path)), str(out), workers=2, backend="ray", quiet=True,
                                    defaults=ItemDefaults("tiny", None, FAST)))
    assert summary.exit_code == 1

    def statuses(d):
        return sorted((r["line"], r["name"], r["status"]) for r in manifest_rows(d))

    assert statuses(out) == statuses(local_out)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in local_out.iterdir())
