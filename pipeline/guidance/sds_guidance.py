"""Score distillation sampling (DreamFusion) with a local Stable Diffusion through diffusers.

    avatarforge generate "..." --guidance sds --sd-model /models/sd15 --set guidance.sds.guidance_scale=50

Per step: the rendered views are resized to ``latent_size * vae_factor`` pixels and encoded
by the VAE into latents z; a timestep t ~ U[t_min, t_max] and noise eps give
z_t = sqrt(a_t) z + sqrt(1 - a_t) eps; the frozen UNet predicts the noise for the prompt
and for the empty prompt, mixed with classifier-free guidance; the SDS gradient
w(t) (eps_pred - eps) with w(t) = 1 - a_t is applied to z (the UNet is not differentiated)
and flows back through the VAE encoder to the renders and the field.

The folder is a diffusers pipeline folder (``unet/``, ``vae/``, ``text_encoder/``,
``tokenizer/``, ``scheduler/``), read with ``local_files_only``: nothing is downloaded.
diffusers is optional (``pip install 'avatarforge[diffusion]'``) and imported on use.
The CLIP score logged per step (early stopping, progress, sidecar) still comes from the
CLIP encoder when one is given, so runs stay comparable with ``clip`` guidance.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from pipeline.guidance.base import TransmittanceRegulariser
from pipeline.inputs import InputError

if TYPE_CHECKING:
    from pipeline.guidance.config import GuidanceConfig, SDSSettings

PARTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
HOW = ("pass a local Stable Diffusion folder in diffusers layout (unet/, vae/, text_encoder/, tokenizer/, "
       "scheduler/) with --sd-model DIR (or --set guidance.sd_model=DIR)")


@dataclass
class SDComponents:
    """The frozen parts of a Stable Diffusion pipeline that SDS needs."""

    unet: object
    vae: object
    text_encoder: object
    tokenizer: object
    scheduler: object

    @classmethod
    def load(cls, folder: str, device: torch.device, dtype: torch.dtype = torch.float32) -> "SDComponents":
        """Read a diffusers folder; bad or missing folders raise :class:`InputError` saying what to pass."""
        root = check_folder(folder)
        diffusers = import_diffusers()
        from transformers import CLIPTextModel, CLIPTokenizer

        kw = {"local_files_only": True}
        try:
            unet = diffusers.UNet2DConditionModel.from_pretrained(root, subfolder="unet", torch_dtype=dtype, **kw)
            vae = diffusers.AutoencoderKL.from_pretrained(root, subfolder="vae", torch_dtype=dtype, **kw)
            text = CLIPTextModel.from_pretrained(root / "text_encoder", torch_dtype=dtype, **kw)
            tok = CLIPTokenizer.from_pretrained(root / "tokenizer", **kw)
            sched = diffusers.DDPMScheduler.from_pretrained(root, subfolder="scheduler", **kw)
        except (OSError, ValueError) as e:
            raise InputError(f"guidance.sd_model {folder!r} could not be read as a diffusers folder "
                             f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); {HOW}") from e
        return cls(unet.to(device), vae.to(device), text.to(device), tok, sched)


def check_folder(folder: str) -> Path:
    """The Stable Diffusion folder as a Path, or :class:`InputError` naming what is wrong and what to pass."""
    if not folder:
        raise InputError(f"guidance.kind=sds needs Stable Diffusion weights and guidance.sd_model is empty; {HOW}")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise InputError(f"guidance.sd_model {folder!r} is not a folder; {HOW}")
    missing = [p for p in PARTS if not (root / p).is_dir()]
    if missing:
        raise InputError(f"guidance.sd_model {folder!r} lacks {', '.join(p + '/' for p in missing)}; {HOW}")
    return root


def import_diffusers():
    try:
        import diffusers
    except ImportError as e:
        raise ImportError("sds guidance needs diffusers: pip install 'avatarforge[diffusion]'") from e
    return diffusers


class SDSGuidance:
    """Score distillation from a frozen text-to-image diffusion model."""

    def __init__(self, config: "GuidanceConfig", encoder=None, text: Tensor | None = None, image: Tensor | None = None,
                 generator: torch.Generator | None = None, prompt: str | None = None,
                 components: SDComponents | None = None, settings: SDSSettings | None = None,
                 device: str | torch.device | None = None):
        if components is None:
            check_folder(config.sd_model)
        if prompt is None:
            raise InputError("sds guidance needs the prompt text (make_guidance(..., prompt=...))")
        self.config = config
        self.sparsity = TransmittanceRegulariser(config)
        self.settings = settings or config.sds
        self.encoder = encoder
        self.device = torch.device(device or (encoder.device if encoder is not None else "cpu"))
        self.text = None if text is None else F.normalize(text.to(self.device).float(), dim=-1)
        self.gen = generator or torch.Generator().manual_seed(0)
        dtype = torch.float16 if self.device.type == "cuda" and self.settings.half_on_cuda else torch.float32
        sd = components or SDComponents.load(config.sd_model, self.device, dtype)
        for m in (sd.unet, sd.vae, sd.text_encoder):
            m.eval().requires_grad_(False)
        self.sd, self.dtype = sd, next(sd.unet.parameters()).dtype
        self.vae_factor = 2 ** (len(sd.vae.config.block_out_channels) - 1)
        self.scaling = float(getattr(sd.vae.config, "scaling_factor", 0.18215))
        n_t = int(sd.scheduler.config.num_train_timesteps)
        self.t_range = (int(self.settings.t_min * n_t), max(int(self.settings.t_min * n_t) + 1,
                                                           int(self.settings.t_max * n_t)))
        self.alphas = sd.scheduler.alphas_cumprod.to(self.device, torch.float32)
        self.embeddings = self._embed([prompt, ""])  # [2, L, C]: cond, uncond

    @torch.no_grad()
    def _embed(self, texts: list[str]) -> Tensor:
        tok = self.sd.tokenizer
        n = min(int(getattr(tok, "model_max_length", 77)), 77)
        ids = tok(texts, padding="max_length", max_length=n, truncation=True, return_tensors="pt").input_ids
        return self.sd.text_encoder(ids.to(self.device))[0].to(self.dtype)

    def _rand(self, *shape) -> Tensor:
        return torch.randn(*shape, generator=self.gen).to(self.device)

    def encode(self, images: Tensor) -> Tensor:
        """Latents Float[V, 4, L, L] of views Float[V, S, S, 3] in [0, 1] (differentiable)."""
        side = self.settings.latent_size * self.vae_factor
        x = images.permute(0, 3, 1, 2).to(self.device)
        x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)
        post = self.sd.vae.encode((x * 2 - 1).to(self.dtype)).latent_dist
        z = post.mean + post.std * self._rand(*post.mean.shape).to(post.mean.dtype)
        return z * self.scaling

    def sds_grad(self, latents: Tensor) -> tuple[Tensor, int]:
        """w(t) (eps_pred - eps) for detached ``latents`` at one random timestep, and that timestep."""
        b = latents.shape[0]
        t = int(torch.randint(self.t_range[0], self.t_range[1] + 1, (1,), generator=self.gen))
        noise = self._rand(*latents.shape).to(latents.dtype)
        ts = torch.full((b,), t, device=self.device, dtype=torch.long)
        with torch.no_grad():
            noisy = self.sd.scheduler.add_noise(latents, noise, ts)
            cond, uncond = self.embeddings[:1].expand(b, -1, -1), self.embeddings[1:].expand(b, -1, -1)
            eps = self.sd.unet(torch.cat([noisy, noisy]), torch.cat([ts, ts]),
                               encoder_hidden_states=torch.cat([cond, uncond])).sample
            eps_c, eps_u = eps.chunk(2)
            eps_pred = eps_u + self.settings.guidance_scale * (eps_c - eps_u)
        w = 1 - self.alphas[t]
        return torch.nan_to_num(w * (eps_pred.float() - noise.float())), t

    def score(self, images: Tensor) -> Tensor:
        """CLIP similarity of views to the prompt (0 without a CLIP encoder)."""
        if self.encoder is None or self.text is None:
            return torch.zeros(())
        with torch.no_grad():
            return (self.encoder.encode_image_tensor(images.permute(0, 3, 1, 2)) @ self.text).mean()

    def loss(self, images: Tensor, acc: Tensor) -> tuple[Tensor, dict]:
        latents = self.encode(images).float()
        grad, t = self.sds_grad(latents.detach())
        # d/dz of 0.5 |z - sg(z - g)|^2 is g: the SDS gradient, without differentiating the UNet
        loss = 0.5 * F.mse_loss(latents, (latents - grad).detach(), reduction="sum") / latents.shape[0]
        sparsity, trans = self.sparsity(acc)
        loss = loss + sparsity
        return loss, {"clip_score": float(self.score(images.detach())), "transmittance": float(trans.detach()),
                      "sds_t": t, "sds_grad_norm": float(grad.norm())}
