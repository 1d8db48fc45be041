"""Operating the installation: backup and restore of the whole database."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["backup"]
