"""Market sessions (the tide): templates and the plan, the scheduler's reconcile, a cadre's
actions, closures, and what closing does to the evening's trade."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = [
    "actions",
    "clockguard",
    "closures",
    "notes",
    "owing",
    "plan",
    "takings",
    "templates",
    "tide",
]
