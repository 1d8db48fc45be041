"""The guide's shift: the board of stalls, incidents, and cash handed over to a cadre."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["board", "handovers", "incidents"]
