"""CLIP encoders: the embedded models and open_clip weights, behind one ClipEncoder."""
