"""The public notice board (公示): what residents may see without logging in."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["notice"]
