"""Evaluation: zero-shot accuracy, retrieval and CLIP R-precision of the generate path."""
