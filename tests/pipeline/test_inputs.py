"""Bad input is refused with a message that names it."""
import os
import struct
import zlib

import pytest
import torch

from pipeline.inputs import InputError, check_output, clean_prompt, load_image, resolve_device, safe_name


@pytest.mark.parametrize("bad", ["", "   ", "\n\t"])
def test_empty_prompt(bad):
    with pytest.raises(InputError, match="empty"):
        clean_prompt(bad)


def test_control_characters_and_whitespace():
    with pytest.raises(InputError, match="U\\+0007"):
        clean_prompt("a knight\x07 in red")
    assert clean_prompt("  a knight\n in  red ") == "a knight in red"


def test_output_path(tmp_path):
    with pytest.raises(InputError, match=r"\.glb"):
        check_output(tmp_path / "a.obj")
    assert check_output(tmp_path / "new" / "deeper" / "a.glb").parent.is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot create output folder"):
        check_output(blocker / "a.glb")
    assert not [p for p in tmp_path.rglob(".avatarforge-probe-*")]  # the write probe cleans up


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_a_folder_that_refuses_files_is_caught_before_the_pipeline_runs():
    """os.access tells root that /proc is writable; only a real write finds out (the run used to fail
    at its very end, after the whole pipeline)."""
    with pytest.raises(InputError, match="not writable"):
        check_output("/proc/avatarforge-test.glb")


def png_header(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    def chunk_bytes(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk_bytes(b"IHDR", ihdr) + chunk_bytes(b"IDAT", zlib.compress(b"")) + \
        chunk_bytes(b"IEND", b"")


def test_reference_images(tmp_path):
    from PIL import Image

    with pytest.raises(InputError, match="not found"):
        load_image(tmp_path / "missing.png")
    txt = tmp_path / "notes.png"
    txt.write_text("not an image")
    with pytest.raises(InputError, match="not an image"):
        load_image(txt)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(30000, 30000))
    with pytest.raises(InputError, match="large"):
        load_image(bomb)
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), (200, 10, 10)).save(good)
    trunc = tmp_path / "trunc.png"
    trunc.write_bytes(good.read_bytes()[:60])
    with pytest.raises(InputError, match="truncated|corrupt|not an image"):
        load_image(trunc)
    assert load_image(good).size == (64, 64)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_cuda_without_cuda():
    with pytest.raises(InputError, match="CUDA is not available"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"
    with pytest.raises(InputError, match="unknown device"):
        resolve_device("tpu")


def test_safe_name_never_leaves_the_folder():
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("Ünïcode knight!") == "unicode_knight"
    assert safe_name("///").startswith("avatar_")
    # nothing ASCII to keep: a hash of the prompt keeps two such avatars apart
    assert safe_name("日本の侍") != safe_name("🔥🔥🔥") and safe_name("日本の侍") == safe_name("日本の侍")
    assert [safe_name(n) for n in ("con", "Aux", "lpt1", "console")] == ["con_", "aux_", "lpt1_", "console"]
