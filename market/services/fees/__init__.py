"""Fees: which rule is in force for a check-in, relief and monthly passes."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["rules"]
