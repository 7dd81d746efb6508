"""The texture library: scan and index image folders with CLIP, split prompts into regions,
retrieve the best images per region."""
from texture.library.store import DEFAULT_LIBRARY, TextureLibrary, default_index_path, open_library

__all__ = ["DEFAULT_LIBRARY", "TextureLibrary", "default_index_path", "open_library"]
