"""Vendors (摊主): registration, a cadre's decisions, and the vendor pass a guide scans."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["passes", "registry"]
