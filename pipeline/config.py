"""GenerateConfig: one section per component, resolved from a preset, a YAML file and overrides.

    cfg = resolve_config(preset="cpu", config_file=None, overrides=["optim.steps=10"])

The resolved config (as a dict) is saved in every avatar's sidecar, so any asset can be
reproduced with ``--config sidecar_config.yaml``.
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field

from nerf.fields.config import FieldConfig
from nerf.generator import GeneratorConfig
from nerf.mesh import MeshConfig
from nerf.render import RenderConfig
from pipeline.config_io import apply_dict, apply_override, check_tree, load_config_file, load_preset
from pipeline.fusion import FusionConfig
from pipeline.guidance.config import GuidanceConfig
from pipeline.refine import OptimConfig
from texture.gltf.config import ExportConfig
from texture.texturer import TextureConfig

DEFAULT_PRESET = "cpu"
#: Sections read when the models load (the CLIP model, the fusion and generator architectures): a loaded
#: ``AvatarForge`` serves only configs that agree with its own on these.
LOAD_TIME_SECTIONS = ("model", "fusion", "generator")


@dataclass
class ModelConfig:
    """Which CLIP model encodes text and images."""

    clip_model: str = ""
    """open_clip model name; empty = the embedded default (avatarforge-vit16-minilm)."""
    clip_pretrained: str = ""
    """Pretrained tag (e.g. openai) or a local weights file; empty = the shipped weights."""
    device: str = "auto"
    """auto, cpu or cuda."""
    text_tower: str = "auto"
    """How the embedded default model reads a prompt: ``minilm`` (the English MiniLM tower it was trained with),
    ``e5`` (multilingual-e5-small through a head distilled into the same text space: any language e5 knows) or
    ``auto`` (MiniLM for a prompt in English, e5 for any other). A ``clip_model`` of the user's reads text with
    its own tower (``auto`` or ``minilm`` only)."""

    def check(self) -> None:
        from pipeline.encoders.language import TEXT_TOWERS

        if self.text_tower not in TEXT_TOWERS:
            raise ValueError(f"text_tower={self.text_tower!r}: one of {', '.join(TEXT_TOWERS)}")
        if self.text_tower == "e5" and self.clip_model and self.clip_model != "avatarforge-vit16-minilm":
            raise ValueError(f"text_tower=e5 maps text into the embedded default model's space, not "
                             f"{self.clip_model!r}'s: use auto or minilm with a clip_model of your own")


@dataclass
class ReferenceConfig:
    """The reference image: the user's --image, or the best CLIP match in the texture library."""

    max_pixels: int = 40_000_000
    """Larger images are refused (decompression-bomb guard); at most 100000000."""
    use_library: bool = True
    """Without --image, use the best-matching library image as the reference."""
    library_needs_colour: bool = True
    """Use the library match only for a prompt that names a colour or a material (in any language of the
    grammar): for one that names none ("someone") the match is arbitrary, and the generator would read its
    colour as if the prompt had named it (a purple knit gave "someone" a purple shirt)."""

    def check(self) -> None:
        if self.max_pixels < 1:
            raise ValueError(f"max_pixels={self.max_pixels}: at least 1")


@dataclass
class GenerateConfig:
    """Everything ``avatarforge generate`` needs; sections are components."""

    seed: int = 0
    """Random seed; the same seed gives the same mesh on CPU."""
    model: ModelConfig = _field(default_factory=ModelConfig)
    reference: ReferenceConfig = _field(default_factory=ReferenceConfig)
    fusion: FusionConfig = _field(default_factory=FusionConfig)
    generator: GeneratorConfig = _field(default_factory=GeneratorConfig)
    field: FieldConfig = _field(default_factory=FieldConfig)
    prior_resolution: int = 96
    """Resolution (along the height) of the grid the template prior is baked into; 16 to 384."""
    render: RenderConfig = _field(default_factory=RenderConfig)
    guidance: GuidanceConfig = _field(default_factory=GuidanceConfig)
    optim: OptimConfig = _field(default_factory=OptimConfig)
    mesh: MeshConfig = _field(default_factory=MeshConfig)
    texture: TextureConfig = _field(default_factory=TextureConfig)
    export: ExportConfig = _field(default_factory=ExportConfig)

    def check(self) -> None:
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed={self.seed}: 0 <= seed < 2**63")
        if self.prior_resolution < 16:
            raise ValueError(f"prior_resolution={self.prior_resolution}: at least 16")
        from pipeline.limits import check_limits

        check_limits(self)  # every size-like key within what the pipeline can honour (pipeline.limits.LIMITS)


def resolve_config(preset: str | None = None, config_file: str | None = None,
                   overrides: list[str] | tuple[str, ...] = ()) -> GenerateConfig:
    """Defaults < preset < config file (YAML, or a sidecar JSON) < ``key.path=value`` overrides."""
    cfg = GenerateConfig()
    apply_dict(cfg, load_preset(preset or DEFAULT_PRESET))
    if config_file:
        apply_dict(cfg, load_config_file(config_file))
    for o in overrides:
        apply_override(cfg, o)
    check_tree(cfg)
    return cfg


def load_key(config: GenerateConfig) -> str:
    """The load-time sections of ``config`` (``LOAD_TIME_SECTIONS``) as a canonical string."""
    import json
    from dataclasses import asdict

    return json.dumps({s: asdict(getattr(config, s)) for s in LOAD_TIME_SECTIONS}, sort_keys=True)
