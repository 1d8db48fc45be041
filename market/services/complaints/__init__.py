"""Complaints from the public: filing and following them, abuse controls, and their figures."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["codes", "filing", "guard", "stats"]
