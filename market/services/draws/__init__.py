"""Stall draws (摇号): rounds, applications, the verifiable draw, its public proof."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["applications", "canonical", "drawing", "public", "rounds", "seal"]
