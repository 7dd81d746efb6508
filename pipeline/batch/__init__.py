"""Batch generation: parse a prompt file, run items on local workers or Ray, manifest and report."""
