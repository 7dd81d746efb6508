"""Reading a weights file the user brings: safetensors, or a PyTorch state dict (``.pt``/``.pth``/``.bin``)
loaded with ``weights_only=True``. Nothing is ever unpickled beyond plain tensors, and every problem is said
in the project's own words on one line (never torch's advice to retry with ``weights_only=False``).
"""
from __future__ import annotations

from pathlib import Path

import torch

SAFETENSORS = (".safetensors",)
PICKLED = (".pt", ".pth", ".bin", ".ckpt")
MAX_WEIGHTS_BYTES = 8 << 30
"""Largest weights file read (8 GiB: ViT-L/14 is 1.7 GB; the embedded default 6 MB)."""


class WeightsError(ValueError):
    """A model or weights that cannot be loaded: an unknown model name, or a weights file that is missing,
    corrupt, or does not match the model."""


def read_state_dict(path: str | Path, flag: str = "--clip-pretrained") -> dict[str, torch.Tensor]:
    """The tensors of a weights file, checked: a regular file (a FIFO or device is refused unopened) of a
    known suffix, readable as plain tensors, every floating value finite. ``{"state_dict": ...}`` wrappers
    and DataParallel's ``module.`` prefix are undone."""
    from texture.atomic import NotARegularFile, file_kind, open_regular

    p = Path(path).expanduser()
    kind = file_kind(p)
    if kind == "missing":
        raise WeightsError(f"{flag} {str(path)!r}: weights file not found")
    if kind is not None:
        raise WeightsError(f"{flag} {str(path)!r} is {kind}, not a weights file")
    suffix = p.suffix.lower()
    if suffix not in SAFETENSORS + PICKLED:
        raise WeightsError(f"{flag} {str(path)!r}: expected a .safetensors (or .pt/.pth/.bin) weights file")
    if p.stat().st_size > MAX_WEIGHTS_BYTES:
        raise WeightsError(f"{flag} {str(path)!r} is {p.stat().st_size >> 20} MiB; weights files are at most "
                           f"{MAX_WEIGHTS_BYTES >> 30} GiB")
    try:
        if suffix in SAFETENSORS:
            state = _read_safetensors(p)
        else:
            with open_regular(p) as fh:
                state = torch.load(fh, map_location="cpu", weights_only=True)
    except NotARegularFile as e:
        raise WeightsError(f"{flag} {str(path)!r} is {e.kind}, not a weights file") from None
    except WeightsError:
        raise
    except Exception as e:  # noqa: BLE001 - torch and safetensors raise many kinds for a bad file
        raise WeightsError(f"{flag} {str(path)!r} is not a readable {_what(suffix)}: {_why(e, suffix)}") from None
    state = _unwrap(state, p, flag)
    for k, v in state.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise WeightsError(f"{flag} {str(path)!r}: tensor {k!r} holds NaN or infinite values; the file is "
                               "damaged or from a diverged training run")
    return state


def _read_safetensors(p: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(p), device="cpu")  # memory-mapped; read_state_dict checked it is a regular file


def _what(suffix: str) -> str:
    return "safetensors file" if suffix in SAFETENSORS else "PyTorch weights file"


def _why(e: Exception, suffix: str) -> str:
    msg = str(e)
    if suffix in PICKLED and ("weights_only" in msg or "Unsupported global" in msg or "UnpicklingError" in
                              type(e).__name__):
        return ("it holds Python objects besides tensors, which avatarforge never unpickles; save a plain "
                "state dict (torch.save(model.state_dict(), ...)) or convert it to .safetensors")
    if suffix in PICKLED and ("zip" in msg.lower() or "magic number" in msg or isinstance(e, EOFError)):
        return "the file is truncated or not a PyTorch checkpoint"
    first = " ".join(msg.split())[:160]
    return first or type(e).__name__


def _unwrap(state, p: Path, flag: str) -> dict[str, torch.Tensor]:
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state:
        raise WeightsError(f"{flag} {str(p)!r} holds no named tensors (got {type(state).__name__})")
    bad = [k for k, v in state.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(f"{flag} {str(p)!r}: entry {bad[0]!r} is not a tensor; expected a state dict of tensors")
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def mismatch(model: torch.nn.Module, state: dict, optional_prefix: str = "") -> str | None:
    """What differs between ``state`` and ``model``'s parameters (keys and shapes), in one line; None when
    they match. Keys under ``optional_prefix`` may be absent (a locked, package-provided tower)."""
    own = model.state_dict()
    missing = [k for k in own if k not in state and not (optional_prefix and k.startswith(optional_prefix))]
    unexpected = [k for k in state if k not in own]
    bad = [k for k in state if k in own and tuple(state[k].shape) != tuple(own[k].shape)]
    detail = []
    if missing:
        detail.append(f"missing {len(missing)} tensors (e.g. {missing[0]})")
    if unexpected:
        detail.append(f"{len(unexpected)} unexpected tensors (e.g. {unexpected[0]})")
    if bad:
        k = bad[0]
        detail.append(f"{len(bad)} shape mismatches (e.g. {k}: file {tuple(state[k].shape)} "
                      f"vs model {tuple(own[k].shape)})")
    return "; ".join(detail) or None
