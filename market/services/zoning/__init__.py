"""Stall zoning: markets, zones and stalls on the map grid, and their QR posters."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["layout", "places", "qr"]
