"""The web app's settings."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServeConfig:
    """How ``avatarforge serve`` listens, where it writes, and what it accepts."""

    host: str = "127.0.0.1"
    """Address to bind. Anything but a loopback address serves everyone who can reach it (a warning is printed)."""
    port: int = 7860
    """TCP port (0 picks a free one)."""
    preset: str = "cpu"
    """Preset the models are loaded for and the page starts with."""
    out_dir: str = "avatars/web"
    """Folder the avatars, uploads and batches go in (created); the only folder downloads are served from."""
    libraries: list[str] = field(default_factory=list)
    """Texture library folders offered in the page besides the shipped swatches (indexed on first use)."""
    max_upload_bytes: int = 20 * 1024 * 1024
    """Largest reference image or prompts file accepted."""
    max_prompt_chars: int = 1000
    """Longest prompt accepted (the text encoder reads far fewer tokens than that)."""
    max_steps: int = 2000
    """Most refinement steps a request may ask for."""
    max_queue: int = 32
    """Most requests waiting at once; more get 429."""
    max_pixels: int = 40_000_000
    """Decompression-bomb guard for uploaded images (as ``reference.max_pixels`` for ``--image``)."""

    def validate(self) -> None:
        from pipeline.inputs import InputError

        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise InputError(f"--port {self.port}: expected a number from 0 to 65535")
        for name in ("max_upload_bytes", "max_prompt_chars", "max_steps", "max_queue", "max_pixels"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1")
        if not self.host:
            raise InputError("--host is empty")

    @property
    def public(self) -> bool:
        """Whether the server binds beyond this machine."""
        return self.host not in ("127.0.0.1", "localhost", "::1") and not self.host.startswith("127.")
