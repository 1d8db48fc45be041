"""The community governance fund: projects, deliberation (meetings, household ballots), money
following the decision, the public summary."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["ballots", "codes", "decisions", "money", "projects"]
